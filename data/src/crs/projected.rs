//! Projected CRSs: CGCS2000 3-degree Gauss-Krüger (via proj4rs, exact
//! Poder/Engsager transverse Mercator) and Web Mercator (closed form on the
//! sphere, which is its definition).

use std::sync::OnceLock;

use proj4rs::proj::Proj;

use super::{Crs, CrsError};

/// Parameters of a CGCS2000 3-degree Gauss-Krüger EPSG code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GkParams {
    /// Zone number (25..=45) for the zone-prefixed codes 4513..=4533.
    pub zone: Option<u16>,
    /// Central meridian, degrees east.
    pub central_meridian: u16,
    /// False easting in metres (zone*1e6 + 500000, or 500000).
    pub false_easting: f64,
}

const FIRST_ZONE_CODE: u16 = 4513;
const FIRST_CM_CODE: u16 = 4534;
const LAST_CM_CODE: u16 = 4554;
const FIRST_ZONE: u16 = 25;

/// Parameters for an EPSG code in 4513..=4554, `None` otherwise.
pub(crate) fn gk_params(code: u16) -> Option<GkParams> {
    match code {
        FIRST_ZONE_CODE..FIRST_CM_CODE => {
            let zone = code - FIRST_ZONE_CODE + FIRST_ZONE;
            Some(GkParams {
                zone: Some(zone),
                central_meridian: 3 * zone,
                false_easting: f64::from(zone) * 1e6 + 500_000.0,
            })
        }
        FIRST_CM_CODE..=LAST_CM_CODE => Some(GkParams {
            zone: None,
            central_meridian: 75 + 3 * (code - FIRST_CM_CODE),
            false_easting: 500_000.0,
        }),
        _ => None,
    }
}

/// The EPSG code for a central meridian and false easting, if they describe
/// one of the CGCS2000 3-degree systems.
pub(crate) fn gk_code_for(central_meridian: f64, false_easting: f64) -> Option<u16> {
    (FIRST_ZONE_CODE..=LAST_CM_CODE).find(|&code| {
        gk_params(code).is_some_and(|p| {
            (f64::from(p.central_meridian) - central_meridian).abs() < 1e-9
                && (p.false_easting - false_easting).abs() < 1e-6
        })
    })
}

/// The projection pair (Gauss-Krüger, its geographic CRS on the same GRS80
/// ellipsoid). Sharing the ellipsoid and giving no datum keeps proj4rs from
/// applying any datum shift: CGCS2000 is taken as WGS84 (see the module doc).
struct GkProj {
    projected: Proj,
    geographic: Proj,
}

const GK_COUNT: usize = (LAST_CM_CODE - FIRST_ZONE_CODE + 1) as usize;
static GK_PROJS: [OnceLock<Result<GkProj, String>>; GK_COUNT] =
    [const { OnceLock::new() }; GK_COUNT];

fn gk_proj(code: u16, x: f64, y: f64) -> Result<&'static GkProj, CrsError> {
    let crs = Crs::GaussKruger(code);
    let unsupported = || CrsError::Unknown {
        input: format!("EPSG:{code}"),
    };
    gk_params(code).ok_or_else(unsupported)?;
    let slot = &GK_PROJS[usize::from(code - FIRST_ZONE_CODE)];
    let built = slot.get_or_init(|| {
        let def = crs_definitions::from_code(code)
            .ok_or_else(|| format!("no definition for EPSG:{code} in crs-definitions"))?;
        let projected = Proj::from_proj_string(def.proj4).map_err(|e| e.to_string())?;
        let geographic = Proj::from_proj_string("+proj=longlat +ellps=GRS80 +no_defs")
            .map_err(|e| e.to_string())?;
        Ok(GkProj {
            projected,
            geographic,
        })
    });
    built.as_ref().map_err(|message| CrsError::Projection {
        x,
        y,
        crs,
        message: message.clone(),
    })
}

