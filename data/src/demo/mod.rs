//! A deterministic demo city on the real outline of 西湖区 (Hangzhou, code 330106):
//! streets → communities → blocks with exactly shared borders, gridworkers and
//! point registers, as one [`ChangeSet`].
//!
//! How it is built (all in a local metric plane, then converted to WGS84):
//! 1. the outline (GCJ-02, embedded) is converted to WGS84 and rasterised on a
//!    lattice of square cells, about 100 cells per block;
//! 2. one seed per block by stratified jitter; each cell joins the seed nearest
//!    to its domain-warped centre, so borders wander like real ones;
//! 3. blocks are clustered into streets and communities (k-means on warped
//!    positions), and every region at every level is made 4-connected;
//! 4. "saddles" (a region touching itself at one vertex) are removed, so every
//!    traced ring is simple;
//! 5. lattice vertices get a deterministic jitter and region boundaries are
//!    traced into polygons; a vertex shared by two grids is bit-identical in both.
//!
//! Codes: street = `330106` + 3 digits, community = street + 3 digits, block =
//! community + 3 digits, numbered `001`… in [`reading_order`] within the parent.

mod assign;
mod city;
mod cluster;
mod lattice;
mod names;
mod noise;
mod outline;
mod registers;
mod saddle;
mod trace;
mod workers;

pub use names::reading_order;

use crate::model::{ChangeSet, Grid, GridSystem, GridWriteMode, SystemGrids, DEFAULT_SYSTEM};
use crate::progress::Progress;
use city::{City, BLOCK, COMMUNITY, STREET};
use geo_types::{MultiPolygon, Point};
use lattice::{Lattice, NONE};
use noise::Warp;
use outline::Plane;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map};
use trace::VertexMap;

/// Smallest and largest supported block counts.
pub const MIN_BLOCKS: usize = 10;
pub const MAX_BLOCKS: usize = 150_000;

/// Options of the demo city.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Number of blocks (单元网格), [`MIN_BLOCKS`]..=[`MAX_BLOCKS`].
    pub blocks: usize,
    /// Seed of every random choice; the same options give the same city.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            blocks: 1200,
            seed: 1,
        }
    }
}

/// Why the demo city could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("invalid demo options: {0}")]
    Options(String),
    #[error("demo outline {file}, feature {feature}: {reason}")]
    Outline {
        file: String,
        feature: String,
        reason: String,
    },
    #[error("demo city construction failed: {0}")]
    Construction(String),
}

