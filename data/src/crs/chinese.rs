//! GCJ-02 ("Mars coordinates", used by Amap/Gaode, Tencent) and BD-09
//! (Baidu) obfuscated datums.
//!
//! The forward transforms are the standard public algorithms. Their inverses
//! have no closed form, so [`gcj02_to_wgs84`] and [`bd09_to_gcj02`] solve the
//! forward equation by fixed-point iteration: the offset varies slowly with
//! position (its Jacobian is ~1e-3 of the identity), so each iteration gains
//! about three decimal digits and a handful reach 1e-12 degrees. The common
//! one-step inverse (`wgs = gcj - offset(gcj)`) is off by metres and is not
//! used.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02.
const KRASOVSKY_A: f64 = 6378245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid, spelled as in
/// the published algorithm.
#[allow(clippy::excessive_precision)]
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943_23;
/// Baidu's scaled pi.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Stop iterating once a step moves the estimate by less than this (degrees,
/// ~0.1 µm): far below the 1 cm requirement, far above f64 noise at |lon|<180.
const CONVERGED_DEG: f64 = 1e-12;
/// Safety cap; convergence normally takes 3–5 iterations.
const MAX_ITERATIONS: usize = 30;

/// True when the point lies outside the bounding box in which GCJ-02 is
/// applied (the usual public `out_of_china` test); there GCJ-02 == WGS84.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (dlon, dlat) in degrees at a WGS84 point inside China.
fn gcj02_offset(lon: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat.to_radians();
    let s = radlat.sin();
    let magic = 1.0 - KRASOVSKY_EE * s * s;
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * radlat.cos() * PI);
    (dlon, dlat)
}

/// WGS84 → GCJ-02 (standard public algorithm). Outside China (see
/// [`out_of_china`]) the input is returned unchanged.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (dlon, dlat) = gcj02_offset(lon, lat);
    (lon + dlon, lat + dlat)
}

/// Solves `forward(w) == target` for `w` by fixed-point iteration starting
/// at `start`. Valid because `forward` is the identity plus a slowly varying
/// offset.
fn invert(
    target: (f64, f64),
    start: (f64, f64),
    forward: impl Fn(f64, f64) -> (f64, f64),
) -> (f64, f64) {
    let (mut lon, mut lat) = start;
    for _ in 0..MAX_ITERATIONS {
        let (flon, flat) = forward(lon, lat);
        let (dlon, dlat) = (target.0 - flon, target.1 - flat);
        lon += dlon;
        lat += dlat;
        if dlon.abs() < CONVERGED_DEG && dlat.abs() < CONVERGED_DEG {
            break;
        }
    }
    (lon, lat)
}

/// GCJ-02 → WGS84 by iterating the forward transform until the estimate
/// moves less than 1e-12° (round trip error < 1e-9°, ~0.1 mm). Outside China
/// the input is returned unchanged.
///
/// ```
/// use gridmap_data::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
/// let (glon, glat) = wgs84_to_gcj02(120.15, 30.28);
/// let (lon, lat) = gcj02_to_wgs84(glon, glat);
/// assert!((lon - 120.15).abs() < 1e-9 && (lat - 30.28).abs() < 1e-9);
/// ```
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    invert((lon, lat), (lon, lat), wgs84_to_gcj02)
}

/// GCJ-02 → BD-09 (standard public algorithm).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// The usual closed-form BD-09 → GCJ-02; approximate because it evaluates
/// the perturbation terms at the BD-09 point instead of the GCJ-02 one.
fn bd09_to_gcj02_closed_form(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// BD-09 → GCJ-02. The usual closed-form inverse is off by up to ~0.2 m
/// (measured in the tests), so it only seeds an iteration of
/// [`gcj02_to_bd09`] that converges to < 1e-12°.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(
        (lon, lat),
        bd09_to_gcj02_closed_form(lon, lat),
        gcj02_to_bd09,
    )
}

/// BD-09 → WGS84 (via GCJ-02, both steps iterated).
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(glon, glat)
}

