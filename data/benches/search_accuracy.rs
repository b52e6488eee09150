//! The published search accuracy: a query set from the demo register (400
//! sites × 6 ways of writing = 2,400 queries), top-1 share per variant (the
//! right grid first), query latency percentiles and the index build time.
//!
//! Run: `cargo bench -p gridmap-data --bench search_accuracy`
//! (`GRIDMAP_DEMO_BLOCKS=100000` for the large city; `GRIDMAP_QUERIES_PER_VARIANT`
//! changes the sample). Exits non-zero when a variant misses its goal.

use std::time::Instant;

use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::progress::NoProgress;
use gridmap_data::search::accuracy::{catalog_of, evaluate, query_set};
use gridmap_data::search::SearchIndex;

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got `{v}`")),
        Err(_) => default,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let blocks = env_usize("GRIDMAP_DEMO_BLOCKS", DemoOptions::default().blocks);
    let per_variant = env_usize("GRIDMAP_QUERIES_PER_VARIANT", 400);
    let started = Instant::now();
    let city = generate(
        &DemoOptions {
            blocks,
            ..Default::default()
        },
        &NoProgress,
    )
    .expect("the demo city builds");
    let catalog = catalog_of(&city, 1);
    drop(city);
    println!(
        "demo city: {blocks} blocks, {} sites (generated and placed in {:.1} s)",
        catalog.sites().len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let index = SearchIndex::build(catalog.sites(), catalog.version());
    println!(
        "index build: {:.2} s, {} terms, {} threads",
        started.elapsed().as_secs_f64(),
        index.terms(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let queries = query_set(&catalog, per_variant, 1);
    // One pass to warm the caches, then the measured one.
    let _ = evaluate(
        &catalog,
        &index,
        "default",
        &queries[..queries.len().min(200)],
    );
    let report = evaluate(&catalog, &index, "default", &queries);
    println!("\n{} queries\n\n{}", queries.len(), report.table());
    println!(
        "latency per query (normalise, rank, place in grids; one thread): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        report.latency(0.5).as_secs_f64() * 1e3,
        report.latency(0.99).as_secs_f64() * 1e3,
        report.latency(1.0).as_secs_f64() * 1e3
    );
    let missed: Vec<_> = report
        .variants
        .iter()
        .filter(|v| v.top1() < v.variant.goal())
        .collect();
    if !missed.is_empty() {
        println!("\nmisses (query → first result):");
        for (q, got) in report.misses.iter().take(30) {
            println!(
                "  [{:?}] {} → {}",
                q.variant,
                q.text,
                got.as_deref().unwrap_or("(none)")
            );
        }
        if blocks == DemoOptions::default().blocks {
            std::process::exit(1);
        }
    }
}