/// Rejects coordinates that cannot belong to the Gauss-Krüger system `code`:
/// swapped axes, a missing or different zone prefix.
fn check_gk_input(code: u16, p: GkParams, x: f64, y: f64) -> Result<(), CrsError> {
    let crs = Crs::GaussKruger(code);
    let looks_like_northing = (1_000_000.0..10_000_000.0).contains(&x);
    let zone_prefixed_easting = (25_000_000.0..46_000_000.0).contains(&y);
    let plain_easting = y > 0.0 && y < 1_000_000.0;
    if looks_like_northing && (zone_prefixed_easting || plain_easting) {
        return Err(CrsError::AxisOrder { x, y, crs });
    }
    let out = |reason: String| CrsError::OutOfRange { x, y, crs, reason };
    match p.zone {
        Some(zone) => {
            let low = f64::from(zone) * 1e6;
            if !(low..low + 1e6).contains(&x) {
                let hint = if x > 0.0 && x < 1e6 {
                    let cm_code = FIRST_CM_CODE + (p.central_meridian - 75) / 3;
                    format!(
                        "; the easting has no zone prefix, so the data is probably EPSG:{cm_code} \
                         (CM {}E, no prefix)",
                        p.central_meridian
                    )
                } else {
                    hint_for_prefixed(x, y)
                };
                return Err(out(format!(
                    "zone {zone} eastings must start with {zone} \
                     ({low:.0} <= x < {:.0}){hint}",
                    low + 1e6
                )));
            }
        }
        None => {
            if !(x > 0.0 && x < 1e6) {
                return Err(out(format!(
                    "eastings for CM {}E (no zone prefix) must lie between 0 and 1000000{}",
                    p.central_meridian,
                    hint_for_prefixed(x, y)
                )));
            }
        }
    }
    // A northing is metres from the equator along the meridian: a quarter
    // meridian is about 10,002 km, so anything beyond is no place on Earth
    // (the projection would still answer, e.g. y = 1e308 → 73.66°N).
    if !(-MAX_NORTHING_M..=MAX_NORTHING_M).contains(&y) {
        return Err(out(format!(
            "northings must lie within ±{MAX_NORTHING_M:.0} m of the equator, got {y}"
        )));
    }
    Ok(())
}

/// The length of a quarter meridian on the CGCS2000 ellipsoid, rounded up.
const MAX_NORTHING_M: f64 = 10_002_000.0;

fn hint_for_prefixed(x: f64, y: f64) -> String {
    match super::suggest_gauss_kruger(x, y) {
        Some(s) => format!(
            "; an 8-digit easting starting {} suggests {s} ({})",
            (x / 1e6).floor(),
            s.name()
        ),
        None => String::new(),
    }
}

/// Gauss-Krüger (easting, northing) in metres -> WGS84 (lon, lat) degrees.
pub(crate) fn gk_to_wgs84(code: u16, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
    let p = gk_params(code).ok_or_else(|| CrsError::Unknown {
        input: format!("EPSG:{code}"),
    })?;
    check_gk_input(code, p, x, y)?;
    let projs = gk_proj(code, x, y)?;
    let mut pt = (x, y, 0.0);
    proj4rs::transform::transform(&projs.projected, &projs.geographic, &mut pt).map_err(|e| {
        CrsError::Projection {
            x,
            y,
            crs: Crs::GaussKruger(code),
            message: e.to_string(),
        }
    })?;
    // proj4rs works in radians for geographic coordinates.
    Ok((pt.0.to_degrees(), pt.1.to_degrees()))
}

/// How far from its central meridian a Gauss-Krüger zone is still written, in degrees.
pub(crate) const MAX_GK_SPREAD: f64 = 9.0;

/// WGS84 (lon, lat) degrees -> Gauss-Krüger (easting, northing) metres.
///
/// A longitude more than [`MAX_GK_SPREAD`] degrees from the zone's central
/// meridian is refused: the projection returns numbers there, but no map of
/// the zone can use them (a whole-province export picks a zone near it).
pub(crate) fn wgs84_to_gk(code: u16, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
    let projs = gk_proj(code, lon, lat)?;
    if let Some(p) = gk_params(code) {
        let off = (lon - f64::from(p.central_meridian)).abs();
        if off > MAX_GK_SPREAD {
            return Err(CrsError::OutOfRange {
                x: lon,
                y: lat,
                crs: Crs::GaussKruger(code),
                reason: format!(
                    "longitude {lon} is {off:.1}° from the zone's central meridian {}E \
                     (at most {MAX_GK_SPREAD}° is usable); pick the zone of the data",
                    p.central_meridian
                ),
            });
        }
    }
    let mut pt = (lon.to_radians(), lat.to_radians(), 0.0);
    proj4rs::transform::transform(&projs.geographic, &projs.projected, &mut pt).map_err(|e| {
        CrsError::Projection {
            x: lon,
            y: lat,
            crs: Crs::GaussKruger(code),
            message: e.to_string(),
        }
    })?;
    Ok((pt.0, pt.1))
}

