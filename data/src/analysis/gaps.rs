//! Gaps: ground inside a parent that none of its children covers
//! (`parent − union(children)`), one problem per connected part.

use geo::BooleanOps;
use geo_types::MultiPolygon;

use super::problem::{num, Problem, ProblemKind};
use super::shapes::{part_problems, Ignored};
use crate::model::Grid;

/// The gaps of one parent, given the union of its children (empty when it has none).
pub fn gaps(
    parent: &Grid,
    children_level: &str,
    union: &MultiPolygon<f64>,
    threshold: f64,
    ignored: &mut Ignored,
) -> Vec<Problem> {
    let uncovered = if union.0.is_empty() {
        parent.geometry.clone()
    } else {
        parent.geometry.difference(union)
    };
    part_problems(uncovered, threshold, ignored, |area| {
        let message = format!(
            "{} m² of {} {} ({}) is covered by no {}",
            num(area, 1),
            parent.level,
            parent.name,
            parent.code,
            children_level
        );
        Problem::new(ProblemKind::Gap, vec![parent.code.clone()], message).level(children_level)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::rect;
    use crate::geometry::area_m2;
    use geo::unary_union;
    use geo_types::Polygon;

    fn street(code: &str, p: Polygon<f64>) -> Grid {
        Grid::new(code, "street", None, p.into()).named(format!("name{code}"))
    }

    #[test]
    fn two_separate_gaps_and_a_covered_parent() {
        let parent = street("S", rect(120.0, 30.0, 120.03, 30.01));
        // Children cover [0, 0.01] and [0.015, 0.025]: gaps [0.01, 0.015] and [0.025, 0.03].
        let kids = [
            rect(120.0, 30.0, 120.01, 30.01),
            rect(120.015, 30.0, 120.025, 30.01),
        ];
        let union = unary_union(kids.iter());
        let mut ignored = Ignored::default();
        let found = gaps(&parent, "block", &union, 1.0, &mut ignored);
        assert_eq!(found.len(), 2);
        let expected = area_m2(&MultiPolygon(vec![rect(120.01, 30.0, 120.015, 30.01)]));
        for p in &found {
            assert_eq!(p.grids, ["S"]);
            assert_eq!(p.level.as_deref(), Some("block"));
            assert!((p.area_m2.unwrap() - expected).abs() < 0.1, "{p:?}");
            assert!(
                p.message
                    .contains("of street nameS (S) is covered by no block"),
                "{}",
                p.message
            );
        }
        // The representative points lie inside the two gaps.
        let mut xs: Vec<f64> = found.iter().map(|p| p.location.unwrap()[0]).collect();
        xs.sort_by(f64::total_cmp);
        assert!(
            xs[0] > 120.01 && xs[0] < 120.015 && xs[1] > 120.025 && xs[1] < 120.03,
            "{xs:?}"
        );

        let full = unary_union(
            [
                rect(120.0, 30.0, 120.02, 30.01),
                rect(120.02, 30.0, 120.03, 30.01),
            ]
            .iter(),
        );
        assert!(gaps(&parent, "block", &full, 1.0, &mut ignored).is_empty());
    }

    #[test]
    fn a_parent_without_children_is_one_gap() {
        let parent = street("S", rect(120.0, 30.0, 120.01, 30.01));
        let mut ignored = Ignored::default();
        let found = gaps(&parent, "block", &MultiPolygon(vec![]), 1.0, &mut ignored);
        assert_eq!(found.len(), 1);
        assert!((found[0].area_m2.unwrap() - area_m2(&parent.geometry)).abs() < 0.01);
    }
}
