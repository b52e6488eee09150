use serde_json::json;

use super::*;
use crate::assign::{assign_stream, AssignOptions, OutputFormat};
use crate::crs::Crs;
use crate::progress::NoProgress;
use crate::sites::{prepare_site_import, SiteImportError, SiteImportOptions};
use crate::testutil::{two_blocks, write, MemStore};

/// Every row of `text`, with the CSV columns and the legacy `crs` member.
fn read(format: InputFormat, text: &str) -> AllRows {
    read_all(format, text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A row's coordinates, or what is wrong with them.
type Coords = Result<(f64, f64), String>;

/// Each row's position and coordinates.
fn coords(all: &AllRows) -> Vec<(RowPos, Coords)> {
    all.rows
        .iter()
        .map(|r| (r.pos, r.coords(all.columns.as_ref())))
        .collect()
}

fn error(format: InputFormat, text: &str) -> ReadError {
    match read_all(format, text.as_bytes()) {
        Err(e) => e,
        Ok(all) => panic!("read {} rows", all.rows.len()),
    }
}

#[test]
fn formats_from_paths() {
    for (path, want) in [
        ("a/b.CSV", Some(InputFormat::Csv)),
        ("b.txt", Some(InputFormat::Csv)),
        ("b.geojson", Some(InputFormat::Json)),
        ("b.json", Some(InputFormat::Json)),
        ("b.shp", None),
        ("b", None),
    ] {
        assert_eq!(InputFormat::from_path(Path::new(path)), want, "{path}");
    }
}

#[test]
fn csv_columns_by_any_accepted_name_past_a_byte_order_mark() {
    for (x, y) in [
        ("long", "lat"),
        ("Longitude", "Latitude"),
        ("\u{feff}X", "y"),
        ("lng", "LAT"),
    ] {
        let all = read(InputFormat::Csv, &format!("{x},{y},ID\n120.1,30.2,a\n"));
        let cols = all.columns.as_ref().unwrap();
        assert_eq!((cols.x, cols.y, cols.id), (0, 1, Some(2)), "{x},{y}");
        assert_eq!(coords(&all), [(RowPos::Line(2), Ok((120.1, 30.2)))]);
        assert_eq!(cols.name(0), x.trim_start_matches('\u{feff}'));
    }
    // `lon` is preferred to `x` wherever it stands.
    let all = read(InputFormat::Csv, "x,lat,lon\n1,2,3\n");
    assert_eq!(coords(&all)[0].1, Ok((3.0, 2.0)));
}

#[test]
fn a_missing_coordinate_column_names_the_header_as_written() {
    match error(InputFormat::Csv, "\u{feff}Id, Lon ,height\n1,2,3\n") {
        ReadError::MissingColumn {
            which,
            accepted,
            header,
        } => {
            assert_eq!((which, accepted), ("y/latitude", LAT_ACCEPTED));
            assert_eq!(header, ["Id", "Lon", "height"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_coordinate_messages() {
    let all = read(
        InputFormat::Csv,
        "name,lon,lat,note\n\
         a,120.1,30.2,ok\n\
         \"two\nlines\",abc,30,quoted\n\
         c,,30,no lon\n\
         d,120,,no lat\n\
         e,,,none\n\
         f,120.1\n\
         g,120.1,30.2,x,extra\n\
         h, NaN ,30,nan parses\n",
    );
    let got = coords(&all);
    let message = |i: usize| got[i].1.clone().unwrap_err();
    assert_eq!(got[0], (RowPos::Line(2), Ok((120.1, 30.2))));
    assert_eq!(got[1].0, RowPos::Line(3), "the record starts on line 3");
    assert_eq!(message(1), "`abc` is not a number (column `lon`)");
    assert_eq!(got[2].0, RowPos::Line(5));
    assert_eq!(message(2), "missing `lon`");
    assert_eq!(message(3), "missing `lat`");
    assert_eq!(
        message(4),
        "missing coordinates (`lon` and `lat` are empty)"
    );
    assert_eq!(
        message(5),
        "missing `lat` (the row has 2 fields, the header 4)"
    );
    assert_eq!(message(6), "the row has 5 fields, the header 4");
    assert!(
        got[7].1.as_ref().unwrap().0.is_nan(),
        "NaN is left to the CRS check"
    );
}

#[test]
fn json_collections_features_and_points() {
    // `bbox` and `crs` before `features`, a feature `id`, a one-point MultiPoint.
    let all = read(
        InputFormat::Json,
        r#"{"type":"FeatureCollection","bbox":[0,0,2,1],
            "crs":{"type":"name","properties":{"name":"EPSG:4490"}},"features":[
          {"type":"Feature","id":7,"properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[0.5,0.5,12]}},
          {"type":"Feature","properties":null,"geometry":{"type":"MultiPoint","coordinates":[[1.5,0.5]]}}]}"#,
    );
    assert_eq!(
        coords(&all),
        [
            (RowPos::Feature(0), Ok((0.5, 0.5))),
            (RowPos::Feature(1), Ok((1.5, 0.5)))
        ]
    );
    assert_eq!(all.crs.unwrap()["properties"]["name"], "EPSG:4490");
    // A lone Feature is one row.
    let all = read(
        InputFormat::Json,
        r#"{"type":"Feature","properties":{"id":"x"},"geometry":{"type":"Point","coordinates":[1,2]}}"#,
    );
    assert_eq!(coords(&all), [(RowPos::Feature(0), Ok((1.0, 2.0)))]);
    assert_eq!(all.crs, None);
    let all = read(
        InputFormat::Json,
        r#"{"points":[{"id":"p","lng":"1.5","LAT":0,"lat":0.5},{"x":1,"y":2}]}"#,
    );
    assert_eq!(
        coords(&all),
        [
            (RowPos::Point(0), Ok((1.5, 0.5))),
            (RowPos::Point(1), Ok((1.0, 2.0)))
        ]
    );
}

#[test]
fn json_coordinate_messages() {
    let features = [
        (json!(5), "not a JSON object: 5"),
        (
            json!({"type": "Point"}),
            "not a GeoJSON Feature (`type` is not \"Feature\")",
        ),
        (
            json!({"type": "Feature", "geometry": null}),
            "the feature has no geometry",
        ),
        (json!({"type": "Feature"}), "the feature has no geometry"),
        (
            json!({"type": "Feature", "geometry": {"coordinates": [1, 2]}}),
            "the geometry has no `type`",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}),
            "the geometry is a LineString, not a Point",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}}),
            "the geometry is a MultiPoint of 2 points, not a single Point",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}}),
            "the Point has no [x, y] coordinates",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": ["1", 2]}}),
            "coordinates [\"1\", 2] are not numbers",
        ),
    ];
    let points = [
        (json!("p"), "not a JSON object: \"p\""),
        (
            json!({"lat": 1}),
            "missing `lon` (accepted keys: lon, lng, longitude, long, x)",
        ),
        (
            json!({"lon": 1}),
            "missing `lat` (accepted keys: lat, latitude, y)",
        ),
        (json!({"lon": null, "lat": 1}), "missing `lon`"),
        (json!({"lon": " ", "lat": 1}), "missing `lon`"),
        (
            json!({"lon": "east", "lat": 1}),
            "\"east\" is not a number (key `lon`)",
        ),
        (
            json!({"lng": true, "lat": 1}),
            "true is not a number (key `lng`)",
        ),
    ];
    for (value, want) in features {
        let row = Row {
            pos: RowPos::Feature(0),
            payload: Payload::Feature(value.clone()),
        };
        assert_eq!(row.coords(None), Err(want.to_string()), "{value}");
    }
    for (value, want) in points {
        let row = Row {
            pos: RowPos::Point(0),
            payload: Payload::Point(value.clone()),
        };
        assert_eq!(row.coords(None), Err(want.to_string()), "{value}");
    }
}

