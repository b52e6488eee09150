//! Coordinate reference systems accepted on import, and transforms of their
//! coordinates to WGS84 longitude/latitude (the stored EPSG:4326).
//!
//! Supported: WGS84 (EPSG:4326), CGCS2000 geographic (EPSG:4490), the 42
//! CGCS2000 3-degree Gauss-Krüger systems (EPSG:4513..=4554), Web Mercator
//! (EPSG:3857) and the Chinese obfuscated GCJ-02 and BD-09.
//!
//! **CGCS2000 is treated as equal to WGS84.** The two frames agree to a few
//! centimetres (both are ITRF-aligned, and the ellipsoids differ only in the
//! flattening by ~0.1 mm at the pole), far below the accuracy of grid
//! boundaries, so no datum shift is applied.
//!
//! Coordinates are always passed easting/longitude first (`x`), then
//! northing/latitude (`y`): the order shapefiles, GeoJSON and WKT store,
//! *not* EPSG's northing-first axis order for EPSG:4513–4554.
//!
//! ```
//! use gridmap_data::crs::Crs;
//! let crs = Crs::parse("EPSG:4549")?; // CGCS2000 3-degree GK CM 120E
//! let (lon, lat) = crs.to_wgs84(500_000.0, 3_320_113.398)?;
//! assert!((lon - 120.0).abs() < 1e-8 && (lat - 30.0).abs() < 1e-8);
//! # Ok::<(), gridmap_data::crs::CrsError>(())
//! ```

mod chinese;
mod prj;
mod projected;
mod transform;

use std::fmt;

pub use transform::{transform_geometry, transform_geometry_from_wgs84};

pub use chinese::{
    bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, out_of_china, wgs84_to_bd09,
    wgs84_to_gcj02,
};

/// A supported source CRS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude/latitude, EPSG:4326.
    Wgs84,
    /// CGCS2000 longitude/latitude, EPSG:4490 (treated as equal to WGS84).
    Cgcs2000,
    /// CGCS2000 3-degree Gauss-Krüger, by EPSG code: 4513..=4533 are zones
    /// 25..=45 with the zone number prefixed to the easting, 4534..=4554 are
    /// central meridians 75E..=135E without prefix. Other codes are rejected
    /// by every transform.
    GaussKruger(u16),
    /// Web Mercator (Pseudo-Mercator), EPSG:3857.
    WebMercator,
    /// GCJ-02, the obfuscated datum of Amap/Gaode and Tencent maps.
    Gcj02,
    /// BD-09, Baidu's further-obfuscated GCJ-02.
    Bd09,
}

/// What [`Crs::parse`] accepts, quoted by its error.
const ACCEPTED: &str = "EPSG:4326 (wgs84), EPSG:4490 (cgcs2000), EPSG:4513..EPSG:4554 \
     (CGCS2000 3-degree Gauss-Krüger: 4513-4533 = zones 25-45, 4534-4554 = CM 75E-135E), \
     EPSG:3857 (webmercator, EPSG:900913), gcj02 (GCJ-02), bd09 (BD-09); \
     bare codes such as 4490 also work";

