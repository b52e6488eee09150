//! Feature properties as every import reads them.

use serde_json::{Map, Value};

/// A string or number property as text; `None` when absent, null or blank.
/// `key` names the property in the message.
pub(crate) fn text(value: Option<&Value>, key: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(match n.as_f64() {
            // 330106001001.0 from a spreadsheet or DBF is the code 330106001001.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                format!("{}", f as i64)
            }
            _ => n.to_string(),
        })),
        Some(other) => Err(format!(
            "property `{key}` must be a string or number, found {other}"
        )),
    }
}

/// The property `key` of `properties` as [`text`].
pub(crate) fn text_of(
    properties: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, String> {
    text(properties.get(key), key)
}

/// A CSV cell as a property: trimmed text, null when blank.
pub(crate) fn cell_value(cell: &str) -> Value {
    match cell.trim() {
        "" => Value::Null,
        text => Value::String(text.to_string()),
    }
}

/// A cell of a grid CSV as an attribute, reading back what `gridmap export
/// --format csv` writes: `None` for a blank cell (no attribute, as an empty
/// GeoPackage or FlatGeobuf cell), a number when the cell is a number
/// written canonically (`1000`, `0.25`, not `0012` or `1e3`, which stay
/// text), `true`/`false`, a JSON array or object when the cell is one, and
/// trimmed text otherwise. Codes stay codes: [`text`] turns a number back
/// into the same digits.
pub(crate) fn typed_cell_value(cell: &str) -> Option<Value> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    let json = || serde_json::from_str::<Value>(cell).ok();
    Some(match cell.as_bytes()[0] {
        b'[' | b'{' => json()
            .filter(|v| v.is_array() || v.is_object())
            .unwrap_or_else(|| Value::String(cell.into())),
        b'-' | b'0'..=b'9' => json()
            .filter(|v| v.is_number() && serde_json::to_string(v).is_ok_and(|t| t == cell))
            .unwrap_or_else(|| Value::String(cell.into())),
        _ if cell == "true" || cell == "false" => Value::Bool(cell == "true"),
        _ => Value::String(cell.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_cells_read_back_what_the_csv_export_writes() {
        for (cell, want) in [
            ("", None),
            ("  ", None),
            ("1000", Some(json!(1000))),
            ("0.25", Some(json!(0.25))),
            ("-3", Some(json!(-3))),
            ("0012", Some(json!("0012"))),
            ("1e3", Some(json!("1e3"))),
            ("330106001001", Some(json!(330_106_001_001_u64))),
            ("true", Some(json!(true))),
            ("[120.5,29.5]", Some(json!([120.5, 29.5]))),
            (r#"{"a":1}"#, Some(json!({"a": 1}))),
            ("[not json", Some(json!("[not json"))),
            (" 文新街道 ", Some(json!("文新街道"))),
        ] {
            assert_eq!(typed_cell_value(cell), want, "{cell:?}");
        }
        let code = typed_cell_value("330106001001").unwrap();
        assert_eq!(
            text(Some(&code), "code").unwrap().as_deref(),
            Some("330106001001")
        );
    }

    #[test]
    fn text_of_strings_numbers_and_other_values() {
        let props = json!({"a": " x ", "b": "  ", "c": 330106001001.0, "d": 1.5, "e": 7, "f": [1], "g": null});
        let props = props.as_object().unwrap();
        assert_eq!(text_of(props, "a"), Ok(Some("x".into())));
        assert_eq!(text_of(props, "b"), Ok(None));
        assert_eq!(text_of(props, "c"), Ok(Some("330106001001".into())));
        assert_eq!(text_of(props, "d"), Ok(Some("1.5".into())));
        assert_eq!(text_of(props, "e"), Ok(Some("7".into())));
        assert_eq!(
            text_of(props, "f"),
            Err("property `f` must be a string or number, found [1]".into())
        );
        assert_eq!(text_of(props, "g"), Ok(None));
        assert_eq!(text_of(props, "missing"), Ok(None));
    }

    #[test]
    fn cells_are_trimmed_and_blank_is_null() {
        assert_eq!(cell_value(" 文一路 "), json!("文一路"));
        assert_eq!(cell_value("   "), Value::Null);
    }
}
