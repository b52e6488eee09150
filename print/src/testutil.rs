//! Shared by this crate's tests: the font, the demo city's catalog, the
//! Zhejiang fixture as a catalog (cities as communities, districts as blocks).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use geo_types::{Geometry, MultiPolygon};
use gridmap_data::catalog::Catalog;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::index::SystemIndex;
use gridmap_data::progress::NoProgress;
use gridmap_data::{Grid, GridSystem};

use crate::fonts::Fonts;
use crate::{BoardOptions, PaperSize, PrintDate};

/// The CJK font (Debian's fonts-noto-cjk); the tests need it installed.
pub fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        Fonts::discover(None).unwrap_or_else(|e| panic!("{e} (scripts/test-all.sh installs it)"))
    })
}

/// The default demo city (1,200 blocks), as `gridmap demo` writes it.
pub fn demo() -> &'static Catalog {
    static DEMO: OnceLock<Catalog> = OnceLock::new();
    DEMO.get_or_init(|| {
        let change = generate(&DemoOptions::default(), &NoProgress).expect("demo city");
        let systems: BTreeMap<String, SystemIndex> = change
            .grids
            .into_iter()
            .map(|s| (s.system.name.clone(), SystemIndex::build(s.system, s.grids)))
            .collect();
        Catalog::from_parts(1, systems, change.workers)
    })
}

/// data/fixtures/zhejiang-admin-gcj02.geojson as system `admin`
/// (province → city → district).
pub fn zhejiang() -> &'static Catalog {
    static ZJ: OnceLock<Catalog> = OnceLock::new();
    ZJ.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/fixtures/zhejiang-admin-gcj02.geojson"
        );
        let text = std::fs::read_to_string(path).expect("Zhejiang fixture");
        let fc: geojson::FeatureCollection = text.parse().expect("a FeatureCollection");
        let grids: Vec<Grid> = fc
            .features
            .into_iter()
            .map(|f| {
                let prop = |k: &str| {
                    f.properties
                        .as_ref()
                        .and_then(|p| p.get(k))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                let geometry: Geometry<f64> = f
                    .geometry
                    .clone()
                    .expect("geometry")
                    .try_into()
                    .expect("readable");
                let mp = match geometry {
                    Geometry::MultiPolygon(m) => m,
                    Geometry::Polygon(p) => MultiPolygon(vec![p]),
                    other => panic!("{other:?}"),
                };
                Grid::new(
                    prop("code").expect("code"),
                    prop("level").expect("level"),
                    prop("parent").as_deref(),
                    mp,
                )
                .named(prop("name").expect("name"))
            })
            .collect();
        let system = GridSystem::new(
            "admin",
            vec!["province".into(), "city".into(), "district".into()],
        );
        Catalog::from_parts(
            1,
            [("admin".to_string(), SystemIndex::build(system, grids))].into(),
            Vec::new(),
        )
    })
}

pub fn options(size: PaperSize) -> BoardOptions {
    BoardOptions {
        system: None,
        size,
        landscape: false,
        public_url: "https://grid.example.cn".into(),
        date: PrintDate::parse("2026-01-15").expect("a date"),
        dpi: 40.0,
    }
}
