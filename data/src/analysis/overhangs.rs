//! Overhangs: parts of a child outside its parent (`child − parent`).
//!
//! Computed as `union(children) − parent` first, which is cheap and almost
//! always empty; only when it has a part above the threshold is it attributed
//! to the children (`child ∩ outside`, equal to `child − parent`).

use geo::{BooleanOps, BoundingRect, Intersects};
use geo_types::MultiPolygon;

use super::problem::{num, Problem, ProblemKind};
use super::shapes::{part_problems, pieces, Ignored};
use crate::model::Grid;

/// The overhangs of one parent's children, given their union.
pub fn overhangs(
    parent: &Grid,
    children: &[&Grid],
    union: &MultiPolygon<f64>,
    threshold: f64,
    ignored: &mut Ignored,
) -> Vec<Problem> {
    if union.0.is_empty() {
        return Vec::new();
    }
    let outside = union.difference(&parent.geometry);
    let kept = pieces(outside, threshold, ignored);
    if kept.is_empty() {
        return Vec::new();
    }
    let outside = MultiPolygon(kept.into_iter().map(|(p, _)| p).collect());
    let Some(bbox) = outside.bounding_rect() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for child in children {
        if !child
            .geometry
            .bounding_rect()
            .is_some_and(|r| r.intersects(&bbox))
        {
            continue;
        }
        // The outside parts below the threshold are counted above, once.
        let mut counted = Ignored::default();
        let overhang = child.geometry.intersection(&outside);
        found.extend(part_problems(overhang, threshold, &mut counted, |area| {
            let message = format!(
                "{} m² of {} {} ({}) lies outside its parent {} {} ({})",
                num(area, 1),
                child.level,
                child.name,
                child.code,
                parent.level,
                parent.name,
                parent.code
            );
            Problem::new(
                ProblemKind::Overhang,
                vec![child.code.clone(), parent.code.clone()],
                message,
            )
            .level(&child.level)
        }));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{block, rect};
    use crate::geometry::area_m2;
    use geo::unary_union;
    use geo_types::polygon;

    #[test]
    fn child_reaching_out_of_its_parent() {
        let parent = Grid::new("S", "street", None, rect(120.0, 30.0, 120.02, 30.01).into());
        let a = block("A", rect(120.0, 30.0, 120.01, 30.01));
        // B pokes 0.002° east and 0.001° north of the street.
        let b = block("B", rect(120.01, 30.0, 120.022, 30.011));
        let union = unary_union([&a.geometry, &b.geometry]);
        let mut ignored = Ignored::default();
        let found = overhangs(&parent, &[&a, &b], &union, 1.0, &mut ignored);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].grids, ["B", "S"]);
        // The L-shaped overhang, measured as one polygon: geodesic edges make
        // "area(B) − area(inner part)" differ from it by a few m².
        let l_shape = polygon![(x: 120.02, y: 30.0), (x: 120.022, y: 30.0), (x: 120.022, y: 30.011),
            (x: 120.01, y: 30.011), (x: 120.01, y: 30.01), (x: 120.02, y: 30.01)];
        let expected = area_m2(&MultiPolygon(vec![l_shape]));
        assert!(
            (found[0].area_m2.unwrap() - expected).abs() < 0.1,
            "{:?} vs {expected}",
            found[0].area_m2
        );
        assert!(found[0]
            .message
            .contains("lies outside its parent street S (S)"));

        let inside = unary_union([&a.geometry]);
        assert!(overhangs(&parent, &[&a], &inside, 1.0, &mut ignored).is_empty());
    }
}
