//! Bulk assignment end to end: the GEOS oracle on all 20,000 points through
//! `assign_stream`, GeoJSON in and out, the border status on a real store,
//! and `POST /api/v1/assign` (JSON, CSV, 413, 400).

use std::collections::HashMap;
use std::io::Read;

use axum::http::StatusCode;
use gridmap::http::assign::ASSIGN_BODY_LIMIT;
use gridmap::http::AppState;
use gridmap_data::assign::{
    assign_stream, AssignOptions, AssignSummary, InputFormat, OutputFormat,
};
use gridmap_data::catalog::Catalog;
use gridmap_data::index::SystemIndex;
use gridmap_data::progress::NoProgress;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_tests::http::post;
use gridmap_tests::{assert_agrees_with_oracle, fixture, import_store, oracle_points, OraclePoint};
use serde_json::{json, Value};

/// The Zhejiang partition as written (the oracle was computed on its GCJ-02
/// coordinates: no conversion).
fn zhejiang(dir: &tempfile::TempDir) -> GpkgStore {
    gridmap_tests::zhejiang_store(&dir.path().join("zj.gpkg"))
}

/// Assigns every row of `input` on `threads` lookup threads in batches of
/// `batch_size`; the output and the summary.
fn assign(
    index: &SystemIndex,
    input: InputFormat,
    reader: impl Read + Send,
    output: OutputFormat,
    (threads, batch_size): (usize, usize),
) -> (Vec<u8>, AssignSummary) {
    let opts = AssignOptions {
        threads,
        batch_size,
        ..Default::default()
    };
    let mut out = Vec::new();
    let summary = assign_stream(index, input, reader, output, &mut out, &opts, &NoProgress)
        .unwrap_or_else(|e| panic!("{e}"));
    (out, summary)
}

/// Two adjacent squares (west, east community) in one street; their shared edge is x = 120.1.
const SQUARES: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"S1","name":"街道","level":"street","parent":null},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.2,30.0],[120.2,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"W1","name":"西社区","level":"community","parent":"S1"},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.1,30.0],[120.1,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"E1","name":"东社区","level":"community","parent":"S1"},
  "geometry":{"type":"Polygon","coordinates":[[[120.1,30.0],[120.2,30.0],[120.2,30.1],[120.1,30.1],[120.1,30.0]]]}}
]}"#;

#[test]
fn bulk_assignment_matches_geos_on_all_20000_oracle_points() {
    let dir = tempfile::tempdir().unwrap();
    let store = zhejiang(&dir);
    let catalog = Catalog::load(&store).unwrap();
    let admin = catalog.system("admin").unwrap();
    let input = std::fs::File::open(fixture("zhejiang-points-oracle.csv")).unwrap();
    let (out, summary) = assign(admin, InputFormat::Csv, input, OutputFormat::Csv, (2, 1000));
    assert_eq!(summary.rows, 20_000);
    assert_eq!(summary.errors, 0);

    let points = oracle_points();
    let mut rdr = csv::Reader::from_reader(&out[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "id",
            "lon",
            "lat",
            "city",
            "district",
            "province",
            "province_code",
            "city_code",
            "district_code",
            "status"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), points.len());
    let mut mismatches = Vec::new();
    let mut inside = 0;
    for (p, row) in points.iter().zip(&rows) {
        assert_eq!(&row[0], p.id, "output order = input order");
        let got = [&row[6], &row[7], &row[8]];
        if got != p.codes() {
            mismatches.push(format!(
                "{} ({}, {}): got {got:?}, GEOS {:?}",
                p.id,
                p.lon,
                p.lat,
                p.codes()
            ));
        }
        let status = &row[9];
        if p.district.is_empty() {
            assert!(
                status == "outside" || status == "border",
                "{}: {status}",
                p.id
            );
        } else {
            assert!(
                status == "inside" || status == "border",
                "{}: {status}",
                p.id
            );
            inside += 1;
        }
    }
    assert_agrees_with_oracle(&mismatches, inside);
    assert_eq!(summary.inside + summary.border + summary.outside, 20_000);
}

