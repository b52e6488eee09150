//! Point lookups per second on the Zhejiang fixture (1 province, 11 cities,
//! 90 districts, ~219,000 vertices), using the 20,000 oracle points.
//!
//! The `pip_zhejiang` group isolates the point-in-polygon step: every
//! (point, polygon part whose bounding box holds it) pair, located with the
//! cell-grid fast path (`locate`) and with the banded reference routine
//! (`locate_banded`), in the same run.
//!
//! Run: `cargo bench -p gridmap-data --bench lookup`

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use geo::BoundingRect;
use gridmap_data::catalog::Catalog;
use gridmap_data::import::{import_grids, GridImportOptions};
use gridmap_data::index::PreparedPolygon;
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn oracle_points() -> Vec<(f64, f64)> {
    let mut rdr = csv::Reader::from_path(fixture("zhejiang-points-oracle.csv")).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].parse().unwrap(), r[2].parse().unwrap())
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = GpkgStore::open(dir.path().join("zj.gpkg")).unwrap();
    let opts = GridImportOptions {
        system: "admin".into(),
        levels: Some(vec!["province".into(), "city".into(), "district".into()]),
        crs: None,
        repair: false,
        replace: false,
        allow_shrink: false,
    };
    import_grids(
        &mut store,
        &fixture("zhejiang-admin-gcj02.geojson"),
        &opts,
        &NoProgress,
    )
    .unwrap();
    let catalog = Catalog::load(&store).unwrap();
    let admin = catalog.system("admin").unwrap();
    let points = oracle_points();

    let mut group = c.benchmark_group("lookup_zhejiang");
    group.throughput(Throughput::Elements(points.len() as u64));
    group.bench_function(BenchmarkId::new("all_levels", points.len()), |b| {
        b.iter(|| {
            let mut found = 0usize;
            for &(lon, lat) in &points {
                found += admin.locate(lon, lat).len();
            }
            found
        })
    });
    group.bench_function(BenchmarkId::new("district_only", points.len()), |b| {
        b.iter(|| {
            points
                .iter()
                .filter(|&&(lon, lat)| admin.locate_at_depth(2, lon, lat).is_some())
                .count()
        })
    });
    group.finish();

    // Candidate pairs are found outside the timed loop, so only the
    // point-in-polygon tests are measured.
    let mut parts = Vec::new();
    for g in admin.grids() {
        for poly in &g.geometry.0 {
            if let Some(rect) = poly.bounding_rect() {
                parts.push((rect, PreparedPolygon::new(poly)));
            }
        }
    }
    let pairs: Vec<(usize, f64, f64)> = points
        .iter()
        .flat_map(|&(lon, lat)| {
            parts
                .iter()
                .enumerate()
                .filter(move |(_, (r, _))| {
                    r.min().x <= lon && lon <= r.max().x && r.min().y <= lat && lat <= r.max().y
                })
                .map(move |(i, _)| (i, lon, lat))
        })
        .collect();
    let mut group = c.benchmark_group("pip_zhejiang");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function(BenchmarkId::new("cell_grid", pairs.len()), |b| {
        b.iter(|| {
            pairs
                .iter()
                .filter(|&&(i, x, y)| parts[i].1.locate(x, y).inside)
                .count()
        })
    });
    group.bench_function(BenchmarkId::new("banded", pairs.len()), |b| {
        b.iter(|| {
            pairs
                .iter()
                .filter(|&&(i, x, y)| parts[i].1.locate_banded(x, y).inside)
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
