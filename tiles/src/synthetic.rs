//! Deterministic synthetic grid layers for tests and benchmarks: a block of
//! adjacent cells with jittered corners and wiggly shared borders (each border
//! generated once and used by both neighbours, so it is bit-identical on both
//! sides, like topologically clean grid data), optionally with islands that
//! fill holes.

use crate::layer::FeatureInput;
use crate::mvt::PropValue;
use geo_types::{LineString, MultiPolygon, Polygon};
use std::f64::consts::PI;

/// Parameters of [`wiggly_grid`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    /// Lon/lat of the south-west corner.
    pub origin: (f64, f64),
    /// Cell size, degrees.
    pub cell: f64,
    /// Cells west to east.
    pub nx: u32,
    /// Cells south to north.
    pub ny: u32,
    /// Interior vertices per cell side.
    pub vertices_per_side: u32,
    /// Every `island_every`-th cell gets a hole filled by an island feature
    /// (id `1_000_000 + cell id`); 0 for none.
    pub island_every: u32,
}

/// A small deterministic hash to [0, 1).
fn unit(a: u64, b: u64, c: u64) -> f64 {
    let mut h = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ c.wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 29;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A border from `a` to `b` with `k` interior vertices offset sideways by a
/// smooth wiggle that vanishes at the ends (a graph over the chord, so it
/// never crosses itself). Includes both endpoints.
fn border(a: (f64, f64), b: (f64, f64), k: u32, amp: f64, seed: u64) -> Vec<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt();
    let (nx, ny) = (-dy / len, dx / len);
    let (f1, f2, ph) = (
        1.0 + (unit(seed, 1, 0) * 3.0).floor(),
        5.0 + (unit(seed, 2, 0) * 6.0).floor(),
        unit(seed, 3, 0) * 2.0 * PI,
    );
    let mut out = vec![a];
    for i in 1..=k {
        let t = f64::from(i) / f64::from(k + 1);
        let o = amp
            * (PI * t).sin()
            * (0.6 * (2.0 * PI * f1 * t + ph).sin() + 0.4 * (2.0 * PI * f2 * t).sin());
        out.push((a.0 + dx * t + nx * o, a.1 + dy * t + ny * o));
    }
    out.push(b);
    out
}

/// Generates the grid described by `spec`: cells have ids `1 + row * nx +
/// col` and properties `name`, `code`, `row` (int), `ratio` (double),
/// `even` (bool).
pub fn wiggly_grid(spec: &GridSpec) -> Vec<FeatureInput> {
    let (nx, ny, s) = (spec.nx, spec.ny, spec.cell);
    let k = spec.vertices_per_side;
    let node = |i: u32, j: u32| -> (f64, f64) {
        let edge = |v: u32, n: u32| v == 0 || v == n;
        let (jx, jy) = if edge(i, nx) || edge(j, ny) {
            (0.0, 0.0)
        } else {
            (
                (unit(i.into(), j.into(), 7) - 0.5) * 0.16 * s,
                (unit(i.into(), j.into(), 8) - 0.5) * 0.16 * s,
            )
        };
        (
            spec.origin.0 + f64::from(i) * s + jx,
            spec.origin.1 + f64::from(j) * s + jy,
        )
    };
    let amp = 0.08 * s;
    // Horizontal border (i,j)->(i+1,j) and vertical border (i,j)->(i,j+1).
    let h = |i: u32, j: u32| {
        border(
            node(i, j),
            node(i + 1, j),
            k,
            amp,
            u64::from(j * (nx + 1) + i) * 2,
        )
    };
    let v = |i: u32, j: u32| {
        border(
            node(i, j),
            node(i, j + 1),
            k,
            amp,
            u64::from(j * (nx + 1) + i) * 2 + 1,
        )
    };
    let mut out = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let id = u64::from(1 + j * nx + i);
            // Counter-clockwise in lon/lat: bottom, right, top reversed, left reversed.
            let mut ring = h(i, j);
            ring.extend(v(i + 1, j).into_iter().skip(1));
            ring.extend(h(i, j + 1).into_iter().rev().skip(1));
            ring.extend(v(i, j).into_iter().rev().skip(1));
            let mut holes = Vec::new();
            let mut island = None;
            if spec.island_every > 0 && id % u64::from(spec.island_every) == 0 {
                let (cx, cy) = (
                    spec.origin.0 + (f64::from(i) + 0.5) * s,
                    spec.origin.1 + (f64::from(j) + 0.5) * s,
                );
                let n = 4 * k.max(3);
                let circle: Vec<(f64, f64)> = (0..=n)
                    .map(|m| {
                        let a = f64::from(m % n) / f64::from(n) * 2.0 * PI;
                        let r = s * (0.15 + 0.03 * (5.0 * a).sin());
                        (cx + r * a.cos(), cy + r * a.sin())
                    })
                    .collect();
                holes.push(LineString::from(
                    circle.iter().rev().copied().collect::<Vec<_>>(),
                ));
                island = Some(Polygon::new(LineString::from(circle), vec![]));
            }
            let props = vec![
                ("name".to_string(), PropValue::String(format!("网格{id}"))),
                (
                    "code".to_string(),
                    PropValue::String(format!("330106001001{id:03}")),
                ),
                ("row".to_string(), PropValue::Int(i64::from(j))),
                (
                    "ratio".to_string(),
                    PropValue::Double(f64::from(i) / f64::from(nx)),
                ),
                ("even".to_string(), PropValue::Bool(id % 2 == 0)),
            ];
            out.push(FeatureInput {
                id,
                geometry: MultiPolygon(vec![Polygon::new(LineString::from(ring), holes)]),
                properties: props,
            });
            if let Some(p) = island {
                out.push(FeatureInput {
                    id: 1_000_000 + id,
                    geometry: MultiPolygon(vec![p]),
                    properties: vec![("name".to_string(), PropValue::String(format!("岛{id}")))],
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Validation};

    #[test]
    fn cells_are_valid_and_tile_the_block() {
        let spec = GridSpec {
            origin: (120.1, 30.2),
            cell: 0.01,
            nx: 4,
            ny: 3,
            vertices_per_side: 60,
            island_every: 5,
        };
        let f = wiggly_grid(&spec);
        assert_eq!(f.len(), 12 + 2);
        for x in &f {
            assert!(x.geometry.is_valid(), "feature {}", x.id);
        }
        let total: f64 = f.iter().map(|x| x.geometry.unsigned_area()).sum();
        let union = geo::unary_union(f.iter().map(|x| &x.geometry));
        // No overlaps between cells (islands fill their holes exactly) ...
        let ua = union.unsigned_area();
        assert!((total - ua).abs() < 1e-9 * total, "{total} {ua}");
        // ... and no gaps: the union is one piece without holes.
        assert_eq!(union.0.len(), 1);
        assert!(union.0[0].interiors().is_empty());
        let block = 0.04 * 0.03;
        assert!((total - block).abs() < 0.02 * block, "{total}");
    }
}
