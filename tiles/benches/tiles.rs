//! Tile generation throughput over a synthetic block grid.
//!
//! `cargo bench -p gridmap-tiles --bench tiles`
//!
//! Measures `PreparedLayer::new` for the grid, `PreparedLayer::new_group` for
//! it under a parent level, and uncached `render_tile` (per
//! zoom arc simplification warmed, every tile encoded from scratch) at several
//! zooms, reported as tiles per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gridmap_tiles::synthetic::{nested_grid, wiggly_grid, GridSpec};
use gridmap_tiles::tile::tiles_covering;
use gridmap_tiles::{render_tile, GroupLayer, LabelLayer, PreparedLayer, TileId, TileOptions};
use std::hint::black_box;

/// 60 × 60 blocks of ~200 m with 30 vertices per side (~3,600 polygons,
/// ~430,000 vertex references), islands in every 7th block.
const SPEC: GridSpec = GridSpec::new(60, 60, 0.002)
    .with_vertices_per_side(30)
    .with_islands_every(7);

fn bench(c: &mut Criterion) {
    let features = wiggly_grid(&SPEC);
    let mut g = c.benchmark_group("prepare");
    g.sample_size(10);
    g.throughput(Throughput::Elements(features.len() as u64));
    g.bench_function("prepared_layer_new", |b| {
        b.iter(|| PreparedLayer::new("grids", black_box(features.clone())).unwrap())
    });
    // The same blocks under 10 × 10 parents, as one group of two levels.
    let (parents, children) = nested_grid(&SPEC, 6);
    g.bench_function("new_group_two_levels", |b| {
        b.iter(|| {
            PreparedLayer::new_group(vec![
                GroupLayer::new("community", black_box(parents.clone())),
                GroupLayer::new("block", black_box(children.clone())).from_zoom(13),
            ])
            .unwrap()
        })
    });
    g.finish();

    let labels = LabelLayer::from_features("labels", &features, 24.0).unwrap();
    let layer = PreparedLayer::new("grids", features).unwrap();
    let opts = TileOptions::default();
    let bbox = layer.bbox().unwrap();
    let mut g = c.benchmark_group("render_tile");
    g.sample_size(10);
    for z in [10u8, 12, 14, 16] {
        let tiles: Vec<TileId> = tiles_covering(bbox, z).unwrap().iter().take(256).collect();
        // Warm the per-zoom simplification cache; tiles themselves are not cached.
        render_tile(tiles[0], &[&layer], Some(&labels), &opts).unwrap();
        g.throughput(Throughput::Elements(tiles.len() as u64));
        g.bench_with_input(BenchmarkId::new("zoom", z), &tiles, |b, tiles| {
            b.iter(|| {
                let mut bytes = 0;
                for &t in tiles {
                    bytes += render_tile(t, &[&layer], Some(&labels), &opts)
                        .unwrap()
                        .len();
                }
                black_box(bytes)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