#[test]
fn geojson_input_and_output_agree_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let store = zhejiang(&dir);
    let catalog = Catalog::load(&store).unwrap();
    let admin = catalog.system("admin").unwrap();
    let points: Vec<OraclePoint> = oracle_points().into_iter().take(3000).collect();
    let features: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({"type":"Feature","id":p.id,"properties":{"tag":format!("t-{}", p.id)},
                   "geometry":{"type":"Point","coordinates":[p.lon,p.lat]}})
        })
        .collect();
    let input = json!({"type":"FeatureCollection","features":features}).to_string();
    let (out, summary) = assign(
        admin,
        InputFormat::Json,
        input.as_bytes(),
        OutputFormat::GeoJson,
        (2, 256),
    );
    assert_eq!(summary.rows, 3000);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["type"], "FeatureCollection");
    let out_features = v["features"].as_array().unwrap();
    assert_eq!(out_features.len(), 3000);
    for (p, f) in points.iter().zip(out_features) {
        assert_eq!(f["id"], p.id.as_str());
        assert_eq!(f["properties"]["tag"], format!("t-{}", p.id));
        assert_eq!(f["geometry"]["coordinates"][0].as_f64(), Some(p.lon));
        let props = &f["properties"];
        let got: Vec<&str> = ["province_code", "city_code", "district_code"]
            .iter()
            .map(|k| props[k].as_str().unwrap_or(""))
            .collect();
        assert_eq!(got, p.codes(), "{}", p.id);
    }

    // CSV in, GeoJSON out: Point features at the (WGS84) position, columns as string properties.
    let csv_in = "id,lon,lat\na,120.13,30.26\nb,abc,30\n";
    let (out, _) = assign(
        admin,
        InputFormat::Csv,
        csv_in.as_bytes(),
        OutputFormat::GeoJson,
        (2, 256),
    );
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["features"][0]["geometry"]["coordinates"],
        json!([120.13, 30.26])
    );
    assert_eq!(v["features"][0]["properties"]["district_code"], "330106");
    assert_eq!(v["features"][0]["properties"]["id"], "a");
    assert_eq!(v["features"][1]["geometry"], Value::Null);
    assert_eq!(v["features"][1]["properties"]["status"], "error");
}

#[test]
fn point_on_a_shared_edge_has_border_status_and_goes_east() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("squares.geojson");
    std::fs::write(&file, SQUARES).unwrap();
    let store = import_store(
        &dir.path().join("s.gpkg"),
        &file,
        "grid",
        &["street", "community"],
    );
    let catalog = Catalog::load(&store).unwrap();
    let index = catalog.system("grid").unwrap();
    let input = "id,lon,lat\nedge,120.1,30.05\nwest,120.05,30.05\neast,120.15,30.05\ncorner,120.0,30.0\nout,121,31\n";
    let batch_size = AssignOptions::default().batch_size;
    let (out, s) = assign(
        index,
        InputFormat::Csv,
        input.as_bytes(),
        OutputFormat::Csv,
        (1, batch_size),
    );
    let text = String::from_utf8(out).unwrap();
    let rows: HashMap<&str, &str> = text
        .lines()
        .skip(1)
        .map(|l| (l.split(',').next().unwrap(), l))
        .collect();
    assert_eq!(rows["edge"], "edge,120.1,30.05,S1,E1,border");
    assert_eq!(rows["west"], "west,120.05,30.05,S1,W1,inside");
    assert_eq!(rows["east"], "east,120.15,30.05,S1,E1,inside");
    // The south-west corner of everything is on the outer boundary: the rule gives
    // a boundary point to the grid only where the grid lies east/north of it.
    assert_eq!(rows["corner"], "corner,120.0,30.0,S1,W1,border");
    assert_eq!(rows["out"], "out,121,31,,,outside");
    assert_eq!((s.border, s.inside, s.outside), (2, 2, 1));
}

