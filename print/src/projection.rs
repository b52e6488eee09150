//! From longitude/latitude to millimetres on the sheet, and the scale bar.
//!
//! A community is a few kilometres across, so a local equirectangular
//! projection centred on the map is conformal enough: one millimetre on the
//! sheet is the same number of metres east–west and north–south at the
//! centre's latitude, both measured on the WGS84 ellipsoid (geodesics), and
//! within a fraction of a percent across the map.

use geo::{Distance, Geodesic};
use geo_types::{Coord, Point};

/// The map's projection: `x = (lon − lon0)·kx·s`, `y = (lat0 − lat)·s` plus the frame offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    lon0: f64,
    lat0: f64,
    /// Degrees of latitude per degree of longitude spanning the same metres at lat0.
    kx: f64,
    /// Millimetres per degree of latitude.
    s: f64,
    /// Sheet position (mm) of (lon0, lat0).
    cx: f64,
    cy: f64,
    /// Metres on the ground per degree of latitude at lat0.
    metres_per_degree: f64,
}

impl Projection {
    /// The projection fitting `bounds` ([min lon, min lat, max lon, max lat])
    /// into the frame `[x, y, w, h]` (mm) with `padding` (a fraction of the
    /// frame) left on every side.
    pub fn fit(bounds: [f64; 4], frame: [f64; 4], padding: f64) -> Self {
        let lon0 = (bounds[0] + bounds[2]) / 2.0;
        let lat0 = (bounds[1] + bounds[3]) / 2.0;
        let d = 0.005;
        let ns =
            Geodesic.distance(Point::new(lon0, lat0 - d), Point::new(lon0, lat0 + d)) / (2.0 * d);
        let ew =
            Geodesic.distance(Point::new(lon0 - d, lat0), Point::new(lon0 + d, lat0)) / (2.0 * d);
        let kx = ew / ns;
        let span_x = ((bounds[2] - bounds[0]) * kx).max(1e-9);
        let span_y = (bounds[3] - bounds[1]).max(1e-9);
        let [x, y, w, h] = frame;
        let s = (w * (1.0 - 2.0 * padding) / span_x).min(h * (1.0 - 2.0 * padding) / span_y);
        Self {
            lon0,
            lat0,
            kx,
            s,
            cx: x + w / 2.0,
            cy: y + h / 2.0,
            metres_per_degree: ns,
        }
    }

    /// Sheet millimetres of a longitude/latitude.
    pub fn project(&self, c: Coord<f64>) -> (f64, f64) {
        (
            self.cx + (c.x - self.lon0) * self.kx * self.s,
            self.cy + (self.lat0 - c.y) * self.s,
        )
    }

    /// The longitude/latitude at sheet millimetres (x, y).
    pub fn unproject(&self, x: f64, y: f64) -> Coord<f64> {
        Coord {
            x: self.lon0 + (x - self.cx) / (self.kx * self.s),
            y: self.lat0 - (y - self.cy) / self.s,
        }
    }

    /// Metres on the ground per millimetre on the sheet.
    pub fn metres_per_mm(&self) -> f64 {
        self.metres_per_degree / self.s
    }
}

/// A scale bar: `length_mm` on the sheet stands for `metres` on the ground.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBar {
    pub metres: f64,
    pub length_mm: f64,
    /// The representative fraction's denominator, 1:N.
    pub ratio: f64,
}

impl ScaleBar {
    /// The longest round length (1, 2 or 5 × 10ⁿ m) that fits in `max_mm`.
    pub fn new(projection: &Projection, max_mm: f64) -> Self {
        let per_mm = projection.metres_per_mm();
        let max_m = per_mm * max_mm;
        let mut metres = 1.0;
        let mut magnitude = 1.0;
        while magnitude * 10.0 <= max_m {
            magnitude *= 10.0;
        }
        for m in [1.0, 2.0, 5.0] {
            if m * magnitude <= max_m {
                metres = m * magnitude;
            }
        }
        Self {
            metres,
            length_mm: metres / per_mm,
            ratio: per_mm * 1000.0,
        }
    }

    /// The bar's label: metres below a kilometre, else kilometres.
    pub fn label(&self, metres: f64) -> String {
        if self.metres >= 1000.0 {
            let km = metres / 1000.0;
            if km.fract() == 0.0 {
                format!("{km:.0} km")
            } else {
                format!("{km} km")
            }
        } else {
            format!("{metres:.0} m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_bar_matches_geodesic_distances_on_the_sheet() {
        // 文鼎社区's latitude, a 2 km square, on a 400 mm frame.
        let p = Projection::fit(
            [120.10, 30.27, 120.12, 30.29],
            [10.0, 20.0, 400.0, 300.0],
            0.05,
        );
        let bar = ScaleBar::new(&p, 80.0);
        assert!(bar.length_mm <= 80.0 && bar.length_mm > 80.0 / 5.0);
        // Two sheet points the bar's length apart, east–west and north–south
        // through the centre, are bar.metres apart on the ellipsoid.
        for (dx, dy) in [(bar.length_mm, 0.0), (0.0, bar.length_mm)] {
            let a = p.unproject(210.0 - dx / 2.0, 170.0 - dy / 2.0);
            let b = p.unproject(210.0 + dx / 2.0, 170.0 + dy / 2.0);
            let ground = Geodesic.distance(Point::from(a), Point::from(b));
            assert!(
                (ground / bar.metres - 1.0).abs() < 1e-3,
                "{ground} vs {}",
                bar.metres
            );
        }
        assert!((bar.ratio - p.metres_per_mm() * 1000.0).abs() < 1e-9);
        assert_eq!(bar.label(500.0), "500 m");
    }

    #[test]
    fn projection_round_trips_and_fits_the_frame() {
        let bounds = [120.0, 30.0, 120.05, 30.02];
        let frame = [0.0, 0.0, 200.0, 100.0];
        let p = Projection::fit(bounds, frame, 0.1);
        for c in [
            Coord { x: 120.0, y: 30.0 },
            Coord {
                x: 120.05,
                y: 30.02,
            },
        ] {
            let (x, y) = p.project(c);
            assert!((0.0..=200.0).contains(&x) && (0.0..=100.0).contains(&y));
            let back = p.unproject(x, y);
            assert!((back.x - c.x).abs() < 1e-12 && (back.y - c.y).abs() < 1e-12);
        }
    }
}
