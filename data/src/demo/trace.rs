//! Boundary tracing: cell regions → polygons with exactly shared borders.
//!
//! Every lattice vertex gets a deterministic jitter, so a vertex shared by two
//! regions has bit-identical coordinates in both, and borders look hand-drawn.

use super::city::City;
use super::lattice::NONE;
use super::noise::{hash3, unit};
use super::outline::Plane;
use super::DemoError;
use geo_types::{Coord, LineString, Polygon};

/// Largest jitter of a lattice vertex per axis, in cells. Below 0.25 no two
/// lattice edges that do not share a vertex can meet, and edges that share one
/// cannot overlap, so simple lattice rings stay simple.
const JITTER: f64 = 0.24;

/// Maps lattice vertices to jittered plane metres and to longitude/latitude.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VertexMap {
    pub plane: Plane,
    pub x0: f64,
    pub y0: f64,
    pub cell: f64,
    pub nv: usize,
    pub seed: u64,
}

impl VertexMap {
    /// Jittered plane position of lattice vertex `(i, j)`.
    pub(crate) fn xy(&self, i: usize, j: usize) -> (f64, f64) {
        let h = hash3(self.seed ^ 0x717E, i as i64, j as i64, 7);
        let jx = (unit(h) * 2.0 - 1.0) * JITTER;
        let jy = (unit(super::noise::mix64(h)) * 2.0 - 1.0) * JITTER;
        (
            self.x0 + (i as f64 + jx) * self.cell,
            self.y0 + (j as f64 + jy) * self.cell,
        )
    }

    /// Longitude/latitude of vertex id `v`.
    pub(crate) fn lonlat(&self, v: u32) -> Coord<f64> {
        let (x, y) = self.xy(v as usize % self.nv, v as usize / self.nv);
        let (lon, lat) = self.plane.unproject(x, y);
        Coord { x: lon, y: lat }
    }
}