/// Errors from parsing or applying a CRS.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    /// The CRS name or code is not one we support.
    #[error("unknown or unsupported CRS {input:?}; accepted: {ACCEPTED}")]
    Unknown {
        /// The text that was given.
        input: String,
    },
    /// A .prj / WKT text could not be mapped to a supported CRS.
    #[error("cannot determine the CRS from the .prj/WKT text: {reason}")]
    Prj {
        /// Why, including what was found.
        reason: String,
    },
    /// A coordinate of a geographic CRS is outside |lon| <= 180, |lat| <= 90.
    #[error(
        "coordinate ({x:?}, {y:?}) cannot be longitude/latitude under {crs}{}",
        not_lon_lat_hint(*x, *y, *suggestion)
    )]
    NotLonLat {
        /// Easting / longitude as given.
        x: f64,
        /// Northing / latitude as given.
        y: f64,
        /// The CRS the data was declared in.
        crs: Crs,
        /// A Gauss-Krüger CRS that the values fit, if any.
        suggestion: Option<Crs>,
    },
    /// Gauss-Krüger data whose x holds the northing and y the easting.
    #[error(
        "coordinate ({x:?}, {y:?}) under {crs} appears to be northing-first: x looks like a \
         northing and y like an easting; gridmap needs easting-first (x = easting, y = northing), \
         the order shapefiles and GeoJSON use. Swap the two columns/axes in the source data"
    )]
    AxisOrder {
        /// The value given as x (looks like a northing).
        x: f64,
        /// The value given as y (looks like an easting).
        y: f64,
        /// The declared CRS.
        crs: Crs,
    },
    /// A projected coordinate that does not fit the declared CRS.
    #[error("coordinate ({x:?}, {y:?}) does not fit {crs}: {reason}")]
    OutOfRange {
        /// Easting / longitude as given.
        x: f64,
        /// Northing / latitude as given.
        y: f64,
        /// The declared CRS.
        crs: Crs,
        /// What is wrong and, where possible, what to pass instead.
        reason: String,
    },
    /// NaN or infinite input.
    #[error("coordinate ({x:?}, {y:?}) under {crs} is not a finite number")]
    NonFinite {
        /// Easting / longitude as given.
        x: f64,
        /// Northing / latitude as given.
        y: f64,
        /// The declared CRS.
        crs: Crs,
    },
    /// The projection library failed on a coordinate.
    #[error("projecting ({x:?}, {y:?}) under {crs} failed: {message}")]
    Projection {
        /// Input x.
        x: f64,
        /// Input y.
        y: f64,
        /// The CRS involved.
        crs: Crs,
        /// The library's message.
        message: String,
    },
}

fn not_lon_lat_hint(x: f64, y: f64, suggestion: Option<Crs>) -> String {
    if let Some(s) = suggestion {
        let prefix = (x / 1e6).floor() as i64;
        return format!(
            "; an 8-digit easting starting {prefix} suggests {s} ({}); pass --crs {s}",
            s.name()
        );
    }
    if x.abs() <= 90.0 && y.abs() > 90.0 && y.abs() <= 180.0 {
        return "; latitude and longitude appear swapped (x must be longitude)".to_string();
    }
    if x.abs() > 180.0 && y.is_finite() && x.is_finite() {
        return "; the values look like projected metres: pass --crs with the projected CRS \
                (e.g. EPSG:4534..EPSG:4554 for CGCS2000 Gauss-Krüger without zone prefix, \
                EPSG:3857 for Web Mercator)"
            .to_string();
    }
    String::new()
}

impl fmt::Display for Crs {
    /// Formats as [`Crs::code`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl Crs {
    /// Parses a CRS name or code, case-insensitively: `EPSG:4326`, `4326`,
    /// `wgs84`, `CRS84`, `EPSG:4490`, `cgcs2000`, `EPSG:4513`..`EPSG:4554`,
    /// `EPSG:3857` (also `EPSG:900913`, `EPSG:3785`, `EPSG:102100`,
    /// `webmercator`), `gcj02`/`GCJ-02`, `bd09`/`BD-09`, and OGC URNs such as
    /// `urn:ogc:def:crs:EPSG::4326` (as found in GeoJSON `crs` members).
    pub fn parse(s: &str) -> Result<Crs, CrsError> {
        let unknown = || CrsError::Unknown {
            input: s.to_string(),
        };
        let t = s.trim().to_ascii_lowercase();
        let compact: String = t
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect();
        match compact.as_str() {
            "wgs84" | "crs84" | "urn:ogc:def:crs:ogc:1.3:crs84" | "urn:ogc:def:crs:ogc::crs84" => {
                return Ok(Crs::Wgs84)
            }
            "cgcs2000" => return Ok(Crs::Cgcs2000),
            "webmercator" | "pseudomercator" => return Ok(Crs::WebMercator),
            "gcj02" | "gcj" => return Ok(Crs::Gcj02),
            "bd09" | "bd09ll" => return Ok(Crs::Bd09),
            _ => {}
        }
        // "epsg:4326", "epsg::4326" (URN tail), "esri:102100", or a bare code.
        let code = if let Some(rest) = t.strip_prefix("urn:ogc:def:crs:epsg:") {
            // urn:ogc:def:crs:EPSG::4326 or urn:ogc:def:crs:EPSG:9.8:4326
            rest.rsplit(':').next().unwrap_or("")
        } else if let Some(rest) = t.strip_prefix("epsg:").or_else(|| t.strip_prefix("esri:")) {
            rest
        } else {
            t.as_str()
        };
        let code: u32 = code.trim().parse().map_err(|_| unknown())?;
        Crs::from_epsg(code).map_err(|_| unknown())
    }

