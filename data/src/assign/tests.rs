use serde_json::Value;

use super::*;
use crate::index::SystemIndex;
use crate::progress::NoProgress;
use crate::testutil::two_blocks;

fn run(
    index: &SystemIndex,
    input: InputFormat,
    text: &str,
    output: OutputFormat,
    opts: &AssignOptions,
) -> Result<(String, AssignSummary), AssignError> {
    let mut out = Vec::new();
    let summary = assign_stream(
        index,
        input,
        text.as_bytes(),
        output,
        &mut out,
        opts,
        &NoProgress,
    )?;
    Ok((String::from_utf8(out).unwrap(), summary))
}

fn opts(threads: usize, batch_size: usize) -> AssignOptions {
    AssignOptions {
        threads,
        batch_size,
        ..Default::default()
    }
}

#[test]
fn csv_rows_keep_columns_order_and_get_status() {
    let index = two_blocks();
    let input = "name,X,Y,note\n\
                 a,0.5,0.5,west\n\
                 \"multi\nline\",1.5,0.25,east\n\
                 c,1.0,0.5,on the shared edge\n\
                 d,3,3,far\n\
                 e,,0.5,no x\n\
                 f,0.5\n";
    let (out, summary) = run(
        &index,
        InputFormat::Csv,
        input,
        OutputFormat::Csv,
        &opts(2, 2),
    )
    .unwrap();
    assert_eq!(
        out,
        "name,X,Y,note,street_code,block_code,status\n\
         a,0.5,0.5,west,S,W,inside\n\
         \"multi\nline\",1.5,0.25,east,S,E,inside\n\
         c,1.0,0.5,on the shared edge,S,E,border\n\
         d,3,3,far,,,outside\n\
         e,,0.5,no x,,,error\n\
         f,0.5,,,,,error\n"
    );
    assert_eq!(
        (
            summary.rows,
            summary.inside,
            summary.border,
            summary.outside,
            summary.errors
        ),
        (6, 2, 1, 1, 2)
    );
    // Physical line numbers: the quoted field spans lines 3-4.
    let errors: Vec<String> = summary.row_errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors[0], "line 7: missing `X`");
    assert!(
        errors[1].starts_with("line 8: missing `Y` (the row has 2 fields, the header 4)"),
        "{errors:?}"
    );
}

#[test]
fn order_is_kept_across_many_small_batches_and_threads() {
    let index = two_blocks();
    let mut input = String::from("\u{feff}ID,Lng,Lat\n");
    for i in 0..5000 {
        // Pseudo-random spread over [-0.5, 2.5] × [-0.5, 1.5].
        let x = ((i * 7919) % 3001) as f64 / 1000.0 - 0.5;
        let y = ((i * 104_729) % 2003) as f64 / 1000.0 - 0.5;
        input.push_str(&format!("{i},{x},{y}\n"));
    }
    let (out, summary) = run(
        &index,
        InputFormat::Csv,
        &input,
        OutputFormat::Csv,
        &opts(3, 7),
    )
    .unwrap();
    assert_eq!(summary.rows, 5000);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        assert_eq!(rec[0].parse::<usize>().unwrap(), i, "row order");
        let (x, y): (f64, f64) = (rec[1].parse().unwrap(), rec[2].parse().unwrap());
        let want: Vec<&str> = (0..2)
            .map(|d| {
                index
                    .locate_at_depth(d, x, y)
                    .map_or("", |h| index.grids()[h.grid].code.as_str())
            })
            .collect();
        assert_eq!([&rec[3], &rec[4]], [want[0], want[1]], "row {i}");
    }
}

