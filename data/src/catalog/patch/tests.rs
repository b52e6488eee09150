//! The oracle for [`Catalog::after_change`]: the catalog loaded from the
//! store after the change was written, compared answer by answer.

use geo::{Centroid, CoordsIter};
use geo_types::{MultiPolygon, Point};

use super::*;
use crate::change::SystemGrids;
use crate::demo::{generate, DemoOptions};
use crate::geometry::testutil::zhejiang_grids;
use crate::model::{Grid, GridSystem, Site, WorkerGrid};
use crate::progress::NoProgress;
use crate::store::gpkg::GpkgStore;
use crate::store::GridStore;

/// Everything a caller can ask of a catalog, asked of both.
fn assert_same(patched: &Catalog, loaded: &Catalog, probes: &[(f64, f64)]) {
    assert_eq!(patched.version(), loaded.version());
    let names = |c: &Catalog| c.systems().map(|s| s.system().clone()).collect::<Vec<_>>();
    assert_eq!(names(patched), names(loaded));
    assert_eq!(patched.workers(), loaded.workers());
    assert_eq!(patched.sites(), loaded.sites());
    for (a, b) in patched.systems().zip(loaded.systems()) {
        let name = &a.system().name;
        assert_eq!(a.grids(), b.grids(), "grids of {name}");
        assert_eq!(a.bounds(), b.bounds());
        for (i, g) in a.grids().iter().enumerate() {
            assert_eq!(a.children(i), b.children(i), "children of {}", g.code);
            assert_eq!(a.grid_index(&g.code), Some(i));
            assert_eq!(
                patched.workers_of(name, &g.code),
                loaded.workers_of(name, &g.code)
            );
            assert_eq!(
                patched.grid_site_stats(name, i),
                loaded.grid_site_stats(name, i),
                "stats of {}",
                g.code
            );
            assert_eq!(
                patched.sites_in_grid(name, i),
                loaded.sites_in_grid(name, i),
                "sites of {}",
                g.code
            );
        }
        for site in 0..loaded.sites().len() {
            assert_eq!(
                patched.site_assignment(name, site),
                loaded.site_assignment(name, site),
                "site {site}"
            );
        }
        for &(x, y) in probes {
            assert_eq!(a.locate(x, y), b.locate(x, y), "lookup at ({x}, {y})");
        }
    }
}

/// Every vertex of `grids` (points on their borders) and their centroids.
fn probes(grids: &[&Grid]) -> Vec<(f64, f64)> {
    grids
        .iter()
        .flat_map(|g| {
            g.geometry
                .coords_iter()
                .map(|c| (c.x, c.y))
                .chain(g.geometry.centroid().map(|c| (c.x(), c.y())))
        })
        .collect()
}

fn site(i: usize, (lon, lat): (f64, f64)) -> Site {
    Site {
        id: format!("p{i:05}"),
        kind: if i % 3 == 0 { "school" } else { "address" }.into(),
        name: format!("点{i}"),
        address: None,
        households: Some((i % 7) as u32),
        location: Point::new(lon, lat),
        attributes: Default::default(),
    }
}

/// Applies `change` to the store and compares the patched catalog with a loaded one.
fn check(store: &GpkgStore, change: &ChangeSet, extra_probes: &[(f64, f64)]) {
    let before = Catalog::load(store).unwrap();
    // The grids involved, before and after, give the probes at their borders.
    let system = &change.grids[0].system.name;
    let index = before.system(system).unwrap();
    let mut involved: Vec<&Grid> = change.grids[0].grids.iter().collect();
    involved.extend(
        change.grids[0]
            .grids
            .iter()
            .filter_map(|g| index.grid(&g.code)),
    );
    involved.extend(change.grids[0].delete.iter().filter_map(|c| index.grid(c)));
    let mut probes = probes(&involved);
    probes.extend_from_slice(extra_probes);

    let version = store.apply(change).unwrap();
    let patched = before
        .after_change(change, version)
        .expect("a change the catalog can mirror");
    let loaded = Catalog::load(store).unwrap();
    assert_same(&patched, &loaded, &probes);
}

