//! The coordinate columns of a point table, the same for every reader that
//! takes points from CSV or JSON (`gridmap import sites`, `gridmap assign`,
//! `POST /api/v1/assign`): one list, so a file one command accepts the other
//! accepts too.
//!
//! ```
//! use gridmap_data::point_columns::find_lon_lat;
//! assert_eq!(find_lon_lat(["id", "Long", "LAT"]), (Some(1), Some(2)));
//! assert_eq!(find_lon_lat(["\u{feff}lng", "y"]), (Some(0), Some(1)));
//! ```

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
pub fn find_column<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    names: &[&str],
) -> Option<usize> {
    let headers: Vec<String> = headers.into_iter().map(normalise).collect();
    names
        .iter()
        .find_map(|n| headers.iter().position(|h| h == n))
}

/// The longitude and latitude columns of a header.
pub fn find_lon_lat<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> (Option<usize>, Option<usize>) {
    let headers: Vec<&str> = headers.into_iter().collect();
    (
        find_column(headers.iter().copied(), LON_NAMES),
        find_column(headers.iter().copied(), LAT_NAMES),
    )
}