/// WGS84 → BD-09 (via GCJ-02).
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(glon, glat)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Metres per degree of latitude, close enough to judge cm/m error bars.
    const M_PER_DEG: f64 = 111_320.0;

    fn err_m(a: (f64, f64), b: (f64, f64)) -> f64 {
        let dx = (a.0 - b.0) * M_PER_DEG * b.1.to_radians().cos();
        let dy = (a.1 - b.1) * M_PER_DEG;
        (dx * dx + dy * dy).sqrt()
    }

    /// Named cities plus a 1-degree lattice over mainland China.
    fn points() -> Vec<(f64, f64)> {
        let mut pts = vec![
            (120.15, 30.28),   // Hangzhou
            (116.397, 39.909), // Beijing
            (87.617, 43.793),  // Urumqi
            (126.535, 45.803), // Harbin
            (113.264, 23.129), // Guangzhou
            (91.132, 29.660),  // Lhasa
            (109.512, 18.252), // Sanya
        ];
        for lon in (74..=134).step_by(3) {
            for lat in (19..=53).step_by(2) {
                pts.push((lon as f64 + 0.37, lat as f64 + 0.61));
            }
        }
        pts
    }

    #[test]
    fn known_values_match_reference_implementation() {
        // Expected values computed once with the independent Python package
        // coordtransform 0.2.1 (same public algorithm): wgs -> gcj -> bd.
        let cases = [
            (
                (120.15, 30.28),
                (120.1547094728, 30.2776806707),
                (120.1612494912, 30.2835971799),
            ),
            (
                (116.397, 39.909),
                (116.4032435060, 39.9104033973),
                (116.4096156935, 39.9167442217),
            ),
            (
                (126.535, 45.803),
                (126.5410402210, 45.8049817630),
                (126.5476592711, 45.8105961290),
            ),
            (
                (87.617, 43.793),
                (87.6198484993, 43.7942238714),
                (87.6262765790, 43.8003544394),
            ),
        ];
        for (wgs, gcj, bd) in cases {
            let g = wgs84_to_gcj02(wgs.0, wgs.1);
            assert!(
                (g.0 - gcj.0).abs() < 1e-9 && (g.1 - gcj.1).abs() < 1e-9,
                "{wgs:?} -> {g:?}"
            );
            let b = wgs84_to_bd09(wgs.0, wgs.1);
            assert!(
                (b.0 - bd.0).abs() < 1e-9 && (b.1 - bd.1).abs() < 1e-9,
                "{wgs:?} -> {b:?}"
            );
        }
    }

    #[test]
    fn gcj02_round_trip_within_1e9_deg() {
        for (lon, lat) in points() {
            let g = wgs84_to_gcj02(lon, lat);
            assert_ne!(g, (lon, lat), "offset applied inside China");
            let w = gcj02_to_wgs84(g.0, g.1);
            assert!(
                (w.0 - lon).abs() < 1e-9 && (w.1 - lat).abs() < 1e-9,
                "({lon},{lat}) -> {g:?} -> {w:?}"
            );
            // And the other direction: gcj -> wgs -> gcj.
            let back = wgs84_to_gcj02(w.0, w.1);
            assert!((back.0 - g.0).abs() < 1e-9 && (back.1 - g.1).abs() < 1e-9);
        }
    }

    #[test]
    fn one_step_inverse_fails_the_cm_bar_ours_passes() {
        let mut worst_one_step: f64 = 0.0;
        let mut worst_iterated: f64 = 0.0;
        for (lon, lat) in points() {
            let g = wgs84_to_gcj02(lon, lat);
            // The popular one-step inverse: subtract the offset computed at
            // the GCJ-02 point.
            let (dlon, dlat) = gcj02_offset(g.0, g.1);
            let one_step = (g.0 - dlon, g.1 - dlat);
            worst_one_step = worst_one_step.max(err_m(one_step, (lon, lat)));
            worst_iterated = worst_iterated.max(err_m(gcj02_to_wgs84(g.0, g.1), (lon, lat)));
        }
        assert!(worst_one_step > 0.5, "one-step worst {worst_one_step} m");
        assert!(worst_iterated < 0.01, "iterated worst {worst_iterated} m");
        assert!(worst_iterated < 1e-4, "iterated worst {worst_iterated} m");
    }

    #[test]
    fn outside_china_is_unchanged() {
        for p in [(2.35, 48.85), (-74.0, 40.7), (139.69, 35.69), (100.0, 60.0)] {
            assert_eq!(wgs84_to_gcj02(p.0, p.1), p);
            assert_eq!(gcj02_to_wgs84(p.0, p.1), p);
        }
    }

    #[test]
    fn bd09_round_trips() {
        let mut worst_closed_form: f64 = 0.0;
        for (lon, lat) in points() {
            let g = wgs84_to_gcj02(lon, lat);
            let b = gcj02_to_bd09(g.0, g.1);
            let g2 = bd09_to_gcj02(b.0, b.1);
            assert!((g2.0 - g.0).abs() < 1e-9 && (g2.1 - g.1).abs() < 1e-9);
            worst_closed_form =
                worst_closed_form.max(err_m(bd09_to_gcj02_closed_form(b.0, b.1), g));
            let w = bd09_to_wgs84(b.0, b.1);
            assert!((w.0 - lon).abs() < 1e-9 && (w.1 - lat).abs() < 1e-9);
            assert_eq!(wgs84_to_bd09(lon, lat), b);
        }
        // The closed form is why bd09_to_gcj02 iterates: it misses 1 cm
        // (measured worst ~0.2 m on this lattice).
        assert!(
            worst_closed_form > 0.05,
            "closed form worst {worst_closed_form} m"
        );
    }
}