/// Web Mercator sphere radius (EPSG:3857 uses the WGS84 semi-major axis).
const WEB_MERCATOR_R: f64 = 6_378_137.0;
/// Half the world width in Web Mercator metres (pi * R).
const WEB_MERCATOR_HALF: f64 = std::f64::consts::PI * WEB_MERCATOR_R;

/// Web Mercator (x, y) metres -> WGS84 (lon, lat) degrees.
pub(crate) fn web_mercator_to_wgs84(x: f64, y: f64) -> Result<(f64, f64), CrsError> {
    // Allow a centimetre beyond the antimeridian for rounding in exported data.
    if x.abs() > WEB_MERCATOR_HALF + 0.01 || y.abs() > 2.0 * WEB_MERCATOR_HALF {
        return Err(CrsError::OutOfRange {
            x,
            y,
            crs: Crs::WebMercator,
            reason: format!(
                "Web Mercator x must lie within ±{WEB_MERCATOR_HALF:.2} and |y| within \
                 ±{:.2} metres",
                2.0 * WEB_MERCATOR_HALF
            ),
        });
    }
    let lon = (x / WEB_MERCATOR_R).to_degrees().clamp(-180.0, 180.0);
    let lat = (y / WEB_MERCATOR_R).sinh().atan().to_degrees();
    Ok((lon, lat))
}