#[test]
fn geometries_from_other_readers_get_the_json_messages() {
    use geo_types::{line_string, point, Geometry, MultiPoint};
    assert_eq!(
        geometry_point(Some(&Geometry::Point(point!(x: 1.0, y: 2.0)))),
        Ok((1.0, 2.0))
    );
    let one = MultiPoint(vec![point!(x: 3.0, y: 4.0)]);
    assert_eq!(
        geometry_point(Some(&Geometry::MultiPoint(one))),
        Ok((3.0, 4.0))
    );
    let two = MultiPoint(vec![point!(x: 0.0, y: 0.0), point!(x: 1.0, y: 1.0)]);
    let line = Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)]);
    for (geometry, json) in [
        (None, json!({"type": "Feature", "geometry": null})),
        (
            Some(Geometry::MultiPoint(two)),
            json!({"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}}),
        ),
        (
            Some(line),
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}),
        ),
    ] {
        let row = Row {
            pos: RowPos::Feature(0),
            payload: Payload::Feature(json),
        };
        let message = geometry_point(geometry.as_ref()).unwrap_err();
        assert_eq!(Err(message), row.coords(None));
    }
}

#[test]
fn properties_leave_out_the_coordinates() {
    let all = read(
        InputFormat::Csv,
        "\u{feff}ID,Lng,LAT, name \nA1,120.1,30.2,一号\nA2,1,2,\n",
    );
    let cols = all.columns;
    let props: Vec<_> = all
        .rows
        .into_iter()
        .map(|r| Value::Object(r.into_properties(cols.as_ref())))
        .collect();
    assert_eq!(
        props,
        [
            json!({"ID": "A1", "name": "一号"}),
            json!({"ID": "A2", "name": null})
        ]
    );
    let all = read(
        InputFormat::Json,
        r#"{"features":[{"type":"Feature","properties":{"id":"f"},"geometry":null},{"type":"Feature","properties":7}],
            "points":[{"id":"p","lng":1,"lat":2,"x":9,"note":"n"}]}"#,
    );
    let props: Vec<_> = all
        .rows
        .into_iter()
        .map(|r| Value::Object(r.into_properties(None)))
        .collect();
    assert_eq!(
        props,
        [
            json!({"id": "f"}),
            json!({}),
            json!({"id": "p", "x": 9, "note": "n"})
        ]
    );
}

