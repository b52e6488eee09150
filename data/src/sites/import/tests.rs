//! Site import against a real GeoPackage store: every rejection with its
//! message, CRS handling, upsert/replace, shapefile points, placement summary.

use std::path::Path;

use super::*;
use crate::crs::Crs;
use crate::import::ImportError;
use crate::model::{ChangeSet, GridSystem, GridWriteMode, SystemGrids};
use crate::progress::NoProgress;
use crate::store::gpkg::GpkgStore;
use crate::store::GridStore;
use crate::testutil::{grid, rect, write as file};
use ::shapefile::dbase::{self, FieldValue, TableWriterBuilder};

fn store(dir: &Path) -> GpkgStore {
    GpkgStore::open(dir.join("s.gpkg")).unwrap()
}

fn rejected(e: SiteImportError) -> (String, Vec<SiteProblem>) {
    let text = e.to_string();
    match e {
        SiteImportError::Rejected { problems, .. } => (text, problems),
        other => panic!("expected a rejection, got {other}"),
    }
}

fn import(
    store: &GpkgStore,
    path: &Path,
    opts: &SiteImportOptions,
) -> Result<SiteImportReport, SiteImportError> {
    import_sites(store, path, opts, &NoProgress)
}

#[test]
fn csv_addresses_are_imported_with_fields_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let p = file(
        dir.path(),
        "a.csv",
        "ID,lon,lat,Name,address,households,floors\nA1,120.1,30.2,,文一路1号,40,6\nA2,120.2,30.3,二号楼,,12.0,\n7,120.3,30.4,x,,0,\n",
    );
    let r = import(&s, &p, &SiteImportOptions::new("address")).unwrap();
    assert_eq!(
        (
            r.counts.imported,
            r.counts.inserted,
            r.counts.updated,
            r.counts.removed,
            r.counts.total
        ),
        (3, 3, 0, 0, 3)
    );
    assert!(
        r.to_string()
            .contains("3 sites of kind `address` (source CRS EPSG:4326; upsert): 3 new"),
        "{r}"
    );
    let got = s.sites(Some("address")).unwrap();
    assert_eq!(got.len(), 3);
    let a1 = got.iter().find(|x| x.id == "A1").unwrap();
    assert_eq!(a1.name, "文一路1号", "name defaults to the address");
    assert_eq!(a1.address.as_deref(), Some("文一路1号"));
    assert_eq!(a1.households, Some(40));
    assert_eq!((a1.location.x(), a1.location.y()), (120.1, 30.2));
    assert_eq!(a1.attributes["floors"], "6");
    assert!(!a1.attributes.contains_key("households") && !a1.attributes.contains_key("ID"));
    let a2 = got.iter().find(|x| x.id == "A2").unwrap();
    assert_eq!((a2.name.as_str(), a2.households), ("二号楼", Some(12)));
    assert_eq!(
        got.iter().find(|x| x.id == "7").unwrap().households,
        Some(0)
    );
}

#[test]
fn every_bad_row_is_listed_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let p = file(
        dir.path(),
        "bad.csv",
        "id,lon,lat,households\n\
         A1,120.1,30.2,10\n\
         ,120.1,30.2,10\n\
         A1,120.2,30.2,11\n\
         A4,NaN,30.2,10\n\
         A5,120.1,95,10\n\
         A6,40512345.6,3320113.4,10\n\
         A7,120.1,30.2,-3\n\
         A8,120.1,30.2,1.5\n\
         A9,120.1,30.2,many\n\
         A10,120.1,30.2,\n\
         A11,,,5\n\
         A12,abc,30,5\n",
    );
    let (text, problems) =
        rejected(import(&s, &p, &SiteImportOptions::new("address")).unwrap_err());
    let msg = |line: u64| -> String {
        problems
            .iter()
            .filter(|p| p.line == Some(line))
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(
        text.starts_with(&format!(
            "{}: 10 site(s) rejected, nothing imported:",
            p.display()
        )),
        "{text}"
    );
    assert_eq!(msg(3), "line 3: missing id (a non-empty string or number)");
    assert_eq!(msg(4), "line 4 (id A1): duplicate id A1 (also line 2)");
    assert!(
        msg(5).starts_with("line 5 (id A4): coordinate (NaN, 30.2)")
            && msg(5).contains("not a finite number"),
        "{}",
        msg(5)
    );
    assert!(
        msg(6).contains("(id A5): coordinate (120.1, 95.0) cannot be longitude/latitude"),
        "{}",
        msg(6)
    );
    assert!(
        msg(7).contains("suggests EPSG:4528") && msg(7).contains("pass --crs EPSG:4528"),
        "{}",
        msg(7)
    );
    assert_eq!(
        msg(8),
        "line 8 (id A7): households `-3` is not a whole number between 0 and 4294967295"
    );
    assert!(
        msg(9).contains("households `1.5` is not a whole number"),
        "{}",
        msg(9)
    );
    assert!(
        msg(10).contains("households `many` is not a whole number"),
        "{}",
        msg(10)
    );
    // An address without a household count is unknown, not an error.
    assert_eq!(msg(11), "");
    assert_eq!(
        msg(12),
        "line 12 (id A11): missing coordinates (`lon` and `lat` are empty)"
    );
    assert_eq!(
        msg(13),
        "line 13 (id A12): `abc` is not a number (column `lon`)"
    );
    assert!(s.sites(None).unwrap().is_empty(), "nothing written");
    // Households are optional for other kinds, but still checked when given.
    let p = file(
        dir.path(),
        "e.csv",
        "id,lon,lat,households\nE1,120.1,30.2,\nE2,120.1,30.2,-1\n",
    );
    let (_, problems) =
        rejected(import(&s, &p, &SiteImportOptions::new("enterprise")).unwrap_err());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].id.as_deref(), Some("E2"));
}