/// Builds the whole demo city as one change set: grid system `default` with
/// levels `street,community,block` (mode Replace), one 专职网格员 per staffed
/// block plus a 网格长 and a 社区民警 per community (assignments in `default`),
/// and all sites of the kinds `address`, `enterprise`, `fire_risk`, `school`,
/// `internet_cafe`, `food` (those kinds are replaced).
///
/// Every grid carries the attribute `label_point: [lon, lat]`, an interior
/// point used for labels and for numbering.
///
/// ```
/// use gridmap_data::demo::{generate, DemoOptions};
/// use gridmap_data::progress::NoProgress;
///
/// let city = generate(&DemoOptions { blocks: 60, seed: 7 }, &NoProgress).unwrap();
/// let grids = &city.grids[0].grids;
/// assert_eq!(grids.iter().filter(|g| g.level == "block").count(), 60);
/// assert!(grids.iter().all(|g| g.code.starts_with("330106")));
/// ```
pub fn generate(opts: &DemoOptions, progress: &dyn Progress) -> Result<ChangeSet, DemoError> {
    if !(MIN_BLOCKS..=MAX_BLOCKS).contains(&opts.blocks) {
        return Err(DemoError::Options(format!(
            "blocks must be between {MIN_BLOCKS} and {MAX_BLOCKS}, got {}",
            opts.blocks
        )));
    }
    let (city, plane) = paint_city(opts, progress)?;
    let lat = city.lat;
    let map = VertexMap {
        plane,
        x0: lat.x0,
        y0: lat.y0,
        cell: lat.cell,
        nv: lat.nx + 1,
        seed: opts.seed,
    };

    progress.start("trace", 4);
    let mut polygons = Vec::new();
    for level in [STREET, COMMUNITY, BLOCK] {
        polygons.push(trace::trace_level(&city, level, &map)?);
        progress.advance(1);
    }
    let block_polys = polygons.pop().expect("three levels");
    let comm_polys = polygons.pop().expect("three levels");
    let street_polys = polygons.pop().expect("three levels");

    let labels = label_points(&city, &plane);
    let codes = Codes::new(&city, &labels)?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x4E41_4D45);
    let street_names = names::street_names(city.n_streets, &mut rng);
    let comm_names = names::community_names(city.n_comms(), &mut rng)?;
    progress.advance(1);
    progress.finish();

    let adjacency = city.block_adjacency();
    // Workers and sites follow code order, so they do not depend on internal numbering.
    let mut by_code: Vec<usize> = (0..city.n_blocks()).collect();
    by_code.sort_by(|&a, &b| codes.block[a].cmp(&codes.block[b]));
    let mut position = vec![0u32; city.n_blocks()];
    for (p, &b) in by_code.iter().enumerate() {
        position[b] = p as u32;
    }
    let block_codes: Vec<String> = by_code.iter().map(|&b| codes.block[b].clone()).collect();
    let adj_sorted: Vec<Vec<u32>> = by_code
        .iter()
        .map(|&b| {
            let mut v: Vec<u32> = adjacency[b].iter().map(|&n| position[n as usize]).collect();
            v.sort_unstable();
            v
        })
        .collect();
    let mut comm_codes = codes.comm.clone();
    comm_codes.sort();
    let workers = workers::make_workers(&block_codes, &adj_sorted, &comm_codes, opts.seed);

    let infos: Vec<registers::BlockInfo> = by_code
        .iter()
        .map(|&b| registers::BlockInfo {
            code: &codes.block[b],
            polygon: &block_polys[b],
            label: Point::new(labels[BLOCK][b].0, labels[BLOCK][b].1),
        })
        .collect();
    let sites = registers::make_sites(&infos, opts.seed, progress);

    let mut grids = Vec::with_capacity(city.n_streets + city.n_comms() + city.n_blocks());
    let grid = |code: &String,
                name: String,
                level: &str,
                parent: Option<&String>,
                poly: geo_types::Polygon<f64>,
                at: (f64, f64)| {
        let mut attributes = Map::new();
        attributes.insert("label_point".into(), json!([at.0, at.1]));
        Grid {
            code: code.clone(),
            name,
            level: level.to_string(),
            parent: parent.cloned(),
            geometry: MultiPolygon(vec![poly]),
            attributes,
        }
    };
    // Polygons move into the grids once the registers are done with them.
    for (s, poly) in street_polys.into_iter().enumerate() {
        let name = street_names[codes.street_rank[s]].clone();
        grids.push(grid(
            &codes.street[s],
            name,
            "street",
            None,
            poly,
            labels[STREET][s],
        ));
    }
    for (c, poly) in comm_polys.into_iter().enumerate() {
        let parent = &codes.street[city.comm_street[c] as usize];
        let name = comm_names[codes.comm_rank[c]].clone();
        grids.push(grid(
            &codes.comm[c],
            name,
            "community",
            Some(parent),
            poly,
            labels[COMMUNITY][c],
        ));
    }
    drop(infos);
    for (b, poly) in block_polys.into_iter().enumerate() {
        let parent = &codes.comm[city.block_comm[b] as usize];
        let name = format!("第{}网格", codes.block_seq[b]);
        grids.push(grid(
            &codes.block[b],
            name,
            "block",
            Some(parent),
            poly,
            labels[BLOCK][b],
        ));
    }
    grids.sort_by(|a, b| (a.code.len(), &a.code).cmp(&(b.code.len(), &b.code)));

    Ok(ChangeSet {
        grids: vec![SystemGrids {
            system: GridSystem::with_default_levels(DEFAULT_SYSTEM),
            mode: GridWriteMode::Replace,
            grids,
            delete: Vec::new(),
        }],
        workers,
        worker_systems: vec![DEFAULT_SYSTEM.to_string()],
        sites,
        replace_site_kinds: registers::KINDS.iter().map(|k| k.to_string()).collect(),
        ..ChangeSet::default()
    })
}