/// WGS84 (lon, lat) degrees -> Web Mercator (x, y) metres. The poles have
/// no Web Mercator image and are rejected.
pub(crate) fn wgs84_to_web_mercator(lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
    let x = WEB_MERCATOR_R * lon.to_radians();
    let y = WEB_MERCATOR_R
        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln();
    // Same bound as the inverse accepts (about ±89.5°); the poles map to
    // infinity.
    if !y.is_finite() || y.abs() > 2.0 * WEB_MERCATOR_HALF {
        return Err(CrsError::OutOfRange {
            x: lon,
            y: lat,
            crs: Crs::WebMercator,
            reason: "latitudes this close to a pole have no usable Web Mercator coordinate"
                .to_string(),
        });
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed once with pyproj 3.7.2 (PROJ), always_xy=True,
    // EPSG:4490 -> EPSG:nnnn; not computed by this code.
    /// (EPSG code, (lon, lat), (easting, northing)).
    type Case = (u16, (f64, f64), (f64, f64));
    const PYPROJ_GK: &[Case] = &[
        (4549, (120.0, 30.0), (500_000.0, 3320113.3978)),
        (4549, (121.5, 31.2), (642964.1598, 3454118.1322)),
        (4549, (118.7, 28.9), (373201.8530, 3198881.0979)),
        (4528, (120.0, 30.0), (40_500_000.0, 3320113.3978)),
        (4528, (120.15, 30.28), (40514432.1480, 3351162.2693)),
        (4527, (116.4, 39.9), (39448688.8557, 4418598.0013)),
        (4539, (87.6, 43.8), (306857.2400, 4854400.9916)),
    ];

    #[test]
    fn northings_off_the_earth_are_refused() {
        for y in [1e308, -1e308, 10_002_500.0, -2e7] {
            let e = gk_to_wgs84(4549, 500_000.0, y).unwrap_err();
            assert!(
                e.to_string().contains("northings must lie within"),
                "{y}: {e}"
            );
            assert!(gk_to_wgs84(4528, 40_500_000.0, y).is_err());
        }
        assert!(gk_to_wgs84(4549, 500_000.0, 3_320_113.4).is_ok());
    }

    #[test]
    fn params_of_codes() {
        assert_eq!(
            gk_params(4528),
            Some(GkParams {
                zone: Some(40),
                central_meridian: 120,
                false_easting: 40_500_000.0
            })
        );
        assert_eq!(
            gk_params(4549),
            Some(GkParams {
                zone: None,
                central_meridian: 120,
                false_easting: 500_000.0
            })
        );
        assert_eq!(gk_params(4513).unwrap().central_meridian, 75);
        assert_eq!(gk_params(4533).unwrap().zone, Some(45));
        assert_eq!(gk_params(4534).unwrap().central_meridian, 75);
        assert_eq!(gk_params(4554).unwrap().central_meridian, 135);
        assert_eq!(gk_params(4512), None);
        assert_eq!(gk_params(4555), None);
        assert_eq!(gk_code_for(120.0, 500_000.0), Some(4549));
        assert_eq!(gk_code_for(120.0, 40_500_000.0), Some(4528));
        assert_eq!(gk_code_for(121.0, 500_000.0), None);
        // Every code agrees with the crs-definitions proj4 string.
        for code in FIRST_ZONE_CODE..=LAST_CM_CODE {
            let p = gk_params(code).unwrap();
            let def = crs_definitions::from_code(code).unwrap().proj4;
            assert!(
                def.contains(&format!("+lon_0={} ", p.central_meridian)),
                "{def}"
            );
            assert!(def.contains(&format!("+x_0={} ", p.false_easting)), "{def}");
        }
    }

    #[test]
    fn gk_forward_matches_pyproj() {
        for &(code, (lon, lat), (x, y)) in PYPROJ_GK {
            let (px, py) = wgs84_to_gk(code, lon, lat).unwrap();
            assert!(
                (px - x).abs() < 1e-3 && (py - y).abs() < 1e-3,
                "{code} {lon},{lat}: {px},{py}"
            );
        }
    }

    #[test]
    fn gk_inverse_matches_pyproj() {
        for &(code, (lon, lat), (x, y)) in PYPROJ_GK {
            let (plon, plat) = gk_to_wgs84(code, x, y).unwrap();
            // 1e-8 degrees is about 1 mm; the reference is rounded to 0.1 mm.
            assert!(
                (plon - lon).abs() < 1e-8 && (plat - lat).abs() < 1e-8,
                "{code}: {plon},{plat}"
            );
        }
    }

    #[test]
    fn every_code_round_trips_at_its_central_meridian() {
        for code in FIRST_ZONE_CODE..=LAST_CM_CODE {
            let p = gk_params(code).unwrap();
            let lon = f64::from(p.central_meridian) + 0.7;
            let (x, y) = wgs84_to_gk(code, lon, 35.0).unwrap();
            let (lon2, lat2) = gk_to_wgs84(code, x, y).unwrap();
            assert!(
                (lon2 - lon).abs() < 1e-9 && (lat2 - 35.0).abs() < 1e-9,
                "{code}"
            );
        }
    }

    #[test]
    fn swapped_axes_are_rejected() {
        // Zone-prefixed easting in y.
        let e = gk_to_wgs84(4528, 3_351_162.27, 40_514_432.15).unwrap_err();
        assert!(matches!(e, CrsError::AxisOrder { .. }), "{e}");
        assert!(e.to_string().contains("northing-first"), "{e}");
        // Plain 6-digit easting in y.
        let e = gk_to_wgs84(4549, 3_320_113.4, 500_000.0).unwrap_err();
        assert!(matches!(e, CrsError::AxisOrder { .. }), "{e}");
    }

    #[test]
    fn wrong_zone_prefix_is_explained() {
        let e = gk_to_wgs84(4528, 500_000.0, 3_320_113.4).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, CrsError::OutOfRange { .. }));
        assert!(msg.contains("EPSG:4549"), "{msg}");
        let e = gk_to_wgs84(4549, 39_448_688.9, 4_418_598.0).unwrap_err();
        assert!(e.to_string().contains("EPSG:4527"), "{e}");
        let e = gk_to_wgs84(4528, 39_448_688.9, 4_418_598.0).unwrap_err();
        assert!(e.to_string().contains("must start with 40"), "{e}");
    }

    #[test]
    fn web_mercator_known_value_and_round_trip() {
        // pyproj: EPSG:4326 (120.15, 30.28) -> EPSG:3857.
        let (x, y) = wgs84_to_web_mercator(120.15, 30.28).unwrap();
        assert!((x - 13375036.8188).abs() < 1e-3 && (y - 3539592.2465).abs() < 1e-3);
        let (lon, lat) = web_mercator_to_wgs84(x, y).unwrap();
        assert!((lon - 120.15).abs() < 1e-12 && (lat - 30.28).abs() < 1e-12);
        assert!(web_mercator_to_wgs84(2.1e7, 0.0).is_err());
        assert!(wgs84_to_web_mercator(0.0, 90.0).is_err());
    }
}