#[test]
fn non_point_geometry_and_missing_columns() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let p = file(
        dir.path(),
        "w.csv",
        "id,wkt\nS1,POINT(120.1 30.2)\nS2,\"POLYGON((120 30,120.1 30,120.1 30.1,120 30))\"\n",
    );
    let (_, problems) = rejected(import(&s, &p, &SiteImportOptions::new("school")).unwrap_err());
    assert_eq!(
        problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["feature #1 (id S2): the geometry is a Polygon, not a Point"]
    );
    let g = file(
        dir.path(),
        "g.geojson",
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":"F1","name":"店"},"geometry":{"type":"Point","coordinates":[120.1,30.2]}},
          {"type":"Feature","properties":{"name":"无编号"},"geometry":{"type":"LineString","coordinates":[[120,30],[121,31]]}}]}"#,
    );
    let (text, problems) = rejected(import(&s, &g, &SiteImportOptions::new("food")).unwrap_err());
    assert_eq!(problems.len(), 2, "{text}");
    assert!(
        text.contains("feature #1: missing id")
            && text.contains("feature #1: the geometry is a LineString, not a Point"),
        "{text}"
    );
    let c = file(dir.path(), "c.csv", "id,name\n1,a\n");
    let e = import(&s, &c, &SiteImportOptions::new("food"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no coordinate columns") && e.contains("found columns id, name"),
        "{e}"
    );
}