#[test]
fn broken_inputs_are_read_errors() {
    assert!(matches!(
        error(InputFormat::Json, r#"{"type":"FeatureCollection"}"#),
        ReadError::Json { element: None, ref message, .. } if message.contains("no `features` or `points` array")
    ));
    assert!(matches!(
        error(
            InputFormat::Json,
            r#"{"features":[{"type":"Feature"},{"type":"Feature",]}"#
        ),
        ReadError::Json {
            element: Some(1),
            line: 1,
            ..
        }
    ));
    assert!(matches!(
        error(InputFormat::Json, "[1,2]"),
        ReadError::Json { .. }
    ));
    assert!(matches!(
        error(InputFormat::Json, r#"{"points":[]} trailing"#),
        ReadError::Json { .. }
    ));
}

#[test]
fn framing_stops_when_the_consumer_has_gone() {
    for (format, text) in [
        (
            InputFormat::Csv,
            "lon,lat\n1,1\n2,2\n3,3\n4,4\n5,5\n".to_string(),
        ),
        (
            InputFormat::Json,
            json!({"points": (0..5).map(|i| json!({"lon": i, "lat": i})).collect::<Vec<_>>()})
                .to_string(),
        ),
    ] {
        let (source, _) = Source::open(format, text.as_bytes()).unwrap();
        let mut batches = Vec::new();
        source
            .run(2, |rows| {
                batches.push(rows.len());
                false
            })
            .unwrap();
        assert_eq!(batches, [2], "{format:?}");
        let (source, _) = Source::open(format, text.as_bytes()).unwrap();
        let mut batches = Vec::new();
        source
            .run(2, |rows| {
                batches.push(rows.len());
                true
            })
            .unwrap();
        assert_eq!(batches, [2, 2, 1], "{format:?}");
    }
}

#[test]
fn conversion_to_wgs84_refuses_points_off_the_earth() {
    assert_eq!(to_wgs84(Crs::Wgs84, (120.0, 30.0)).unwrap(), (120.0, 30.0));
    assert!(matches!(
        to_wgs84(Crs::Wgs84, (200.0, 30.0)),
        Err(ToWgs84Error::Crs(_))
    ));
    // BD-09's offset carries the western edge of the map past -180°.
    let e = to_wgs84(Crs::Bd09, (-180.0, 0.0)).unwrap_err();
    assert!(matches!(e, ToWgs84Error::OffEarth { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("coordinate (-180.0, 0.0) under bd09 converts to (-180.0"),
        "{e}"
    );
}

/// The same CSV and GeoJSON through `gridmap import sites` and `gridmap
/// assign`: the same rows, the same coordinates, the same reasons.
#[test]
fn import_sites_and_assign_read_the_same_points() {
    let csv_ok = "\u{feff}id,long,lat,name\nA,0.5,0.25,西\nB,1.5,0.75,东\n";
    let csv_bad = "\u{feff}id,long,lat,name\nA,0.5,0.25,西\nB,12O.1,0.75,typo\nC,200,0.5,off\n";
    let fc = |second: serde_json::Value| {
        json!({"type": "FeatureCollection", "bbox": [0, 0, 2, 1], "features": [
            {"type": "Feature", "properties": {"id": "A"}, "geometry": {"type": "Point", "coordinates": [0.5, 0.25]}},
            {"type": "Feature", "properties": {"id": "B"}, "geometry": second}]})
        .to_string()
    };
    let json_ok = fc(json!({"type": "Point", "coordinates": [1.5, 0.75]}));
    let json_bad = fc(json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}));
    let dir = tempfile::tempdir().unwrap();
    let index = two_blocks();
    let store = MemStore::default();
    let opts = SiteImportOptions::new("school");
    let assign = |format: InputFormat, text: &str| {
        let mut out = Vec::new();
        let summary = assign_stream(
            &index,
            format,
            text.as_bytes(),
            OutputFormat::Json,
            &mut out,
            &AssignOptions::default(),
            &NoProgress,
        )
        .unwrap();
        let results: Value = serde_json::from_slice(&out).unwrap();
        let points: Vec<(f64, f64)> = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] != "error")
            .map(|r| (r["lon"].as_f64().unwrap(), r["lat"].as_f64().unwrap()))
            .collect();
        let reasons: Vec<String> = summary
            .row_errors
            .iter()
            .map(|e| e.message.clone())
            .collect();
        (points, reasons)
    };
    for (name, format, ok, bad) in [
        ("s.csv", InputFormat::Csv, csv_ok, csv_bad),
        (
            "s.geojson",
            InputFormat::Json,
            json_ok.as_str(),
            json_bad.as_str(),
        ),
    ] {
        let path = write(dir.path(), name, ok);
        let (change, _) = prepare_site_import(&store, &path, &opts, &NoProgress).unwrap();
        let sites: Vec<(f64, f64)> = change
            .sites
            .iter()
            .map(|s| (s.location.x(), s.location.y()))
            .collect();
        assert_eq!(
            change
                .sites
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>(),
            ["A", "B"]
        );
        let (points, reasons) = assign(format, ok);
        assert!(reasons.is_empty(), "{name}: {reasons:?}");
        assert_eq!(sites, [(0.5, 0.25), (1.5, 0.75)], "{name}");
        assert_eq!(points, sites, "{name}");

        let path = write(dir.path(), name, bad);
        let refused = match prepare_site_import(&store, &path, &opts, &NoProgress) {
            Err(SiteImportError::Rejected { problems, .. }) => problems,
            other => panic!("{name}: {other:?}"),
        };
        let site_reasons: Vec<String> = refused.into_iter().map(|p| p.reason).collect();
        let (_, assign_reasons) = assign(format, bad);
        assert!(!site_reasons.is_empty(), "{name}");
        assert_eq!(site_reasons, assign_reasons, "{name}");
    }
}