    /// The CRS for an EPSG (or well-known ESRI alias) code.
    pub fn from_epsg(code: u32) -> Result<Crs, CrsError> {
        match code {
            4326 => Ok(Crs::Wgs84),
            4490 => Ok(Crs::Cgcs2000),
            4513..=4554 => Ok(Crs::GaussKruger(code as u16)),
            3857 | 900913 | 3785 | 102100 | 102113 => Ok(Crs::WebMercator),
            _ => Err(CrsError::Unknown {
                input: format!("EPSG:{code}"),
            }),
        }
    }

    /// Parses an ESRI `.prj` or OGC WKT (1 or 2) text. A top-level
    /// `AUTHORITY["EPSG","nnnn"]` / `ID["EPSG",nnnn]` wins; otherwise the
    /// CRS is recognised by name (e.g. `GCS_WGS_1984`,
    /// `GCS_China_Geodetic_Coordinate_System_2000`,
    /// `CGCS2000_3_Degree_GK_Zone_40`, `CGCS2000_3_Degree_GK_CM_120E`,
    /// `WGS_1984_Web_Mercator_Auxiliary_Sphere`) or, for Gauss-Krüger, by
    /// its datum, central meridian and false easting.
    pub fn from_prj(wkt: &str) -> Result<Crs, CrsError> {
        prj::from_prj(wkt)
    }

    /// The canonical code: `EPSG:4326`, `EPSG:4490`, `EPSG:4528`,
    /// `EPSG:3857`, `gcj02` or `bd09`. [`Crs::parse`] accepts it back.
    pub fn code(&self) -> String {
        match self {
            Crs::Wgs84 => "EPSG:4326".to_string(),
            Crs::Cgcs2000 => "EPSG:4490".to_string(),
            Crs::GaussKruger(code) => format!("EPSG:{code}"),
            Crs::WebMercator => "EPSG:3857".to_string(),
            Crs::Gcj02 => "gcj02".to_string(),
            Crs::Bd09 => "bd09".to_string(),
        }
    }

    /// A human-readable name, e.g. `CGCS2000 3-degree Gauss-Krüger zone 40`.
    pub fn name(&self) -> String {
        match self {
            Crs::Wgs84 => "WGS 84".to_string(),
            Crs::Cgcs2000 => "CGCS2000".to_string(),
            Crs::GaussKruger(code) => match projected::gk_params(*code) {
                Some(p) => match p.zone {
                    Some(zone) => format!("CGCS2000 3-degree Gauss-Krüger zone {zone}"),
                    None => format!("CGCS2000 3-degree Gauss-Krüger CM {}E", p.central_meridian),
                },
                None => format!("unsupported Gauss-Krüger EPSG:{code}"),
            },
            Crs::WebMercator => "WGS 84 / Pseudo-Mercator".to_string(),
            Crs::Gcj02 => "GCJ-02".to_string(),
            Crs::Bd09 => "BD-09".to_string(),
        }
    }

    /// The EPSG code of the CRS; `None` for GCJ-02 and BD-09, which no
    /// registry lists (their obfuscation is not a map projection).
    pub fn epsg(&self) -> Option<u16> {
        match self {
            Crs::Wgs84 => Some(4326),
            Crs::Cgcs2000 => Some(4490),
            Crs::GaussKruger(code) => Some(*code),
            Crs::WebMercator => Some(3857),
            Crs::Gcj02 | Crs::Bd09 => None,
        }
    }