#[test]
fn kind_system_and_crs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let p = file(dir.path(), "k.csv", "id,lon,lat\nK1,120.1,30.2\n");
    for bad in ["", "Fire-Risk", "学校"] {
        let e = import(&s, &p, &SiteImportOptions::new(bad)).unwrap_err();
        assert!(matches!(e, SiteImportError::Kind(_)), "{bad}: {e}");
        assert!(e.to_string().starts_with("invalid site kind: "), "{e}");
    }
    let mut opts = SiteImportOptions::new("pharmacy_24h");
    opts.system = Some("消防".into());
    let e = import(&s, &p, &opts).unwrap_err().to_string();
    assert!(e.contains("grid system `消防` does not exist"), "{e}");
    // Every row failing the CRS means the CRS is wrong: one whole-file error.
    let gk = file(
        dir.path(),
        "gk.csv",
        "id,x,y\nG1,40500000,3320113.398\nG2,40501000,3321113.398\n",
    );
    let e = import(&s, &gk, &SiteImportOptions::new("school")).unwrap_err();
    assert!(
        matches!(e, SiteImportError::Import(ImportError::Crs { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("pass --crs EPSG:4528"), "{e}");
    let mut opts = SiteImportOptions::new("school");
    opts.crs = Some(Crs::GaussKruger(4528));
    let r = import(&s, &gk, &opts).unwrap();
    assert_eq!(r.crs, Crs::GaussKruger(4528));
    let g1 = &s.sites(Some("school")).unwrap()[0];
    assert!(
        (g1.location.x() - 120.0).abs() < 1e-8 && (g1.location.y() - 30.0).abs() < 1e-8,
        "{:?}",
        g1.location
    );
}

#[test]
fn upsert_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let first = file(
        dir.path(),
        "1.csv",
        "id,lon,lat,name\nF1,120.1,30.2,a\nF2,120.1,30.2,b\n",
    );
    import(&s, &first, &SiteImportOptions::new("food")).unwrap();
    import(&s, &first, &SiteImportOptions::new("school")).unwrap();
    let second = file(
        dir.path(),
        "2.csv",
        "id,lon,lat,name\nF2,120.2,30.3,b2\nF3,120.1,30.2,c\n",
    );
    let r = import(&s, &second, &SiteImportOptions::new("food")).unwrap();
    assert_eq!(
        (
            r.counts.inserted,
            r.counts.updated,
            r.counts.removed,
            r.counts.total
        ),
        (1, 1, 0, 3)
    );
    let names: Vec<String> = s
        .sites(Some("food"))
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names, ["a", "b2", "c"]);
    let mut opts = SiteImportOptions::new("food");
    opts.replace = true;
    let only = file(
        dir.path(),
        "3.csv",
        "id,lon,lat\nF3,120.1,30.2\nF9,120.1,30.2\n",
    );
    let r = import(&s, &only, &opts).unwrap();
    assert_eq!(
        (
            r.counts.inserted,
            r.counts.updated,
            r.counts.removed,
            r.counts.total
        ),
        (1, 1, 2, 2)
    );
    let ids: Vec<String> = s
        .sites(Some("food"))
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(ids, ["F3", "F9"]);
    assert_eq!(
        s.sites(Some("school")).unwrap().len(),
        2,
        "other kinds stay"
    );
}

#[test]
fn shapefile_points_and_placement_summary() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let band = |x0: f64, x1: f64| rect(x0, 30.0, x1, 30.1);
    s.apply(&ChangeSet {
        grids: vec![SystemGrids {
            system: GridSystem::new("default", vec!["street".into(), "block".into()]),
            mode: GridWriteMode::Replace,
            grids: vec![
                grid("1", "street", None, band(120.0, 120.2)),
                grid("11", "block", Some("1"), band(120.0, 120.1)),
                grid("12", "block", Some("1"), band(120.1, 120.2)),
            ],
            delete: Vec::new(),
        }],
        ..ChangeSet::default()
    })
    .unwrap();
    let path = dir.path().join("cafes.shp");
    let table = TableWriterBuilder::new()
        .add_character_field("ID".try_into().unwrap(), 10)
        .add_character_field("NAME".try_into().unwrap(), 20)
        .add_numeric_field("SEATS".try_into().unwrap(), 6, 0);
    let mut w = ::shapefile::Writer::from_path(&path, table).unwrap();
    for (id, x, y) in [
        ("C1", 120.05, 30.05),
        ("C2", 120.1, 30.05),
        ("C3", 121.0, 31.0),
    ] {
        let mut rec = dbase::Record::default();
        rec.insert("ID".into(), FieldValue::Character(Some(id.into())));
        rec.insert(
            "NAME".into(),
            FieldValue::Character(Some(format!("网吧{id}"))),
        );
        rec.insert("SEATS".into(), FieldValue::Numeric(Some(80.0)));
        w.write_shape_and_record(&::shapefile::Point::new(x, y), &rec)
            .unwrap();
    }
    drop(w);
    let r = import(&s, &path, &SiteImportOptions::new("internet_cafe")).unwrap();
    assert_eq!(r.counts.imported, 3);
    let c1 = s
        .sites(Some("internet_cafe"))
        .unwrap()
        .into_iter()
        .find(|x| x.id == "C1")
        .unwrap();
    assert_eq!(c1.name, "网吧C1");
    assert_eq!(c1.attributes["SEATS"], 80.0);
    let lv = |l: &str, inside, on_border, outside| LevelPlacement {
        level: l.into(),
        inside,
        on_border,
        outside,
    };
    assert_eq!(
        r.placement,
        vec![SystemPlacement {
            system: "default".into(),
            levels: vec![lv("street", 2, 0, 1), lv("block", 1, 1, 1)]
        }]
    );
    let text = r.to_string();
    assert!(text.contains("system `default`:\n    street: 2 inside, 0 on a border, 1 outside\n    block: 1 inside, 1 on a border, 1 outside"), "{text}");
}
