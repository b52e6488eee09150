//! How deeply a WKT text nests its brackets, checked before parsing it.
//!
//! The WKT parsers (the `wkt` crate for geometries, `crs::prj` for `.prj`
//! files) recurse once per bracket level; 10,000 nested
//! `GEOMETRYCOLLECTION(` overflowed the stack and aborted the process with no
//! message. Real texts stay shallow (a multipolygon is 3 levels, a WKT2
//! projected CRS under 10), so anything past [`MAX_NESTING`] is refused
//! before any parser sees it.
//!
//! ```
//! use gridmap_data::nesting::{deepest, MAX_NESTING};
//! assert_eq!(deepest("MULTIPOLYGON(((0 0,1 0,1 1,0 0)))"), 3);
//! assert!(deepest(&"GEOMETRYCOLLECTION(".repeat(10_000)) > MAX_NESTING);
//! ```

/// Deepest bracket level a WKT text may reach.
pub const MAX_NESTING: usize = 32;

/// The deepest level of `(` and `[` brackets in `text` (unbalanced closing
/// brackets are left to the parser to report).
pub fn deepest(text: &str) -> usize {
    let mut depth = 0usize;
    let mut max = 0;
    for b in text.bytes() {
        match b {
            b'(' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `Err` with the reason when `text` nests deeper than [`MAX_NESTING`].
pub fn check(text: &str) -> Result<(), String> {
    let depth = deepest(text);
    if depth > MAX_NESTING {
        Err(format!(
            "brackets nested {depth} levels deep (at most {MAX_NESTING} are read)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_deeply_nested_prj_is_refused_before_parsing() {
        let deep = format!("{}{}", "GEOGCS[".repeat(10_000), "]".repeat(10_000));
        let err = crate::crs::Crs::from_prj(&deep).unwrap_err().to_string();
        assert!(err.contains("nested 10000 levels"), "{err}");
    }
}