    /// The OGC WKT 1 of the CRS with its EPSG authority, as exports write it
    /// into a `.prj`, a GeoPackage `gpkg_spatial_ref_sys` row or a FlatGeobuf
    /// header (GDAL and QGIS recognise the EPSG code in it); `None` for GCJ-02
    /// and BD-09.
    pub fn wkt(&self) -> Option<&'static str> {
        crs_definitions::from_code(self.epsg()?).map(|def| def.wkt)
    }

    /// True for the longitude/latitude CRSs: WGS84, CGCS2000, GCJ-02, BD-09.
    pub fn is_geographic(&self) -> bool {
        matches!(self, Crs::Wgs84 | Crs::Cgcs2000 | Crs::Gcj02 | Crs::Bd09)
    }

    /// Converts one coordinate (x = easting/longitude, y = northing/latitude)
    /// to WGS84 `(lon, lat)` in degrees. Geographic input is range-checked
    /// ([`CrsError::NotLonLat`]); Gauss-Krüger input is checked for the
    /// zone prefix and swapped axes ([`CrsError::AxisOrder`]).
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(CrsError::NonFinite { x, y, crs: *self });
        }
        if self.is_geographic() && (x.abs() > 180.0 || y.abs() > 90.0) {
            return Err(CrsError::NotLonLat {
                x,
                y,
                crs: *self,
                suggestion: suggest_gauss_kruger(x, y),
            });
        }
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => Ok((x, y)),
            Crs::Gcj02 => Ok(gcj02_to_wgs84(x, y)),
            Crs::Bd09 => Ok(bd09_to_wgs84(x, y)),
            Crs::WebMercator => projected::web_mercator_to_wgs84(x, y),
            Crs::GaussKruger(code) => projected::gk_to_wgs84(*code, x, y),
        }
    }

    /// Converts WGS84 `(lon, lat)` in degrees to this CRS's `(x, y)`
    /// (easting/longitude first).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(CrsError::NonFinite {
                x: lon,
                y: lat,
                crs: Crs::Wgs84,
            });
        }
        if lon.abs() > 180.0 || lat.abs() > 90.0 {
            return Err(CrsError::NotLonLat {
                x: lon,
                y: lat,
                crs: Crs::Wgs84,
                suggestion: suggest_gauss_kruger(lon, lat),
            });
        }
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => Ok((lon, lat)),
            Crs::Gcj02 => Ok(wgs84_to_gcj02(lon, lat)),
            Crs::Bd09 => Ok(wgs84_to_bd09(lon, lat)),
            Crs::WebMercator => projected::wgs84_to_web_mercator(lon, lat),
            Crs::GaussKruger(code) => projected::wgs84_to_gk(*code, lon, lat),
        }
    }
}

