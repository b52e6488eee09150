use super::*;
use crate::geometry::testutil::{ring, self_touching_ring, zhejiang_polygons};
use crate::geometry::validate_polygonal;
use geo::{Area, Validation};
use geo_types::{coord, polygon, Coord, Polygon};

fn repaired(polygons: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    let fixed = make_valid(&MultiPolygon::new(polygons));
    assert!(validate_polygonal(&fixed).is_ok(), "{fixed:?}");
    assert!(fixed.is_valid(), "{fixed:?}");
    fixed
}

fn vertices(g: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
    g.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().copied())
        .collect()
}

#[test]
fn bow_tie_becomes_two_triangles() {
    let bow = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
    let fixed = repaired(vec![bow]);
    assert_eq!(fixed.0.len(), 2);
    // Two triangles of base 2 and height 1.
    assert!((fixed.unsigned_area() - 2.0).abs() < 1e-12);
    assert!(vertices(&fixed).contains(&coord! { x: 1.0, y: 1.0 }));
}

#[test]
fn ring_looping_twice_keeps_the_double_cover() {
    // Goes round the square (0,0)-(2,2), then once more round (0,0)-(1,1) inside it.
    let r = ring(&[
        (0.0, 0.0),
        (2.0, 0.0),
        (2.0, 2.0),
        (0.0, 2.0),
        (0.0, 0.0),
        (1.0, 0.0),
        (1.0, 1.0),
        (0.0, 1.0),
        (0.0, 0.0),
    ]);
    let fixed = repaired(vec![Polygon::new(r, vec![])]);
    assert_eq!(fixed.0.len(), 1);
    assert!((fixed.unsigned_area() - 4.0).abs() < 1e-12, "{fixed:?}");
}

#[test]
fn overlapping_parts_leave_out_their_overlap_as_geos_does() {
    let a = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)];
    let b = polygon![(x: 1.0, y: 1.0), (x: 3.0, y: 1.0), (x: 3.0, y: 3.0), (x: 1.0, y: 3.0)];
    let fixed = repaired(vec![a, b]);
    assert_eq!(fixed.0.len(), 2);
    assert!((fixed.unsigned_area() - 6.0).abs() < 1e-12, "{fixed:?}");
}

#[test]
fn part_inside_another_becomes_a_hole_and_nested_holes_alternate() {
    let outer = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
    let inner = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
    let fixed = repaired(vec![outer, inner]);
    assert_eq!(fixed.0.len(), 1);
    assert_eq!(fixed.0[0].interiors().len(), 1);
    assert!((fixed.unsigned_area() - 15.0).abs() < 1e-12);
}

#[test]
fn hole_sticking_out_is_cut_from_the_shell_and_added_outside() {
    let p = Polygon::new(
        ring(&[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]),
        vec![ring(&[
            (2.0, 1.0),
            (6.0, 1.0),
            (6.0, 2.0),
            (2.0, 2.0),
            (2.0, 1.0),
        ])],
    );
    let fixed = repaired(vec![p]);
    // 16 - 2 (the hole's part inside) + 2 (its part outside).
    assert!((fixed.unsigned_area() - 16.0).abs() < 1e-12, "{fixed:?}");
    assert_eq!(fixed.0.len(), 2);
}

#[test]
fn self_touching_ring_keeps_both_lobes() {
    // The ring passes through (2,2) twice; the loop is a separate lobe in the notch.
    let fixed = repaired(vec![Polygon::new(self_touching_ring(), vec![])]);
    assert_eq!(fixed.0.len(), 2);
    assert!(
        (fixed.unsigned_area() - (12.0 + 1.5)).abs() < 1e-12,
        "{fixed:?}"
    );
}

#[test]
fn spikes_and_repeated_points_are_removed() {
    let r = ring(&[
        (0., 0.),
        (1., 0.),
        (1., 0.),
        (1., 3.),
        (1., 1.),
        (0., 1.),
        (0., 0.),
    ]);
    let fixed = repaired(vec![Polygon::new(r, vec![])]);
    assert_eq!(
        fixed.0[0].exterior().0.len(),
        5,
        "the unit square and its closing point: {fixed:?}"
    );
    assert!((fixed.unsigned_area() - 1.0).abs() < 1e-12);
}

#[test]
fn degenerate_ring_repairs_to_empty() {
    let flat = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 2.0, y: 0.0)];
    assert!(make_valid(&MultiPolygon::new(vec![flat])).0.is_empty());
    assert!(make_valid(&MultiPolygon::new(vec![])).0.is_empty());
}

#[test]
fn valid_input_comes_back_bit_for_bit() {
    let shell = ring(&[(120.1, 30.3), (120.0, 30.0), (120.3, 30.1), (120.1, 30.3)]);
    let hole = ring(&[
        (120.12, 30.12),
        (120.15, 30.15),
        (120.13, 30.2),
        (120.12, 30.12),
    ]);
    let island = polygon![(x: 121.0, y: 30.0), (x: 121.1, y: 30.0), (x: 121.0, y: 30.1)];
    // Touching the first part at one vertex is still valid.
    let touching = polygon![(x: 120.3, y: 30.1), (x: 120.4, y: 30.1), (x: 120.4, y: 30.2)];
    let input = MultiPolygon::new(vec![Polygon::new(shell, vec![hole]), island, touching]);
    assert!(validate_polygonal(&input).is_ok());
    assert_eq!(make_valid(&input), input);
}