fn json_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[tokio::test]
async fn http_assign_json_csv_limits_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(zhejiang(&dir)).unwrap();
    let uri = "/api/v1/assign?system=admin";

    // JSON points, with a bad one listed, not failing the request.
    let body = json!({"points":[
        {"id":"lake","lon":120.13,"lat":30.26},
        {"id":"sea","lon":125.0,"lat":28.0},
        {"id":"bad","lon":"east","lat":30.0}
    ]});
    let reply = post(
        &state,
        uri,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type(), Some("application/json"));
    let v = json_body(&reply.body);
    let r = &v["results"];
    assert_eq!(r[0]["id"], "lake");
    assert_eq!(
        r[0]["codes"],
        json!({"province":"330000","city":"330100","district":"330106"})
    );
    assert_eq!(r[0]["status"], "inside");
    assert_eq!(r[1]["status"], "outside");
    assert_eq!(r[1]["codes"]["district"], Value::Null);
    assert_eq!(r[2]["status"], "error");
    assert!(
        r[2]["message"]
            .as_str()
            .unwrap()
            .contains("\"east\" is not a number"),
        "{}",
        r[2]
    );
    assert_eq!(v["summary"]["rows"], 3);
    assert_eq!(v["summary"]["errors"], 1);

    // The same point in BD-09 via crs=, as a GeoJSON body without system= (one system only).
    let (bx, by) = gridmap_data::crs::wgs84_to_bd09(120.13, 30.26);
    let fc = json!({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"l"},
        "geometry":{"type":"Point","coordinates":[bx,by]}}]});
    let reply = post(
        &state,
        "/api/v1/assign?crs=bd09",
        &[("content-type", "application/geo+json")],
        fc.to_string(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let v = json_body(&reply.body);
    // GCJ-02 polygons read as WGS84 (see the oracle): 120.13,30.26 WGS84 is still West Lake district.
    assert_eq!(v["results"][0]["id"], "l");
    assert_eq!(v["results"][0]["codes"]["district"], "330106", "{v}");

    // CSV in, JSON out; CSV in, CSV out with Accept: text/csv.
    let csv = "id,lng,lat,note\nlake,120.13,30.26,x\nbad,,30,y\n";
    let reply = post(&state, uri, &[("content-type", "text/csv")], csv).await;
    assert_eq!(reply.status, StatusCode::OK);
    let v = json_body(&reply.body);
    assert_eq!(v["results"][0]["codes"]["district"], "330106");
    assert_eq!(v["results"][1]["message"], "missing `lng`");
    let reply = post(
        &state,
        uri,
        &[
            ("content-type", "text/csv; charset=utf-8"),
            ("accept", "text/csv"),
        ],
        csv,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let ct = reply.content_type().unwrap_or_default();
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert_eq!(
        String::from_utf8(reply.body).unwrap(),
        "id,lng,lat,note,province_code,city_code,district_code,status\n\
         lake,120.13,30.26,x,330000,330100,330106,inside\n\
         bad,,30,y,,,,error\n"
    );

    // Over the limit: 413 with our JSON error body.
    let mut big = b"id,lon,lat\n".to_vec();
    while big.len() <= ASSIGN_BODY_LIMIT {
        big.extend_from_slice(b"p,120.13000000000000,30.26000000000000\n");
    }
    let reply = post(&state, uri, &[("content-type", "text/csv")], big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.content_type(), Some("application/json"));
    let v = json_body(&reply.body);
    assert_eq!(v["error"]["code"], "body_too_large", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("16 MiB"),
        "{v}"
    );

    // Malformed JSON, a missing CSV column, an unknown system, an unknown media type: 400.
    for (uri, ct, body, code) in [
        (
            uri,
            "application/json",
            r#"{"points":[{"id":1,"lon":120,"lat":30},"#,
            "bad_json",
        ),
        (
            uri,
            "application/json",
            r#"[{"lon":120,"lat":30}]"#,
            "bad_json",
        ),
        (uri, "text/csv", "id,lon\n1,120\n", "bad_csv"),
        (
            "/api/v1/assign?system=nope",
            "application/json",
            r#"{"points":[]}"#,
            "unknown_system",
        ),
        (
            "/api/v1/assign?crs=EPSG:1",
            "application/json",
            r#"{"points":[]}"#,
            "bad_crs",
        ),
        (uri, "image/png", "x", "unsupported_media_type"),
    ] {
        let reply = post(&state, uri, &[("content-type", ct)], body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let v = json_body(&reply.body);
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
    }
}