/// Steps 1–4: the lattice, the blocks, the tree and the topological clean-up.
fn paint_city(opts: &DemoOptions, progress: &dyn Progress) -> Result<(City, Plane), DemoError> {
    let outline = outline::load_outline()?;
    let (mut lon_min, mut lon_max, mut lat_min, mut lat_max) =
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(lon, lat) in outline.iter().flatten().flatten() {
        lon_min = lon_min.min(lon);
        lon_max = lon_max.max(lon);
        lat_min = lat_min.min(lat);
        lat_max = lat_max.max(lat);
    }
    let plane = Plane::new((lon_min + lon_max) / 2.0, (lat_min + lat_max) / 2.0);
    let rings: outline::Rings = outline
        .iter()
        .map(|poly| {
            poly.iter()
                .map(|ring| {
                    ring.iter()
                        .map(|&(lon, lat)| plane.project(lon, lat))
                        .collect()
                })
                .collect()
        })
        .collect();
    let area: f64 = rings
        .iter()
        .map(|poly| {
            let holes: f64 = poly[1..].iter().map(|r| outline::ring_area(r).abs()).sum();
            outline::ring_area(&poly[0]).abs() - holes
        })
        .sum();
    let cell = (area / opts.blocks as f64 / 100.0).sqrt();
    let lat = Lattice::covering(&rings, cell);
    let mut mask = lat.rasterize(&rings, progress);
    lattice::keep_largest_component(&lat, &mut mask);

    let (seeds, spacing) = assign::place_seeds(&lat, &mask, opts.blocks, opts.seed)?;
    let warp = Warp::new(opts.seed ^ 0xB10C, 0.3 * spacing, 2.5 * spacing);
    // The stage covers the nearest-seed pass (one step per row) and the clean-up.
    progress.start("assign", lat.ny as u64 + 2);
    let block = assign::assign_cells(&lat, &mask, &seeds, &warp, progress);
    let mut city = City {
        lat,
        block,
        block_comm: vec![0; opts.blocks],
        comm_street: vec![0],
        n_streets: 1,
    };
    city.repair_blocks();
    cluster::build_tree(&mut city, opts.blocks, opts.seed)?;
    progress.advance(1);
    let mut rounds = 0;
    loop {
        saddle::remove_saddles(&mut city)?;
        if !city.repair_all()? {
            break;
        }
        rounds += 1;
        if rounds > 50 {
            return Err(DemoError::Construction(
                "topology clean-up does not converge".into(),
            ));
        }
    }
    progress.advance(1);
    progress.finish();
    city.check_connected()?;
    if saddle::any_pinch(&city) {
        return Err(DemoError::Construction(
            "a region still touches itself at a vertex".into(),
        ));
    }
    if city.block_sizes().contains(&0) {
        return Err(DemoError::Construction("a block lost all its cells".into()));
    }
    Ok((city, plane))
}