#[test]
fn after_a_change_the_demo_city_answers_as_loaded_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("demo.gpkg")).unwrap();
    let city = generate(
        &DemoOptions {
            blocks: 150,
            seed: 5,
        },
        &NoProgress,
    )
    .unwrap();
    store.apply(&city).unwrap();
    let catalog = Catalog::load(&store).unwrap();
    let index = catalog.systems().next().unwrap();
    let system = index.system().clone();
    let blocks: Vec<&Grid> = index
        .grids()
        .iter()
        .filter(|g| g.level == "block")
        .collect();
    // C: a block with a worker, whose assignment goes with it.
    let served = |g: &&&Grid| !catalog.workers_of(&system.name, &g.code).is_empty();
    let (a, b, c, e) = (
        blocks[3],
        blocks[4],
        blocks.iter().filter(served).nth(9).unwrap(),
        blocks[20],
    );
    // A and B swap their places, C goes, D takes C's place under a new code, E is renamed.
    let mut new_a = a.clone();
    new_a.geometry = b.geometry.clone();
    let mut new_b = b.clone();
    new_b.geometry = a.geometry.clone();
    let d = Grid {
        code: format!("{}9", c.code),
        name: "新网格".into(),
        ..(*c).clone()
    };
    let mut new_e = e.clone();
    new_e.name = "改名".into();
    // One worker moves to D, one leaves, one arrives for A.
    let workers = catalog.workers();
    let moved = Worker {
        phone: "13800000000".into(),
        grids: vec![WorkerGrid {
            system: system.name.clone(),
            code: d.code.clone(),
            share: 1.0,
        }],
        ..workers[0].clone()
    };
    let arrived = Worker {
        id: "000-new".into(),
        grids: vec![WorkerGrid {
            system: system.name.clone(),
            code: a.code.clone(),
            share: 0.5,
        }],
        ..workers[1].clone()
    };
    let change = ChangeSet {
        grids: vec![SystemGrids {
            system: system.clone(),
            mode: GridWriteMode::Merge,
            grids: vec![new_a, new_b, d, new_e],
            delete: vec![c.code.clone()],
        }],
        workers: vec![moved, arrived],
        worker_systems: vec![system.name.clone()],
        delete_workers: vec![workers[2].id.clone()],
        ..ChangeSet::default()
    };
    let sites: Vec<(f64, f64)> = catalog.sites().iter().map(|s| (s.lon, s.lat)).collect();
    drop(catalog);
    check(&store, &change, &sites);
}

#[test]
fn after_a_change_zhejiang_answers_as_loaded_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = GpkgStore::open(dir.path().join("zj.gpkg")).unwrap();
    let grids = zhejiang_grids();
    let system = GridSystem::new(
        "admin",
        vec!["province".into(), "city".into(), "district".into()],
    );
    // Sites inside, on every shared border vertex of two districts, and outside (the sea).
    let districts: Vec<&Grid> = grids.iter().filter(|g| g.level == "district").collect();
    let mut points: Vec<(f64, f64)> = districts[..6]
        .iter()
        .flat_map(|g| g.geometry.coords_iter().step_by(7).map(|c| (c.x, c.y)))
        .collect();
    points.extend((0..400).map(|i| {
        (
            118.0 + f64::from(i) * 0.0125,
            27.0 + f64::from(i % 40) * 0.1,
        )
    }));
    store
        .apply(&ChangeSet {
            grids: vec![SystemGrids {
                system: system.clone(),
                mode: GridWriteMode::Replace,
                grids: grids.clone(),
                delete: vec![],
            }],
            sites: points
                .iter()
                .copied()
                .enumerate()
                .map(|(i, p)| site(i, p))
                .collect(),
            ..ChangeSet::default()
        })
        .unwrap();
    // District 0 shifts east by 0.01° (now overlapping its neighbours: ties by
    // order decide), district 1 goes, its shape comes back under a new code.
    let shift = |m: &MultiPolygon<f64>| {
        use geo::Translate;
        m.translate(0.01, 0.0)
    };
    let mut moved = districts[0].clone();
    moved.geometry = shift(&moved.geometry);
    let reborn = Grid {
        code: format!("{}X", districts[1].code),
        ..districts[1].clone()
    };
    let change = ChangeSet {
        grids: vec![SystemGrids {
            system,
            mode: GridWriteMode::Merge,
            grids: vec![moved, reborn],
            delete: vec![districts[1].code.clone()],
        }],
        ..ChangeSet::default()
    };
    check(&store, &change, &points);
}

#[test]
fn changes_it_cannot_mirror_ask_for_a_load() {
    let catalog = Catalog::from_parts(1, Default::default(), vec![]);
    let with_sites = ChangeSet {
        sites: vec![site(0, (120.0, 30.0))],
        ..ChangeSet::default()
    };
    assert!(catalog.after_change(&with_sites, 2).is_none());
    let unknown_system = ChangeSet {
        grids: vec![SystemGrids::merge(
            GridSystem::new("x", vec!["block".into()]),
            vec![],
        )],
        ..ChangeSet::default()
    };
    assert!(catalog.after_change(&unknown_system, 2).is_none());
}