/// When coordinates cannot be lon/lat (e.g. |x| > 180), suggests the
/// CGCS2000 Gauss-Krüger zone an 8-digit easting implies: its first two
/// digits are the 3-degree zone number (25..=45 -> EPSG:4513..=4533). The
/// northing must be plausible for China (0..6 500 000 m). Returns `None`
/// if nothing fits.
pub fn suggest_gauss_kruger(x: f64, y: f64) -> Option<Crs> {
    if !x.is_finite() || !y.is_finite() || !(0.0..6_500_000.0).contains(&y) {
        return None;
    }
    if !(25_000_000.0..46_000_000.0).contains(&x) {
        return None;
    }
    let zone = (x / 1e6).floor() as u16;
    Some(Crs::GaussKruger(4513 + zone - 25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_documented_spellings() {
        let cases = [
            ("EPSG:4326", Crs::Wgs84),
            ("epsg:4326", Crs::Wgs84),
            ("4326", Crs::Wgs84),
            (" WGS84 ", Crs::Wgs84),
            ("wgs-84", Crs::Wgs84),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", Crs::Wgs84),
            ("urn:ogc:def:crs:EPSG::4326", Crs::Wgs84),
            ("epsg:4490", Crs::Cgcs2000),
            ("4490", Crs::Cgcs2000),
            ("CGCS2000", Crs::Cgcs2000),
            ("EPSG:4513", Crs::GaussKruger(4513)),
            ("EPSG:4528", Crs::GaussKruger(4528)),
            ("EPSG:4554", Crs::GaussKruger(4554)),
            ("EPSG:3857", Crs::WebMercator),
            ("EPSG:900913", Crs::WebMercator),
            ("ESRI:102100", Crs::WebMercator),
            ("gcj02", Crs::Gcj02),
            ("GCJ-02", Crs::Gcj02),
            ("bd09", Crs::Bd09),
            ("BD-09", Crs::Bd09),
        ];
        for (s, want) in cases {
            assert_eq!(Crs::parse(s).unwrap(), want, "{s}");
        }
        for crs in cases.map(|c| c.1) {
            assert_eq!(Crs::parse(&crs.code()).unwrap(), crs, "code() parses back");
        }
    }

    #[test]
    fn parse_rejects_with_list_of_accepted() {
        for bad in ["EPSG:4512", "EPSG:4555", "EPSG:4214", "utm50", "", "EPSG:"] {
            let e = Crs::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("accepted") && e.contains("EPSG:4513") && e.contains("gcj02"),
                "{e}"
            );
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn codes_names_and_kinds() {
        assert_eq!(Crs::GaussKruger(4528).code(), "EPSG:4528");
        assert_eq!(Crs::Gcj02.code(), "gcj02");
        assert_eq!(
            Crs::GaussKruger(4528).name(),
            "CGCS2000 3-degree Gauss-Krüger zone 40"
        );
        assert_eq!(
            Crs::GaussKruger(4549).name(),
            "CGCS2000 3-degree Gauss-Krüger CM 120E"
        );
        assert_eq!(Crs::Bd09.to_string(), "bd09");
        for c in [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02, Crs::Bd09] {
            assert!(c.is_geographic());
        }
        assert!(!Crs::WebMercator.is_geographic());
        assert!(!Crs::GaussKruger(4549).is_geographic());
    }

    #[test]
    fn gauss_kruger_known_values() {
        // True values from pyproj 3.7.2 (EPSG:4490 -> EPSG:4549 / 4528):
        // (120, 30) -> (500000.0000, 3320113.3978).
        let (x, y) = Crs::GaussKruger(4549).from_wgs84(120.0, 30.0).unwrap();
        assert!((x - 500_000.0).abs() < 1e-3, "{x}");
        assert!((y - 3320113.3978).abs() < 1e-3, "{y}");
        let (x, y) = Crs::GaussKruger(4528).from_wgs84(120.0, 30.0).unwrap();
        assert!((x - 40_500_000.0).abs() < 1e-3, "{x}");
        assert!((y - 3320113.3978).abs() < 1e-3, "{y}");
        let (lon, lat) = Crs::GaussKruger(4528)
            .to_wgs84(40_500_000.0, 3320113.3978)
            .unwrap();
        assert!(
            (lon - 120.0).abs() < 1e-9 && (lat - 30.0).abs() < 1e-8,
            "{lon} {lat}"
        );
    }

    #[test]
    fn every_crs_round_trips() {
        let all = [
            Crs::Wgs84,
            Crs::Cgcs2000,
            Crs::WebMercator,
            Crs::Gcj02,
            Crs::Bd09,
            Crs::GaussKruger(4549),
            Crs::GaussKruger(4528),
        ];
        for crs in all {
            for (lon, lat) in [(120.15, 30.28), (121.3, 31.1), (119.2, 40.0)] {
                let (x, y) = crs.from_wgs84(lon, lat).unwrap();
                let (lon2, lat2) = crs.to_wgs84(x, y).unwrap();
                assert!(
                    (lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9,
                    "{crs}: {lon2} {lat2}"
                );
            }
        }
    }

    #[test]
    fn suggest_gauss_kruger_from_zone_prefix() {
        assert_eq!(
            suggest_gauss_kruger(40_512_345.0, 3_345_678.0),
            Some(Crs::GaussKruger(4528))
        );
        assert_eq!(
            suggest_gauss_kruger(25_400_000.0, 4_000_000.0),
            Some(Crs::GaussKruger(4513))
        );
        assert_eq!(
            suggest_gauss_kruger(45_600_000.0, 5_000_000.0),
            Some(Crs::GaussKruger(4533))
        );
        assert_eq!(suggest_gauss_kruger(46_500_000.0, 3_000_000.0), None); // zone 46 not in 4513..4533
        assert_eq!(suggest_gauss_kruger(24_500_000.0, 3_000_000.0), None);
        assert_eq!(suggest_gauss_kruger(512_345.0, 3_345_678.0), None); // no zone prefix
        assert_eq!(suggest_gauss_kruger(40_512_345.0, -5.0), None); // not a northing
        assert_eq!(suggest_gauss_kruger(120.0, 30.0), None);
    }

    #[test]
    fn non_finite_is_rejected() {
        assert!(matches!(
            Crs::Wgs84.to_wgs84(f64::NAN, 1.0),
            Err(CrsError::NonFinite { .. })
        ));
        assert!(matches!(
            Crs::GaussKruger(4549).to_wgs84(500_000.0, f64::INFINITY),
            Err(CrsError::NonFinite { .. })
        ));
        assert!(Crs::GaussKruger(4000)
            .to_wgs84(500_000.0, 3_000_000.0)
            .is_err());
    }
}