#[test]
fn a_missing_coordinate_column_is_an_error() {
    let index = two_blocks();
    let err = run(
        &index,
        InputFormat::Csv,
        "id,lon,height\n1,2,3\n",
        OutputFormat::Csv,
        &opts(1, 8),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            AssignError::MissingColumn {
                which: "y/latitude",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("header: id,lon,height"), "{err}");
}

#[test]
fn strict_mode_stops_at_the_first_bad_row_without_hanging() {
    let index = two_blocks();
    let mut input = String::from("id,lon,lat\n");
    for i in 0..20_000 {
        input.push_str(if i == 3 { "3,abc,0.5\n" } else { "x,0.5,0.5\n" });
    }
    let strict = AssignOptions {
        strict: true,
        ..opts(2, 2)
    };
    let err = run(&index, InputFormat::Csv, &input, OutputFormat::Csv, &strict).unwrap_err();
    match err {
        AssignError::BadRow(e) => assert_eq!(
            e.to_string(),
            "line 5: `abc` is not a number (column `lon`)"
        ),
        other => panic!("{other}"),
    }
}

#[test]
fn crs_conversion_and_points_off_the_earth() {
    let index = two_blocks();
    // Web Mercator x = 0.5° of longitude, y = 0.5° of latitude.
    let (x, y) = Crs::WebMercator.from_wgs84(0.5, 0.5).unwrap();
    let input = format!("id,x,y\nm,{x},{y}\nbad,1e9,1e9\n");
    let o = AssignOptions {
        crs: Crs::WebMercator,
        ..opts(1, 8)
    };
    let (out, summary) = run(&index, InputFormat::Csv, &input, OutputFormat::Json, &o).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["codes"]["block"], "W", "{v}");
    assert_eq!(
        v["results"][0]["lon"].as_f64(),
        Some(x),
        "the input coordinates as given"
    );
    assert_eq!(v["results"][1]["status"], "error");
    assert!(
        summary.row_errors[0].to_string().starts_with("line 3: "),
        "{:?}",
        summary.row_errors
    );
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn geojson_in_and_out_with_bad_features_kept() {
    let index = two_blocks();
    let input = r#"{"type":"FeatureCollection","bbox":[0,0,2,1],"features":[
        {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[0.5,0.5]},"properties":{"name":"a"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":null},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1.5,0.5]}}
    ]}"#;
    let (out, summary) = run(
        &index,
        InputFormat::Json,
        input,
        OutputFormat::GeoJson,
        &opts(2, 1),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = v["features"].as_array().unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(f[0]["id"], 7);
    assert_eq!(f[0]["properties"]["name"], "a");
    assert_eq!(f[0]["properties"]["block_code"], "W");
    assert_eq!(f[0]["properties"]["status"], "inside");
    assert_eq!(f[1]["properties"]["status"], "error");
    assert_eq!(f[1]["properties"]["block_code"], Value::Null);
    assert_eq!(
        f[1]["geometry"]["type"], "LineString",
        "the feature is kept as given"
    );
    assert_eq!(f[2]["properties"]["street_code"], "S");
    assert_eq!(
        summary.row_errors[0].to_string(),
        "feature #1: the geometry is a LineString, not a Point"
    );
}

#[test]
fn points_object_to_results_and_csv() {
    let index = two_blocks();
    let input = r#"{"points":[{"id":"p1","lon":0.5,"lat":"0.5"},{"id":2,"lng":1.5,"lat":0.5},{"id":"p3","lat":1}]}"#;
    let (out, _) = run(
        &index,
        InputFormat::Json,
        input,
        OutputFormat::Json,
        &opts(1, 8),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v["results"];
    assert_eq!(r[0]["id"], "p1");
    assert_eq!(r[0]["lat"], 0.5);
    assert_eq!(r[1]["id"], 2);
    assert_eq!(r[1]["codes"]["block"], "E");
    assert_eq!(r[2]["status"], "error");
    assert!(
        r[2]["message"]
            .as_str()
            .unwrap()
            .starts_with("missing `lon`"),
        "{}",
        r[2]
    );
    assert!(
        out.contains(r#""codes":{"street":"S","block":"W"}"#),
        "codes in level order: {out}"
    );
    let (csv, _) = run(
        &index,
        InputFormat::Json,
        input,
        OutputFormat::Csv,
        &opts(1, 8),
    )
    .unwrap();
    assert_eq!(csv, "id,lon,lat,street_code,block_code,status\np1,0.5,0.5,S,W,inside\n2,1.5,0.5,S,E,inside\np3,,,,,error\n");
}

#[test]
fn malformed_json_names_the_element() {
    let index = two_blocks();
    let input = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null},{"type":"Feature",]}"#;
    let err = run(
        &index,
        InputFormat::Json,
        input,
        OutputFormat::Json,
        &opts(1, 8),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            AssignError::Json {
                element: Some(1),
                line: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = run(
        &index,
        InputFormat::Json,
        r#"{"type":"FeatureCollection"}"#,
        OutputFormat::Json,
        &opts(1, 8),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("no `features` or `points` array"),
        "{err}"
    );
    let err = run(
        &index,
        InputFormat::Json,
        "[1,2]",
        OutputFormat::Json,
        &opts(1, 8),
    )
    .unwrap_err();
    assert!(matches!(err, AssignError::Json { .. }), "{err}");
}

#[test]
fn empty_input_gives_valid_empty_documents() {
    let index = two_blocks();
    let (out, s) = run(
        &index,
        InputFormat::Csv,
        "lon,lat\n",
        OutputFormat::GeoJson,
        &opts(2, 8),
    )
    .unwrap();
    assert_eq!(s.rows, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 0);
}

#[test]
fn output_formats_from_paths() {
    for (path, want) in [
        ("o.geojson", Some(OutputFormat::GeoJson)),
        ("o.json", Some(OutputFormat::Json)),
        ("a/o.CSV", Some(OutputFormat::Csv)),
        ("o.txt", None),
        ("o", None),
    ] {
        assert_eq!(OutputFormat::from_path(Path::new(path)), want, "{path}");
    }
}
