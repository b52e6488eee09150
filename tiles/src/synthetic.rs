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

impl GridSpec {
    /// `nx` × `ny` cells of `cell` degrees with their south-west corner at
    /// 120.1°E, 30.2°N (Hangzhou, where grids like these are drawn), 20
    /// interior vertices per cell side and no islands.
    pub const fn new(nx: u32, ny: u32, cell: f64) -> Self {
        GridSpec {
            origin: (120.1, 30.2),
            cell,
            nx,
            ny,
            vertices_per_side: 20,
            island_every: 0,
        }
    }

    /// The same grid with `k` interior vertices per cell side.
    pub const fn with_vertices_per_side(self, k: u32) -> Self {
        GridSpec {
            vertices_per_side: k,
            ..self
        }
    }

    /// The same grid with an island in every `n`-th cell (0 for none).
    pub const fn with_islands_every(self, n: u32) -> Self {
        GridSpec {
            island_every: n,
            ..self
        }
    }
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

/// Corner nodes and borders of the cells of a [`GridSpec`]; each border is
/// computed by one function, so every ring using it gets the same bits.
struct Layout<'a> {
    spec: &'a GridSpec,
}

impl Layout<'_> {
    fn node(&self, i: u32, j: u32) -> (f64, f64) {
        let (nx, ny, s) = (self.spec.nx, self.spec.ny, self.spec.cell);
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
            self.spec.origin.0 + f64::from(i) * s + jx,
            self.spec.origin.1 + f64::from(j) * s + jy,
        )
    }

    /// Horizontal border (i,j)->(i+1,j).
    fn h(&self, i: u32, j: u32) -> Vec<(f64, f64)> {
        let (k, amp) = (self.spec.vertices_per_side, 0.08 * self.spec.cell);
        let seed = u64::from(j * (self.spec.nx + 1) + i) * 2;
        border(self.node(i, j), self.node(i + 1, j), k, amp, seed)
    }

    /// Vertical border (i,j)->(i,j+1).
    fn v(&self, i: u32, j: u32) -> Vec<(f64, f64)> {
        let (k, amp) = (self.spec.vertices_per_side, 0.08 * self.spec.cell);
        let seed = u64::from(j * (self.spec.nx + 1) + i) * 2 + 1;
        border(self.node(i, j), self.node(i, j + 1), k, amp, seed)
    }

    /// Counter-clockwise ring (in lon/lat) around cells `i0..i1` × `j0..j1`,
    /// through every node and border vertex on its outline.
    fn outline(&self, i0: u32, i1: u32, j0: u32, j1: u32) -> Vec<(f64, f64)> {
        let mut ring = vec![self.node(i0, j0)];
        for i in i0..i1 {
            ring.extend(self.h(i, j0).into_iter().skip(1));
        }
        for j in j0..j1 {
            ring.extend(self.v(i1, j).into_iter().skip(1));
        }
        for i in (i0..i1).rev() {
            ring.extend(self.h(i, j1).into_iter().rev().skip(1));
        }
        for j in (j0..j1).rev() {
            ring.extend(self.v(i0, j).into_iter().rev().skip(1));
        }
        ring
    }
}

/// Generates the grid described by `spec`: cells have ids `1 + row * nx +
/// col` and properties `name`, `code`, `row` (int), `ratio` (double),
/// `even` (bool).
pub fn wiggly_grid(spec: &GridSpec) -> Vec<FeatureInput> {
    let (nx, ny, s) = (spec.nx, spec.ny, spec.cell);
    let k = spec.vertices_per_side;
    let layout = Layout { spec };
    let mut out = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let id = u64::from(1 + j * nx + i);
            // Counter-clockwise in lon/lat: bottom, right, top reversed, left reversed.
            let ring = layout.outline(i, i + 1, j, j + 1);
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

/// Two nested levels over the grid of `spec`: the parents are blocks of
/// `group` × `group` cells (smaller along the east and north edges), each
/// built from exactly the vertices of its cells' outer borders, as real
/// community polygons are built from their blocks'. Returns `(parents,
/// children)`: parents have ids `1 + prow * pcols + pcol` and properties
/// `name` and `code`; the children are [`wiggly_grid`]`(spec)` (islands
/// included) with an extra `parent` (int) property holding their parent's
/// id.
pub fn nested_grid(spec: &GridSpec, group: u32) -> (Vec<FeatureInput>, Vec<FeatureInput>) {
    let g = group.max(1);
    let layout = Layout { spec };
    let (pnx, pny) = (spec.nx.div_ceil(g), spec.ny.div_ceil(g));
    let mut parents = Vec::new();
    for pj in 0..pny {
        for pi in 0..pnx {
            let id = u64::from(1 + pj * pnx + pi);
            let (i0, j0) = (pi * g, pj * g);
            let ring = layout.outline(i0, (i0 + g).min(spec.nx), j0, (j0 + g).min(spec.ny));
            parents.push(FeatureInput {
                id,
                geometry: MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])]),
                properties: vec![
                    ("name".to_string(), PropValue::String(format!("社区{id}"))),
                    (
                        "code".to_string(),
                        PropValue::String(format!("330106001{id:03}")),
                    ),
                ],
            });
        }
    }
    let mut children = wiggly_grid(spec);
    for c in &mut children {
        // Islands carry 1_000_000 + the id of the cell whose hole they fill.
        let cell = (c.id % 1_000_000) as u32 - 1;
        let (i, j) = (cell % spec.nx, cell / spec.nx);
        let parent = 1 + (j / g) * pnx + i / g;
        c.properties
            .push(("parent".to_string(), PropValue::Int(i64::from(parent))));
    }
    (parents, children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Validation};

    #[test]
    fn cells_are_valid_and_tile_the_block() {
        let spec = GridSpec::new(4, 3, 0.01)
            .with_vertices_per_side(60)
            .with_islands_every(5);
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

    #[test]
    fn nested_parents_are_unions_of_their_children() {
        let spec = GridSpec::new(5, 4, 0.01)
            .with_vertices_per_side(30)
            .with_islands_every(3);
        let (parents, children) = nested_grid(&spec, 2);
        assert_eq!(parents.len(), 3 * 2);
        assert_eq!(children.len(), 20 + 6);
        for p in &parents {
            assert!(p.geometry.is_valid(), "parent {}", p.id);
            let kids: Vec<&MultiPolygon<f64>> = children
                .iter()
                .filter(|c| c.properties.last().unwrap().1 == PropValue::Int(p.id as i64))
                .map(|c| &c.geometry)
                .collect();
            assert!(!kids.is_empty());
            let union = geo::unary_union(kids);
            let diff = geo::BooleanOps::xor(&union, &p.geometry).unsigned_area();
            assert!(
                diff < 1e-12 * p.geometry.unsigned_area(),
                "parent {}: {diff}",
                p.id
            );
        }
    }
}
