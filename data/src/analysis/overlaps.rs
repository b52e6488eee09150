//! Overlaps: ground claimed by two sibling grids. Candidate pairs come from an
//! R-tree over the siblings' bounding boxes, so only neighbours are intersected.

use geo::{BooleanOps, BoundingRect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::problem::{num, Problem, ProblemKind};
use super::shapes::{part_problems, Ignored};
use crate::model::Grid;

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Pairwise overlaps among `siblings`, one problem per connected part.
pub fn overlaps(siblings: &[&Grid], threshold: f64, ignored: &mut Ignored) -> Vec<Problem> {
    if siblings.len() < 2 {
        return Vec::new();
    }
    let boxes: Vec<Option<AABB<[f64; 2]>>> = siblings
        .iter()
        .map(|g| {
            g.geometry
                .bounding_rect()
                .map(|r| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
        })
        .collect();
    let tree = RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|b| BoxEntry::new(Rectangle::from_corners(b.lower(), b.upper()), i))
            })
            .collect(),
    );
    let mut found = Vec::new();
    for (i, a) in siblings.iter().enumerate() {
        let Some(bbox) = boxes[i] else { continue };
        let mut partners: Vec<usize> = tree
            .locate_in_envelope_intersecting(&bbox)
            .map(|e| e.data)
            .filter(|&j| j > i)
            .collect();
        partners.sort_unstable();
        for j in partners {
            let b = siblings[j];
            let (first, second) = if a.code <= b.code { (*a, b) } else { (b, *a) };
            let overlap = a.geometry.intersection(&b.geometry);
            found.extend(part_problems(overlap, threshold, ignored, |area| {
                let message = format!(
                    "{} m² claimed by both {} {} ({}) and {} ({})",
                    num(area, 1),
                    first.level,
                    first.name,
                    first.code,
                    second.name,
                    second.code
                );
                Problem::new(
                    ProblemKind::Overlap,
                    vec![first.code.clone(), second.code.clone()],
                    message,
                )
                .level(&a.level)
            }));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{assert_ignored, block, rect};
    use crate::geometry::area_m2;
    use geo_types::MultiPolygon;

    #[test]
    fn overlapping_pair_found_touching_pair_not() {
        // C overlaps B by 0.001°; A and B only touch; D is far away.
        let a = block("A", rect(120.0, 30.0, 120.01, 30.01));
        let b = block("B", rect(120.01, 30.0, 120.02, 30.01));
        let c = block("C", rect(120.019, 30.0, 120.03, 30.01));
        let d = block("D", rect(121.0, 30.0, 121.01, 30.01));
        let mut ignored = Ignored::default();
        let found = overlaps(&[&c, &a, &d, &b], 1.0, &mut ignored);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].grids,
            ["B", "C"],
            "codes sorted whatever the input order"
        );
        let expected = area_m2(&MultiPolygon(vec![rect(120.019, 30.0, 120.02, 30.01)]));
        assert!((found[0].area_m2.unwrap() - expected).abs() < 0.1);
        let at = found[0].location.unwrap();
        assert!(at[0] > 120.019 && at[0] < 120.02, "{at:?}");
        assert!(found[0].message.starts_with(&format!(
            "{} m² claimed by both block B (B) and C (C)",
            num(expected, 1)
        )));
    }

    #[test]
    fn tiny_overlap_is_ignored_and_counted() {
        // A 1e-6° × 1e-5° overlap: about 0.1 m².
        let a = block("A", rect(120.0, 30.0, 120.01, 30.01));
        let b = block("B", rect(120.009999, 30.00999, 120.02, 30.02));
        let mut ignored = Ignored::default();
        assert!(overlaps(&[&a, &b], 1.0, &mut ignored).is_empty());
        assert_ignored(&ignored, 1, 0.05, 0.15);
        let mut ignored = Ignored::default();
        assert_eq!(overlaps(&[&a, &b], 0.01, &mut ignored).len(), 1);
    }
}