/// One polygon per region of `level`, in longitude/latitude, shells
/// counter-clockwise and holes clockwise.
pub(crate) fn trace_level(
    city: &City,
    level: usize,
    map: &VertexMap,
) -> Result<Vec<Polygon<f64>>, DemoError> {
    let lat = &city.lat;
    let (nx, nv) = (lat.nx, lat.nx + 1);
    // Directed boundary edges with the region on the left, keyed (region, from).
    let mut edges: Vec<(u64, u32)> = Vec::new();
    for j in 1..lat.ny - 1 {
        for i in 1..nx - 1 {
            let c = j * nx + i;
            let r = city.label(c, level);
            if r == NONE {
                continue;
            }
            let key = |v: usize| ((r as u64) << 32) | v as u64;
            let (sw, se, nw, ne) = (
                j * nv + i,
                j * nv + i + 1,
                (j + 1) * nv + i,
                (j + 1) * nv + i + 1,
            );
            if city.label(c - nx, level) != r {
                edges.push((key(sw), se as u32));
            }
            if city.label(c + 1, level) != r {
                edges.push((key(se), ne as u32));
            }
            if city.label(c + nx, level) != r {
                edges.push((key(ne), nw as u32));
            }
            if city.label(c - 1, level) != r {
                edges.push((key(nw), sw as u32));
            }
        }
    }
    edges.sort_unstable();
    if let Some(w) = edges.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(DemoError::Construction(format!(
            "region {} of level {level} passes vertex {} twice",
            w[0].0 >> 32,
            w[0].0 as u32
        )));
    }
    let n_regions = city.regions(level);
    let mut polygons = Vec::with_capacity(n_regions);
    let mut used = vec![false; edges.len()];
    let mut start = 0;
    for r in 0..n_regions as u64 {
        let end = start + edges[start..].partition_point(|e| e.0 >> 32 == r);
        if end == start {
            return Err(DemoError::Construction(format!(
                "region {r} of level {level} is empty"
            )));
        }
        let slice = &edges[start..end];
        let mut shell: Option<LineString<f64>> = None;
        let mut holes = Vec::new();
        for first in 0..slice.len() {
            if used[start + first] {
                continue;
            }
            let mut ring: Vec<u32> = Vec::new();
            let mut k = first;
            loop {
                used[start + k] = true;
                ring.push(slice[k].0 as u32);
                let next = slice[k].1;
                if next == slice[first].0 as u32 {
                    break;
                }
                k = slice
                    .binary_search_by_key(&((r << 32) | next as u64), |e| e.0)
                    .map_err(|_| {
                        DemoError::Construction(format!(
                            "open boundary of region {r} at vertex {next}"
                        ))
                    })?;
                if used[start + k] {
                    return Err(DemoError::Construction(format!(
                        "boundary of region {r} loops at vertex {next}"
                    )));
                }
            }
            // Orientation from exact integer lattice coordinates.
            let twice_area: i64 = (0..ring.len())
                .map(|a| {
                    let (p, q) = (ring[a] as i64, ring[(a + 1) % ring.len()] as i64);
                    let (pi, pj, qi, qj) =
                        (p % nv as i64, p / nv as i64, q % nv as i64, q / nv as i64);
                    pi * qj - qi * pj
                })
                .sum();
            let mut coords: Vec<Coord<f64>> = ring.iter().map(|&v| map.lonlat(v)).collect();
            coords.push(coords[0]);
            if twice_area > 0 {
                if shell.is_some() {
                    return Err(DemoError::Construction(format!(
                        "region {r} of level {level} has several parts"
                    )));
                }
                shell = Some(LineString::new(coords));
            } else {
                holes.push(LineString::new(coords));
            }
        }
        let shell = shell.ok_or_else(|| {
            DemoError::Construction(format!("region {r} of level {level} has no shell"))
        })?;
        polygons.push(Polygon::new(shell, holes));
        start = end;
    }
    Ok(polygons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::city::tests::city_from;
    use crate::demo::city::{BLOCK, COMMUNITY};
    use geo::{Area, Validation, Winding};

    fn map_for(city: &City) -> VertexMap {
        VertexMap {
            plane: Plane::new(120.0, 30.0),
            x0: city.lat.x0,
            y0: city.lat.y0,
            cell: 100.0,
            nv: city.lat.nx + 1,
            seed: 5,
        }
    }

    #[test]
    fn rings_with_holes_are_valid_and_oriented() {
        // b sits inside a (a hole of a), c is beside both.
        let city = city_from(
            &["aaaac", "abbac", "abbac", "aaaac"],
            vec![0, 0, 1],
            vec![0, 0],
        );
        let map = map_for(&city);
        let blocks = trace_level(&city, BLOCK, &map).unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].interiors().len(), 1);
        assert!(blocks[0].exterior().is_ccw() && blocks[0].interiors()[0].is_cw());
        for p in &blocks {
            assert!(p.is_valid(), "{:?}", p.validation_errors());
        }
        // The hole of a is exactly b's shell, reversed.
        let mut hole: Vec<_> = blocks[0].interiors()[0].0.clone();
        hole.reverse();
        let shell = &blocks[1].exterior().0;
        let at = hole.iter().position(|c| *c == shell[0]).unwrap();
        assert_eq!(hole[..hole.len() - 1].len(), shell.len() - 1);
        for k in 0..shell.len() - 1 {
            assert_eq!(hole[(at + k) % (hole.len() - 1)], shell[k]);
        }
        // Planar areas add up exactly enough: community 0 = a + b.
        let comms = trace_level(&city, COMMUNITY, &map).unwrap();
        let sum = blocks[0].unsigned_area() + blocks[1].unsigned_area();
        assert!((comms[0].unsigned_area() - sum).abs() < 1e-12 * sum);
        assert_eq!(comms[0].interiors().len(), 0);
    }

    #[test]
    fn pinched_region_is_an_error() {
        let city = city_from(&["ab", "ba"], vec![0, 0], vec![0]);
        assert!(trace_level(&city, BLOCK, &map_for(&city)).is_err());
    }
}