#[test]
fn untouched_parts_and_valid_stretches_keep_their_bits() {
    let island = polygon![(x: 5.1, y: 5.3), (x: 5.7, y: 5.1), (x: 5.3, y: 5.9)];
    // A long valid border with one pair of vertices swapped in the middle.
    let mut border: Vec<(f64, f64)> = (0..=100)
        .map(|i| (i as f64 * 0.037, (i as f64 * 0.3).sin() * 0.01))
        .collect();
    border.swap(50, 51);
    border.extend([(3.7, 1.0), (0.0, 1.0), (0.0, 0.0)]);
    let broken = Polygon::new(ring(&border), vec![]);
    let input = MultiPolygon::new(vec![broken, island.clone()]);
    assert!(validate_polygonal(&input).is_err());
    let fixed = repaired(input.0.clone());
    assert_eq!(fixed.0.last(), Some(&island));
    let before = vertices(&input);
    let mut added: Vec<_> = vertices(&fixed)
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect();
    added.dedup();
    added.sort_by(|a, b| a.x.total_cmp(&b.x));
    added.dedup();
    assert_eq!(added.len(), 1, "only the crossing point is new: {added:?}");
    let x = added[0];
    assert!(x.x > border[50].0.min(border[51].0) && x.x < border[50].0.max(border[51].0));
    // Every input vertex is kept.
    let after = vertices(&fixed);
    assert!(before.iter().all(|c| after.contains(c)));
}

#[test]
fn ten_thousand_vertices_repair_in_milliseconds() {
    let n = 10_000;
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = 1.0 + 0.05 * (t * 37.0).sin();
            (120.0 + r * t.cos(), 30.0 + r * t.sin())
        })
        .collect();
    for i in (100..n - 100).step_by(1000) {
        pts.swap(i, i + 1);
    }
    pts.push(pts[0]);
    let input = MultiPolygon::new(vec![Polygon::new(ring(&pts), vec![])]);
    let started = std::time::Instant::now();
    let fixed = make_valid(&input);
    let took = started.elapsed();
    assert!(validate_polygonal(&fixed).is_ok());
    println!("{n}-vertex ring with 10 bow-ties repaired in {took:?}");
    assert!(took.as_millis() < 500, "{took:?}");
}

#[test]
fn every_valid_zhejiang_grid_comes_back_bit_for_bit() {
    let grids = zhejiang_polygons();
    assert_eq!(grids.len(), 102);
    for (i, g) in grids.iter().enumerate() {
        assert!(validate_polygonal(g).is_ok());
        assert!(make_valid(g) == *g, "feature {i}");
    }
}

/// One case of `data/fixtures/repair/cases.json` (see scripts/oracles/make_repair_oracle.py).
struct OracleCase {
    name: String,
    input: MultiPolygon<f64>,
    geos: MultiPolygon<f64>,
}

fn multipolygon(v: &serde_json::Value) -> MultiPolygon<f64> {
    let g = geojson::Geometry::from_json_value(v.clone()).expect("GeoJSON geometry");
    MultiPolygon::try_from(geo_types::Geometry::<f64>::try_from(g).expect("geometry"))
        .expect("a MultiPolygon")
}

fn oracle_cases() -> Vec<OracleCase> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/repair/cases.json");
    let text = std::fs::read_to_string(path).expect("repair oracle fixture");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| OracleCase {
            name: c["name"].as_str().unwrap().to_string(),
            input: multipolygon(&c["input"]),
            geos: multipolygon(&c["geos"]),
        })
        .collect()
}

/// Whether `p` lies on at least two input segments (a computed crossing point,
/// up to its rounding).
fn is_crossing_point(input: &MultiPolygon<f64>, p: Coord<f64>) -> bool {
    use geo::{Distance, Euclidean};
    let on = input
        .0
        .iter()
        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
        .flat_map(LineString::lines)
        .filter(|l| Euclidean.distance(l, &geo_types::Point::from(p)) < 1e-9)
        .count();
    on >= 2
}

#[test]
fn matches_geos_make_valid_on_the_oracle_cases() {
    use geo::BooleanOps;
    let cases = oracle_cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let (mut worst_area, mut worst_xor) = (0.0f64, 0.0f64);
    for case in &cases {
        assert!(
            validate_polygonal(&case.input).is_err(),
            "{}: the input should be invalid",
            case.name
        );
        let ours = make_valid(&case.input);
        let expected = case.geos.unsigned_area();
        if expected == 0.0 {
            assert!(ours.0.is_empty(), "{}: {ours:?}", case.name);
            continue;
        }
        assert!(
            validate_polygonal(&ours).is_ok(),
            "{}: {:?}",
            case.name,
            validate_polygonal(&ours)
        );
        assert!(ours.is_valid(), "{}: {ours:?}", case.name);
        let area_error = (ours.unsigned_area() - expected).abs() / expected;
        let xor = ours.xor(&case.geos).unsigned_area() / expected;
        assert!(
            area_error <= 1e-4,
            "{}: area off by {area_error}",
            case.name
        );
        assert!(xor < 1e-6, "{}: symmetric difference {xor}", case.name);
        worst_area = worst_area.max(area_error);
        worst_xor = worst_xor.max(xor);
        let before = vertices(&case.input);
        for v in vertices(&ours) {
            assert!(
                before.contains(&v) || is_crossing_point(&case.input, v),
                "{}: {v:?} is neither an input vertex nor a crossing",
                case.name
            );
        }
    }
    println!(
        "{} cases: max relative area error {worst_area:e}, max symmetric difference / area {worst_xor:e}",
        cases.len()
    );
}
