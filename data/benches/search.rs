//! Search latency on the default demo city (1,200 blocks, about 19,000
//! sites): one query of each kind people type, through the whole answer
//! (normalise, rank, place in grids).
//!
//! Run: `cargo bench -p gridmap-data --bench search`
//! (`cargo bench -p gridmap-data --bench search_accuracy` prints the
//! accuracy table and latency percentiles over the whole query set.)

use criterion::{criterion_group, criterion_main, Criterion};
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::search::accuracy::{catalog_of, query_set, Variant};
use gridmap_data::search::{search, SearchIndex};

fn bench(c: &mut Criterion) {
    let city = generate(&DemoOptions::default(), &NoProgress).expect("the default demo builds");
    let catalog = catalog_of(&city, 1);
    let index = SearchIndex::build(catalog.sites(), catalog.version());
    let queries = query_set(&catalog, 50, 1);
    let mut group = c.benchmark_group("search");
    for variant in Variant::ALL {
        let texts: Vec<&str> = queries
            .iter()
            .filter(|q| q.variant == variant)
            .map(|q| q.text.as_str())
            .collect();
        let mut k = 0;
        group.bench_function(format!("{variant:?}"), |b| {
            b.iter(|| {
                k = (k + 1) % texts.len();
                search(&catalog, &index, "default", texts[k], 10).expect("a valid query")
            });
        });
    }
    // What a person has typed after two or three characters.
    group.bench_function("suggest_prefix", |b| {
        b.iter(|| search(&catalog, &index, "default", "文三", 6).expect("a valid query"));
    });
    group.finish();
    c.bench_function("index_build_default_demo", |b| {
        b.iter(|| SearchIndex::build(catalog.sites(), catalog.version()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
