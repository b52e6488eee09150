//! Checks on raw coordinates, before `geo_types` closes rings and hides the evidence.

use crate::geometry::GeometryProblem;

/// A problem seen while reading a feature, before its geometry is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum RawProblem {
    /// Ring-level trouble in the raw coordinates (unclosed ring, NaN/infinity).
    Geometry(GeometryProblem),
    /// The geometry could not be read at all (bad WKT, unsupported shape).
    Unreadable(String),
}

impl std::fmt::Display for RawProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawProblem::Geometry(g) => g.fmt(f),
            RawProblem::Unreadable(reason) => write!(f, "unreadable geometry: {reason}"),
        }
    }
}

/// The first raw problem of one ring given as (x, y) pairs: a non-finite
/// coordinate, else a last position that differs from the first.
pub(crate) fn ring_problem(
    polygon: usize,
    ring: usize,
    points: impl IntoIterator<Item = (f64, f64)>,
) -> Option<GeometryProblem> {
    let mut first = None;
    let mut last = None;
    for (vertex, (x, y)) in points.into_iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Some(GeometryProblem::NonFinite {
                polygon,
                ring,
                vertex,
            });
        }
        if first.is_none() {
            first = Some((x, y));
        }
        last = Some((x, y));
    }
    (first != last).then_some(GeometryProblem::UnclosedRing { polygon, ring })
}

/// The first raw problem of a list of polygons, each a list of rings.
pub(crate) fn polygons_problem<'a, R, P>(
    polygons: impl IntoIterator<Item = P>,
) -> Option<GeometryProblem>
where
    P: IntoIterator<Item = R>,
    R: IntoIterator<Item = (f64, f64)> + 'a,
{
    for (pi, rings) in polygons.into_iter().enumerate() {
        for (ri, ring) in rings.into_iter().enumerate() {
            if let Some(p) = ring_problem(pi, ri, ring) {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unclosed_and_non_finite() {
        let closed = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)];
        assert_eq!(ring_problem(0, 0, closed), None);
        let open = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)];
        assert_eq!(
            ring_problem(1, 2, open),
            Some(GeometryProblem::UnclosedRing {
                polygon: 1,
                ring: 2
            })
        );
        let nan = [(0.0, 0.0), (f64::NAN, 0.0), (0.0, 0.0)];
        assert_eq!(
            ring_problem(0, 0, nan),
            Some(GeometryProblem::NonFinite {
                polygon: 0,
                ring: 0,
                vertex: 1
            })
        );
        let polys = vec![vec![closed.to_vec()], vec![closed.to_vec(), open.to_vec()]];
        assert_eq!(
            polygons_problem(polys),
            Some(GeometryProblem::UnclosedRing {
                polygon: 1,
                ring: 1
            })
        );
    }
}
