//! Shapes: invalid geometries, sliver grids, and the sliver threshold applied
//! to the polygon results of the other checks.

use geo::orient::{Direction, Orient};
use geo_types::{MultiPolygon, Point, Polygon};
use serde::Serialize;

use super::parallel::par_map;
use super::problem::{num, round2, Problem, ProblemKind};
use super::CheckOptions;
use crate::geometry::{area_m2, validate_polygonal, GeometryProblem};
use crate::index::SystemIndex;
use crate::progress::Progress;

/// Polygon parts below the sliver threshold: counted, not listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ignored {
    /// Number of parts.
    pub parts: usize,
    /// Their summed area, m².
    pub area_m2: f64,
}

impl Ignored {
    pub fn add(&mut self, other: Ignored) {
        self.parts += other.parts;
        self.area_m2 += other.area_m2;
    }
}

/// The connected parts of a boolean-operation result with their geodesic areas:
/// those of at least `threshold` m² are kept, the others counted in `ignored`.
pub fn pieces(
    result: MultiPolygon<f64>,
    threshold: f64,
    ignored: &mut Ignored,
) -> Vec<(Polygon<f64>, f64)> {
    let mut kept = Vec::new();
    for polygon in result.0 {
        let area = area_m2(&MultiPolygon(vec![polygon.clone()]));
        if area >= threshold && area > 0.0 {
            kept.push((polygon, area));
        } else {
            ignored.parts += 1;
            ignored.area_m2 += area;
        }
    }
    kept
}

/// One problem per part of a boolean-operation result that [`pieces`] keeps:
/// `problem(area)` names its kind, grids, level and message; the part's
/// location, polygon and area are filled in here.
pub fn part_problems(
    result: MultiPolygon<f64>,
    threshold: f64,
    ignored: &mut Ignored,
    problem: impl Fn(f64) -> Problem,
) -> Vec<Problem> {
    pieces(result, threshold, ignored)
        .into_iter()
        .map(|(polygon, area)| {
            let mut p = problem(area).at_polygon(polygon);
            p.area_m2 = Some(round2(area));
            p
        })
        .collect()
}

/// A multipolygon with counter-clockwise shells and clockwise holes, as
/// `unary_union` needs a consistent winding across its inputs.
pub(crate) fn oriented(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    g.orient(Direction::Default)
}

fn invalid_location(problem: &GeometryProblem) -> Option<Point<f64>> {
    match problem {
        GeometryProblem::SelfIntersection { at, .. } | GeometryProblem::RingsCross { at, .. } => {
            Some(Point::new(at.0, at.1))
        }
        GeometryProblem::OutOfRange { lon, lat } => Some(Point::new(*lon, *lat)),
        _ => None,
    }
}

/// Invalid geometries and grids smaller than the sliver threshold, every level.
pub fn invalid_shapes(
    index: &SystemIndex,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> Vec<Problem> {
    let grids = index.grids();
    progress.start("shapes", grids.len() as u64);
    let found = par_map(grids, |g| {
        let mut out = Vec::new();
        let geometry = &g.geometry;
        match validate_polygonal(geometry) {
            Err(problem) => {
                let message = format!(
                    "{} {} ({}): invalid geometry: {problem}",
                    g.level, g.name, g.code
                );
                let mut p =
                    Problem::new(ProblemKind::InvalidGeometry, vec![g.code.clone()], message)
                        .level(&g.level)
                        .at_area(geometry);
                if let Some(at) = invalid_location(&problem) {
                    p.location = Some([at.x(), at.y()]);
                }
                out.push(p);
            }
            Ok(()) => {
                let area = area_m2(geometry);
                if area < opts.sliver_m2 {
                    let message = format!(
                        "{} {} ({}) has an area of {} m², below the {} m² sliver threshold",
                        g.level,
                        g.name,
                        g.code,
                        num(area, 3),
                        num(opts.sliver_m2, 3)
                    );
                    let mut p =
                        Problem::new(ProblemKind::SliverGrid, vec![g.code.clone()], message)
                            .level(&g.level)
                            .at_area(geometry);
                    p.area_m2 = Some(round2(area));
                    out.push(p);
                }
            }
        }
        progress.advance(1);
        out
    });
    progress.finish();
    found.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{assert_ignored, block};
    use crate::model::GridSystem;
    use crate::progress::NoProgress;
    use geo_types::polygon;

    fn square(x0: f64, y0: f64, d: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x0 + d, y: y0), (x: x0 + d, y: y0 + d), (x: x0, y: y0 + d)]
    }

    #[test]
    fn pieces_split_and_apply_threshold() {
        // 0.001° squares at 30°N are about 96.4 m × 110.9 m; 1e-6° squares about 0.01 m².
        let big = square(120.0, 30.0, 0.001);
        let tiny = square(120.01, 30.0, 0.000001);
        let mut ignored = Ignored::default();
        let kept = pieces(
            MultiPolygon(vec![big.clone(), tiny.clone()]),
            1.0,
            &mut ignored,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].0, big);
        assert!((kept[0].1 - 10_690.0).abs() < 50.0, "{}", kept[0].1);
        assert_ignored(&ignored, 1, 0.0, 0.02);
        // With a zero threshold the tiny part is a problem too.
        let mut none = Ignored::default();
        assert_eq!(
            pieces(MultiPolygon(vec![big, tiny]), 0.0, &mut none).len(),
            2
        );
        assert_eq!(none.parts, 0);
    }

    #[test]
    fn reports_invalid_and_sliver_grids() {
        let bowtie = polygon![(x: 120.0, y: 30.0), (x: 120.01, y: 30.01), (x: 120.01, y: 30.0), (x: 120.0, y: 30.01)];
        let index = SystemIndex::build(
            GridSystem::new("t", vec!["block".into()]),
            vec![
                block("A", square(120.0, 30.0, 0.01)),
                block("B", bowtie),
                block("C", square(120.1, 30.0, 0.000001)),
            ],
        );
        let found = invalid_shapes(&index, &CheckOptions::default(), &NoProgress);
        let kinds: Vec<_> = found
            .iter()
            .map(|p| (p.kind, p.grids[0].as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::InvalidGeometry, "B"),
                (ProblemKind::SliverGrid, "C")
            ]
        );
        assert!(
            found[0].message.contains("invalid geometry"),
            "{}",
            found[0].message
        );
        let at = found[0].location.unwrap();
        assert!(
            (at[0] - 120.005).abs() < 1e-9 && (at[1] - 30.005).abs() < 1e-9,
            "{at:?}"
        );
        assert!(
            found[1].message.contains("below the 1 m² sliver threshold"),
            "{}",
            found[1].message
        );
        // Below a zero threshold nothing is a sliver.
        let opts = CheckOptions {
            sliver_m2: 0.0,
            ..CheckOptions::default()
        };
        assert_eq!(invalid_shapes(&index, &opts, &NoProgress).len(), 1);
    }
}