/// Label point of every region at every level: the centre of the region's cell
/// nearest to the mean of its cell centres (always inside the polygon, since the
/// vertex jitter cannot move a cell's border across its centre).
fn label_points(city: &City, plane: &Plane) -> [Vec<(f64, f64)>; 3] {
    let mut out: [Vec<(f64, f64)>; 3] = Default::default();
    for level in [BLOCK, COMMUNITY, STREET] {
        let n = city.regions(level);
        let mut sum = vec![(0.0, 0.0, 0usize); n];
        for c in 0..city.lat.cells() {
            let r = city.label(c, level);
            if r != NONE {
                let (x, y) = city.lat.centre(c);
                let s = &mut sum[r as usize];
                *s = (s.0 + x, s.1 + y, s.2 + 1);
            }
        }
        let mean: Vec<(f64, f64)> = sum
            .iter()
            .map(|s| (s.0 / s.2 as f64, s.1 / s.2 as f64))
            .collect();
        let mut best = vec![(f64::MAX, 0usize); n];
        for c in 0..city.lat.cells() {
            let r = city.label(c, level);
            if r != NONE {
                let (x, y) = city.lat.centre(c);
                let m = mean[r as usize];
                let d = (x - m.0).powi(2) + (y - m.1).powi(2);
                if d < best[r as usize].0 {
                    best[r as usize] = (d, c);
                }
            }
        }
        out[level] = best
            .iter()
            .map(|&(_, c)| {
                let (x, y) = city.lat.centre(c);
                plane.unproject(x, y)
            })
            .collect();
    }
    out
}

/// Codes of all regions and their rank among siblings (for names).
struct Codes {
    street: Vec<String>,
    comm: Vec<String>,
    block: Vec<String>,
    street_rank: Vec<usize>,
    /// Rank of a community in code order over the whole city.
    comm_rank: Vec<usize>,
    /// 1-based sequence number of a block within its community.
    block_seq: Vec<usize>,
}

impl Codes {
    fn new(city: &City, labels: &[Vec<(f64, f64)>; 3]) -> Result<Self, DemoError> {
        // Siblings of each parent, numbered in reading order.
        fn number(
            parents: &[u32],
            n_parents: usize,
            points: &[(f64, f64)],
        ) -> Result<Vec<usize>, DemoError> {
            let mut children = vec![Vec::new(); n_parents];
            for (k, &p) in parents.iter().enumerate() {
                children[p as usize].push(k);
            }
            let mut seq = vec![0; parents.len()];
            for list in &children {
                if list.len() > 999 {
                    return Err(DemoError::Options(format!(
                        "{} children under one parent, codes allow 999",
                        list.len()
                    )));
                }
                let pts: Vec<(f64, f64)> = list.iter().map(|&k| points[k]).collect();
                for (rank, &i) in reading_order(&pts).iter().enumerate() {
                    seq[list[i]] = rank + 1;
                }
            }
            Ok(seq)
        }
        let street_seq = number(&vec![0; city.n_streets], 1, &labels[STREET])?;
        let comm_seq = number(&city.comm_street, city.n_streets, &labels[COMMUNITY])?;
        let block_seq = number(&city.block_comm, city.n_comms(), &labels[BLOCK])?;
        let street: Vec<String> = street_seq
            .iter()
            .map(|s| format!("{}{s:03}", outline::DISTRICT_CODE))
            .collect();
        let comm: Vec<String> = (0..city.n_comms())
            .map(|c| format!("{}{:03}", street[city.comm_street[c] as usize], comm_seq[c]))
            .collect();
        let block: Vec<String> = (0..city.n_blocks())
            .map(|b| format!("{}{:03}", comm[city.block_comm[b] as usize], block_seq[b]))
            .collect();
        let rank = |codes: &[String]| {
            let mut order: Vec<usize> = (0..codes.len()).collect();
            order.sort_by(|&a, &b| codes[a].cmp(&codes[b]));
            let mut r = vec![0; codes.len()];
            for (k, &i) in order.iter().enumerate() {
                r[i] = k;
            }
            r
        };
        Ok(Self {
            street_rank: rank(&street),
            comm_rank: rank(&comm),
            street,
            comm,
            block,
            block_seq,
        })
    }
}

#[cfg(test)]
mod tests;
