use std::path::Path;

use geo_types::{polygon, MultiPolygon, Point};
use serde_json::json;

use super::*;
use crate::model::{Grid, GridSystem, Site};
use crate::store::Snapshot;

fn snapshot() -> Snapshot {
    let a = polygon![(x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.1), (x: 120.0, y: 30.1)];
    let b = polygon![(x: 120.0, y: 30.0), (x: 120.05, y: 30.0), (x: 120.05, y: 30.05), (x: 120.0, y: 30.05)];
    let mut street = Grid::new("1", "street", None, MultiPolygon(vec![a])).named("西湖街道");
    street.attributes = json!({"households": 420, "label_point": [120.05, 30.05]})
        .as_object()
        .unwrap()
        .clone();
    let block = Grid::new("11", "community", Some("1"), MultiPolygon(vec![b])).named("翠苑社区");
    Snapshot {
        version: 1,
        checked: true,
        systems: vec![(
            GridSystem::new("综治", vec!["street".into(), "community".into()]),
            vec![street, block],
        )],
        workers: vec![],
        sites: vec![Site {
            id: "s1".into(),
            kind: "school".into(),
            name: "学军小学".into(),
            address: Some("文三路".into()),
            households: None,
            location: Point::new(120.02, 30.02),
            attributes: Default::default(),
        }],
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn every_format_writes_its_files_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot();
    for (format, ext, siblings) in [
        (ExportFormat::Gpkg, "gpkg", &[][..]),
        (
            ExportFormat::Shapefile,
            "shp",
            &["shx", "dbf", "prj", "cpg"][..],
        ),
        (ExportFormat::GeoJson, "geojson", &[][..]),
        (ExportFormat::FlatGeobuf, "fgb", &[][..]),
        (ExportFormat::Csv, "csv", &[][..]),
    ] {
        let out = dir.path().join(format!("grids.{ext}"));
        let report = export_grids(&snap, &GridExportOptions::new("综治", format, &out)).unwrap();
        assert_eq!(report.features, 2, "{format}");
        assert!(out.exists(), "{format}");
        for s in siblings {
            assert!(out.with_extension(s).exists(), "{format} {s}");
        }
    }
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    let geojson: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("grids.geojson")).unwrap())
            .unwrap();
    assert_eq!(
        geojson["features"][0]["properties"]["label_point"],
        json!([120.05, 30.05])
    );
    assert!(geojson["features"][1]["properties"]
        .get("households")
        .is_none());
    let csv = std::fs::read_to_string(dir.path().join("grids.csv")).unwrap();
    assert!(
        csv.starts_with("\u{feff}code,name,level,parent,households,label_point,wkt\n"),
        "{csv}"
    );
}

#[test]
fn options_that_do_not_fit_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot();
    let out = dir.path().join("g.gpkg");
    let mut opts = GridExportOptions::new("综治", ExportFormat::Gpkg, &out);
    opts.file.crs = Crs::Gcj02;
    let e = export_grids(&snap, &opts).unwrap_err().to_string();
    assert!(e.contains("gcj02") && e.contains("csv or geojson"), "{e}");
    opts.file.crs = Crs::Wgs84;
    opts.file.encoding = Some(encoding_rs::GBK);
    assert!(export_grids(&snap, &opts)
        .unwrap_err()
        .to_string()
        .contains("Shapefiles only"));
    opts.file.encoding = None;
    opts.level = Some("block".into());
    let e = export_grids(&snap, &opts).unwrap_err().to_string();
    assert!(
        e.contains("no level `block`") && e.contains("street,community"),
        "{e}"
    );
    opts.level = None;
    opts.system = "消防".into();
    assert!(export_grids(&snap, &opts)
        .unwrap_err()
        .to_string()
        .contains("it has: 综治"));
    // A CRS that cannot hold the grids: nothing, not half a file.
    opts.system = "综治".into();
    opts.file.crs = Crs::GaussKruger(4534); // CM 75E, far west of Hangzhou
    let result = export_grids(&snap, &opts);
    if let Err(e) = result {
        assert!(e.to_string().contains("grid 1"), "{e}");
        assert!(!out.exists());
    }
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_level_and_a_kind_select_what_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot();
    let mut opts =
        GridExportOptions::new("综治", ExportFormat::GeoJson, dir.path().join("c.geojson"));
    opts.level = Some("community".into());
    assert_eq!(export_grids(&snap, &opts).unwrap().features, 1);
    let sites = SiteExportOptions {
        kind: Some("school".into()),
        file: FileOptions {
            format: ExportFormat::Gpkg,
            crs: Crs::GaussKruger(4549),
            encoding: None,
            out: dir.path().join("s.gpkg"),
        },
    };
    let report = export_sites(&snap, &sites).unwrap();
    assert_eq!((report.features, report.what), (1, "sites"));
    let e = export_sites(
        &snap,
        &SiteExportOptions {
            kind: Some("food".into()),
            ..sites
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("kinds: school"), "{e}");
}
