//! Feature ids: MapLibre's feature-state (hover, selection) addresses a
//! feature by layer and numeric id, so ids must be distinct within a layer,
//! stable across reloads, and exact as JavaScript numbers (< 2^53).

use std::collections::HashSet;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of a byte sequence.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// Folds a hash into [2^51, 2^52): above every number of at most 15 digits
/// (10^15 < 2^50) and exact in JavaScript.
fn high(h: u64) -> u64 {
    (1 << 51) | (h & ((1 << 51) - 1))
}

/// The code as its own id, when that is unambiguous: at most 15 ASCII
/// digits (every DB11/T 2157 code is), and the number prints back as the
/// code — `007` does not (it would share id 7 with the code `7`).
fn numeric_id(code: &str) -> Option<u64> {
    let digits = !code.is_empty() && code.len() <= 15 && code.bytes().all(|b| b.is_ascii_digit());
    let round_trips = code == "0" || !code.starts_with('0');
    (digits && round_trips).then(|| code.parse().expect("at most 15 digits fit in u64"))
}

/// A stable numeric feature id for a grid code: the code itself when it is a
/// number of at most 15 digits without leading zeros, so a map can join on
/// it; otherwise a 64-bit FNV-1a hash of the code folded into [2^51, 2^52),
/// which no 15-digit number reaches. Distinct numeric codes thus always get
/// distinct ids; two hashed codes collide with odds of about 2^-51 per pair,
/// and [`GridIds`] resolves even that.
pub fn grid_feature_id(code: &str) -> u64 {
    numeric_id(code).unwrap_or_else(|| high(fnv1a(code.bytes())))
}

/// Hands out grid feature ids for one grid system (whose codes are unique),
/// guaranteeing distinct codes distinct ids: [`grid_feature_id`], and in the
/// (2^-51-rare) event that a hash is already taken, the hash of the code
/// with a counter appended until a free one is found. Codes are offered in
/// store order, so the outcome is the same on every reload of the same data.
#[derive(Debug, Default)]
pub struct GridIds {
    taken: HashSet<u64>,
}

impl GridIds {
    /// The id of `code`; call once per code.
    pub fn assign(&mut self, code: &str) -> u64 {
        let mut id = grid_feature_id(code);
        let mut salt = 0u32;
        while !self.taken.insert(id) {
            salt += 1;
            let salted = code
                .bytes()
                .chain(*b"#")
                .chain(salt.to_string().into_bytes());
            id = high(fnv1a(salted));
        }
        id
    }
}

/// A stable numeric feature id for a site: the 64-bit FNV-1a hash of
/// `kind/id` folded into [2^51, 2^52), so ids are exact in JavaScript and
/// stay the same across reloads. Kinds never contain `/`, so distinct
/// (kind, id) pairs hash distinct strings; collisions are possible but rare
/// (about 1 in 9,000 for a million sites) and only affect feature-state.
pub fn site_feature_id(kind: &str, id: &str) -> u64 {
    high(fnv1a(kind.bytes().chain(*b"/").chain(id.bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_ids_are_codes_or_high_hashes() {
        assert_eq!(grid_feature_id("330106001001001"), 330_106_001_001_001);
        assert_eq!(grid_feature_id("7"), 7);
        assert_eq!(grid_feature_id("0"), 0);
        let h = grid_feature_id("A-17");
        assert!((1 << 51..1 << 52).contains(&h));
        assert_eq!(h, grid_feature_id("A-17"), "stable");
        assert_ne!(h, grid_feature_id("A-18"));
        assert!(
            grid_feature_id("1234567890123456") >= 1 << 51,
            "16 digits are hashed"
        );
    }

    #[test]
    fn codes_with_leading_zeros_do_not_share_the_number_id() {
        let ids: Vec<u64> = ["007", "7", "07", "0", "00"]
            .iter()
            .map(|c| grid_feature_id(c))
            .collect();
        let distinct: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        assert!(grid_feature_id("007") >= 1 << 51, "hashed, not parsed");
    }

    #[test]
    fn grid_ids_resolve_a_taken_id() {
        let mut ids = GridIds::default();
        let first = ids.assign("A-17");
        assert_eq!(first, grid_feature_id("A-17"));
        // Offering the same code again stands in for a hash collision.
        let second = ids.assign("A-17");
        assert_ne!(second, first);
        assert!((1 << 51..1 << 52).contains(&second));
        assert_eq!(ids.assign("12"), 12);
    }

    #[test]
    fn site_ids_are_stable_high_hashes() {
        let a = site_feature_id("address", "A000001");
        assert!((1 << 51..1 << 52).contains(&a));
        assert_eq!(a, site_feature_id("address", "A000001"));
        assert_ne!(a, site_feature_id("school", "A000001"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(site_feature_id("ab", "c"), site_feature_id("a", "bc"));
    }
}
