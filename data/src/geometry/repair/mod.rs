//! Repair of invalid polygons with the semantics of GEOS `MakeValid` (method
//! "linework", what shapely's `make_valid` does by default), keeping every
//! vertex of the input bit for bit.
//!
//! Boolean operations (geo's i_overlay) snap every vertex they pass through, so
//! repairing one bow-tie with them moved the whole border of a district off its
//! neighbours' and opened gaps and overlaps all along it. Here nothing is
//! rebuilt that was not broken:
//!
//! 1. [`noding`]: the rings' segments are split where they touch or cross,
//!    adding only the crossing points (computed with robust predicates);
//! 2. [`arrangement`]: the noded edges, exactly sorted around each node,
//!    bound faces;
//! 3. [`linework_area`]: GEOS's choice of faces, on sets of faces instead of
//!    overlays (so no coordinate is ever recomputed);
//! 4. [`assemble`]: the boundary of the chosen faces becomes simple rings, and
//!    rings identical to input rings are given back as they were.

mod arrangement;
mod assemble;
mod noding;

use geo_types::{Line, LineString, MultiPolygon};

use arrangement::{classes, walk_faces, Arrangement, OUTSIDE};

/// Rebuilds an invalid multipolygon as a valid one, as GEOS `MakeValid` does.
///
/// All rings of all parts are noded together and the faces of the linework
/// are chosen as GEOS does: a bow-tie becomes its two triangles, a ring
/// looping over itself keeps everything it encloses, a hole crossing its
/// shell is cut from it where they overlap and added where it sticks out, and
/// where two parts of a multipolygon overlap the overlap is left out (as in
/// GEOS; the parts then touch along its border). Repeated points, spikes and
/// zero-area parts disappear; the result may be empty.
///
/// Every output vertex is an input vertex, bit for bit, or a point where two
/// input segments cross. Rings the repair did not have to change come back
/// unchanged, and a valid input comes back equal to itself.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// use gridmap_data::geometry::{make_valid, validate_polygonal};
/// let bow_tie = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
/// let fixed = make_valid(&MultiPolygon::new(vec![bow_tie]));
/// assert_eq!(fixed.0.len(), 2);
/// assert!(validate_polygonal(&fixed).is_ok());
/// ```
pub fn make_valid(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let segments: Vec<Line<f64>> =
        g.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(LineString::lines)
            .collect();
    let edges = noding::node(segments);
    if edges.is_empty() {
        return MultiPolygon::new(vec![]);
    }
    let arrangement = Arrangement::new(&edges);
    let area = linework_area(&arrangement);
    assemble::assemble(&arrangement, &area, g)
}

/// The faces GEOS `MakeValid` keeps, marked per face.
///
/// GEOS builds an area from the noded linework (`BuildArea`), takes the
/// symmetric difference with what it has so far, removes the new area's
/// boundary from the linework and repeats until no area can be built. With
/// every set a union of faces of one arrangement, symmetric difference is an
/// exclusive or of marks and "linework minus boundary" drops the edges whose
/// two faces are marked differently.
fn linework_area(a: &Arrangement) -> Vec<bool> {
    let mut cut_edges = vec![true; a.edges.len()];
    let mut area = vec![false; a.faces];
    while cut_edges.iter().any(|&e| e) {
        let built = build_area(a, &cut_edges);
        if !built.iter().any(|&f| f) {
            break;
        }
        for (f, b) in area.iter_mut().zip(&built) {
            *f ^= b;
        }
        for (e, cut) in cut_edges.iter_mut().enumerate() {
            if built[a.left[2 * e]] != built[a.left[2 * e + 1]] {
                *cut = false;
            }
        }
    }
    area
}

/// GEOS `BuildArea` on the edges marked in `cut_edges`: polygonize them, and
/// keep the faces with an even number of ancestors, where a face's parent is
/// the face having its outer ring as a hole.
///
/// The faces of a subset of the edges are classes of arrangement faces joined
/// across the missing edges; an edge with one class on both sides is a dangle
/// or a bridge, which the polygonizer drops.
fn build_area(a: &Arrangement, cut_edges: &[bool]) -> Vec<bool> {
    let class = classes(
        a.faces,
        (0..a.edges.len())
            .filter(|&e| !cut_edges[e])
            .map(|e| (a.left[2 * e], a.left[2 * e + 1])),
    );
    let outside = class[OUTSIDE];
    let real: Vec<bool> = (0..a.edges.len())
        .map(|e| cut_edges[e] && class[a.left[2 * e]] != class[a.left[2 * e + 1]])
        .collect();
    let walks = walk_faces(a, &real);
    let mut parent: Vec<Option<usize>> = vec![None; a.faces];
    for (walk, inside) in walks.walks.iter().zip(&walks.bounds_from_inside) {
        if !inside {
            continue;
        }
        let face = class[a.left[walk[0]]];
        let around = class[a.left[walk[0] ^ 1]];
        if around != outside && walk.iter().all(|&h| class[a.left[h ^ 1]] == around) {
            parent[face] = Some(around);
        }
    }
    let even_depth = |mut face: usize| {
        let mut depth = 0;
        while let Some(p) = parent[face] {
            depth += 1;
            face = p;
            if depth > a.faces {
                break; // cannot happen geometrically; never loop forever
            }
        }
        depth % 2 == 0
    };
    (0..a.faces)
        .map(|f| class[f] != outside && even_depth(class[f]))
        .collect()
}

#[cfg(test)]
mod tests;
