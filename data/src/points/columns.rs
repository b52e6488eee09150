//! Which CSV columns and JSON keys hold the coordinates: one list, so a file
//! one command accepts the others accept too.

use csv::ByteRecord;

use super::ReadError;

/// Names of the longitude / easting column, in order of preference (any case).
pub const LON_NAMES: &[&str] = &["lon", "lng", "longitude", "long", "x"];
/// Names of the latitude / northing column, in order of preference (any case).
pub const LAT_NAMES: &[&str] = &["lat", "latitude", "y"];
/// [`LON_NAMES`] for messages.
pub const LON_ACCEPTED: &str = "lon, lng, longitude, long, x";
/// [`LAT_NAMES`] for messages.
pub const LAT_ACCEPTED: &str = "lat, latitude, y";

/// A header name as compared: trimmed, lower case, without a byte-order mark
/// (Excel writes one before the first name).
pub fn normalise(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// The position of the first header matching the most preferred of `names`.
///
/// ```
/// use gridmap_data::points::{find_column, LAT_NAMES, LON_NAMES};
/// let header = ["\u{feff}ID", "Long", "LAT"];
/// assert_eq!(find_column(header, LON_NAMES), Some(1));
/// assert_eq!(find_column(header, LAT_NAMES), Some(2));
/// assert_eq!(find_column(header, &["id"]), Some(0));
/// ```
pub fn find_column<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    names: &[&str],
) -> Option<usize> {
    let headers: Vec<String> = headers.into_iter().map(normalise).collect();
    names
        .iter()
        .find_map(|n| headers.iter().position(|h| h == n))
}

/// The first of `names` that `object` has as a key, with its value.
pub(crate) fn find_key<'a, 'v>(
    object: &'v serde_json::Map<String, serde_json::Value>,
    names: &[&'a str],
) -> Option<(&'a str, &'v serde_json::Value)> {
    names.iter().find_map(|n| object.get(*n).map(|v| (*n, v)))
}

/// A CSV header and where the id and the coordinates are in it.
pub(crate) struct CsvColumns {
    /// The header as read (a byte-order mark included): written back as it came.
    pub header: ByteRecord,
    pub id: Option<usize>,
    pub x: usize,
    pub y: usize,
}

impl CsvColumns {
    /// Finds the columns, or says which coordinate column is missing.
    pub fn find(header: ByteRecord) -> Result<Self, ReadError> {
        let names: Vec<String> = header
            .iter()
            .map(|f| normalise(&String::from_utf8_lossy(f)))
            .collect();
        let find = |candidates: &[&str]| find_column(names.iter().map(String::as_str), candidates);
        let missing = |which, accepted| ReadError::MissingColumn {
            which,
            accepted,
            header: (0..header.len())
                .map(|i| display_name(&header, i))
                .collect(),
        };
        let x = find(LON_NAMES).ok_or_else(|| missing("x/longitude", LON_ACCEPTED))?;
        let y = find(LAT_NAMES).ok_or_else(|| missing("y/latitude", LAT_ACCEPTED))?;
        Ok(Self {
            id: find(&["id"]),
            header,
            x,
            y,
        })
    }

    /// The header name of column `i` as written, trimmed, without a
    /// byte-order mark: for messages and property names.
    pub fn name(&self, i: usize) -> String {
        display_name(&self.header, i)
    }
}

fn display_name(header: &ByteRecord, i: usize) -> String {
    String::from_utf8_lossy(header.get(i).unwrap_or_default())
        .trim_start_matches('\u{feff}')
        .trim()
        .to_string()
}
