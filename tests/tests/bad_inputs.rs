//! The bad-input catalogue (`tests/fixtures/bad/`, each case listed in its
//! README): malformed files of every format for every import kind, and
//! `gridmap assign`. A refused file ends the command with exit status 1 and
//! a message naming the file, the feature or row at fault and the reason,
//! never a panic; and the store is left exactly as it was.
//!
//! Every case runs against the same demo store, whose fingerprint (data
//! version and every row) is compared after every case with the one before
//! the first: a refused import that wrote anything would show at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gridmap::cli::{
    DbArg, DemoArgs, ImportCommand, ImportGridsArgs, ImportSitesArgs, ImportWorkersArgs,
};
use gridmap::commands::assign::AssignArgs;
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_tests::cli::{self, Ending};
use gridmap_tests::{repo_root, store_fingerprint, StoreFingerprint};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Grids,
    Workers,
    Sites,
    Assign,
}

/// What the command must make of the file.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 1 with a message naming the file, `at` (the feature or row,
    /// when the fault lies in one) and `reason`.
    Refused {
        at: Option<&'static str>,
        reason: &'static str,
    },
    /// The fault is in a flag, not in the file: exit 1 with `reason`.
    FlagRefused { reason: &'static str },
    /// `gridmap assign` without `--strict` writes a bad row with status
    /// `error` (and lists it on stderr) instead of failing: exit 0, the
    /// output holds every row, the row `id` with status `error`.
    ErrorRow { id: &'static str },
    /// A grid file with no features, merged into the system, changes
    /// nothing: exit 0, nothing written. (With `--replace` the same file is
    /// refused.)
    NothingWritten,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    kind: Kind,
    /// Under `tests/fixtures/bad/`, or under `generated/` for a big file
    /// this test writes (see [`write_generated`]).
    file: &'static str,
    /// Flags after the file, as on the command line.
    flags: &'static [&'static str],
    expect: Expect,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Grids => "import grids",
            Kind::Workers => "import workers",
            Kind::Sites => "import sites",
            Kind::Assign => "assign",
        }
    }
}

impl Case {
    fn with(self, flags: &'static [&'static str]) -> Self {
        Self { flags, ..self }
    }

    /// The file format, as the catalogue is counted.
    fn format(&self) -> &'static str {
        match self.file.rsplit('.').next() {
            Some("geojson" | "json") => "GeoJSON",
            Some("csv") => match self.kind {
                Kind::Grids => "CSV+WKT",
                Kind::Workers => "workers CSV",
                Kind::Sites | Kind::Assign => "points CSV",
            },
            Some("shp") => "Shapefile",
            Some("gpkg") => "GeoPackage",
            Some("fgb") => "FlatGeobuf",
            other => panic!("no format for {other:?}"),
        }
    }
}

/// A case the command must refuse: see [`Expect::Refused`].
fn refused(kind: Kind, file: &'static str, at: Option<&'static str>, reason: &'static str) -> Case {
    case(kind, file, Expect::Refused { at, reason })
}

fn case(kind: Kind, file: &'static str, expect: Expect) -> Case {
    Case {
        kind,
        file,
        flags: &[],
        expect,
    }
}

const F0: Option<&str> = Some("feature #0");
const F1: Option<&str> = Some("feature #1");
const LINE2: Option<&str> = Some("line 2");
const LINE3: Option<&str> = Some("line 3");
/// The fault is in the file as a whole, or its message names no feature.
const FILE: Option<&str> = None;

/// The catalogue. The README's table lists the same cases.
fn catalogue() -> Vec<Case> {
    use Kind::*;
    vec![
        // ---- grids, GeoJSON: the file as JSON and as GeoJSON
        refused(Grids, "grids/geojson/not-json.geojson", FILE, "invalid GeoJSON: Error while deserializing JSON: expected value at line 1 column 1"),
        refused(Grids, "grids/geojson/truncated.geojson", FILE, "EOF while parsing"),
        refused(Grids, "grids/geojson/empty.geojson", FILE, "EOF while parsing a value"),
        refused(Grids, "grids/geojson/invalid-utf8.geojson", FILE, "not UTF-8 text (invalid byte at offset"),
        refused(Grids, "grids/geojson/top-level-array.geojson", FILE, "invalid GeoJSON: Expected an owned Object"),
        refused(Grids, "grids/geojson/features-not-array.geojson", FILE, "Expected an Array value"),
        refused(Grids, "grids/geojson/feature-not-object.geojson", FILE, "Expected an owned Object, but got `42`"),
        refused(Grids, "grids/geojson/unknown-type.geojson", FILE, "Expected a Feature, FeatureCollection, or Geometry"),
        refused(Grids, "grids/geojson/bare-geometry.geojson", FILE, "found a bare geometry"),
        refused(Grids, "generated/grids/nested-100000-arrays.geojson", FILE, "recursion limit exceeded"),
        // ---- grids, GeoJSON: geometry
        refused(Grids, "grids/geojson/no-geometry-member.geojson", FILE, "Expected a GeoJSON property for `geometry`"),
        refused(Grids, "grids/geojson/null-geometry.geojson", F0, "missing geometry (a grid needs a Polygon or MultiPolygon)"),
        refused(Grids, "grids/geojson/point.geojson", F0, "geometry is a Point, not a Polygon or MultiPolygon"),
        refused(Grids, "grids/geojson/geometry-collection.geojson", F0, "geometry is a GeometryCollection"),
        refused(Grids, "grids/geojson/unclosed-ring.geojson", F0, "is not closed"),
        refused(Grids, "grids/geojson/bowtie.geojson", F0, "intersects itself at (121.51, 31.21)"),
        refused(Grids, "grids/geojson/ring-of-three-positions.geojson", F0, "has only 2 distinct points"),
        refused(Grids, "grids/geojson/zero-area-ring.geojson", F0, "intersects itself"),
        refused(Grids, "grids/geojson/hole-outside-shell.geojson", F0, "(hole) of polygon 0 lies outside the exterior ring"),
        refused(Grids, "grids/geojson/position-of-one-number.geojson", FILE, "A position must contain two or more elements"),
        refused(Grids, "grids/geojson/coordinates-as-strings.geojson", FILE, "Expected a floating-point value"),
        // ---- grids, GeoJSON: coordinates and CRS (their messages name no feature)
        refused(Grids, "grids/geojson/nan.geojson", FILE, "expected value at line 2"),
        refused(Grids, "grids/geojson/infinity.geojson", FILE, "expected value at line 2"),
        refused(Grids, "grids/geojson/1e309.geojson", FILE, "number out of range"),
        refused(Grids, "grids/geojson/lon-500.geojson", FILE, "coordinate (500.0, 31.2) cannot be longitude/latitude under EPSG:4326"),
        refused(Grids, "grids/geojson/lat-95.geojson", FILE, "coordinate (121.5, 95.0) cannot be longitude/latitude under EPSG:4326"),
        refused(Grids, "grids/geojson/lonlat-swapped-bd09.geojson", FILE, "latitude and longitude appear swapped")
            .with(&["--crs", "bd09"]),
        refused(Grids, "grids/geojson/gauss-kruger-wrong-zone.geojson", FILE, "does not fit EPSG:4528: zone 40 eastings must start with 40")
            .with(&["--crs", "EPSG:4528"]),
        refused(Grids, "grids/geojson/gauss-kruger-northing-1e308.geojson", FILE, "northings must lie within ±10002000 m of the equator")
            .with(&["--crs", "EPSG:4528"]),
        // ---- grids, GeoJSON: properties
        refused(Grids, "grids/geojson/missing-code.geojson", F0, "missing property `code`"),
        refused(Grids, "grids/geojson/empty-code.geojson", F0, "missing property `code`"),
        refused(Grids, "grids/geojson/code-an-object.geojson", F0, "property `code` must be a string or number"),
        refused(Grids, "grids/geojson/missing-level.geojson", F0, "missing property `level`"),
        refused(Grids, "grids/geojson/null-properties.geojson", F0, "missing property `level`"),
        refused(Grids, "grids/geojson/unknown-level.geojson", F0, "unknown level `village`; system `default` has levels street, community, block"),
        refused(Grids, "grids/geojson/level-in-capitals.geojson", F0, "unknown level `Street`"),
        refused(Grids, "grids/geojson/code-with-nul.geojson", F0, "holds the control character '\\0'"),
        refused(Grids, "grids/geojson/code-with-newline.geojson", F0, "holds the control character '\\n'"),
        refused(Grids, "grids/geojson/code-with-dotdot-slash.geojson", F0, "codes may not hold slashes"),
        refused(Grids, "generated/grids/code-100kb.geojson", F0, "is longer than 64 characters"),
        refused(Grids, "generated/grids/name-10000-characters.geojson", F0, "is longer than 200 characters"),
        // ---- grids, GeoJSON: the tree
        refused(Grids, "grids/geojson/duplicate-code.geojson", F1, "duplicate code 330106901 (also feature #0)"),
        refused(Grids, "grids/geojson/parent-does-not-exist.geojson", F0, "parent 330106999 does not exist"),
        refused(Grids, "grids/geojson/parent-cycle.geojson", F0, "parent links form a cycle: 330106901001 -> 330106901002 -> 330106901001"),
        refused(Grids, "grids/geojson/own-parent.geojson", F0, "parent links form a cycle: 330106901001 -> 330106901001"),
        refused(Grids, "grids/geojson/community-under-a-block.geojson", F0, "parent 330106001001001 is a `block`, but a `community` needs a `street` parent"),
        refused(Grids, "grids/geojson/block-under-a-street.geojson", F0, "but a `block` needs a `community` parent"),
        refused(Grids, "grids/geojson/community-at-the-top.geojson", F0, "level `community` has no parent, but only `street` grids may be at the top"),
        // ---- grids, GeoJSON: the file against the system
        refused(Grids, "grids/geojson/good.geojson", FILE, "it has levels street,community,block, the given levels a,b,c differ")
            .with(&["--levels", "a,b,c"]),
        refused(Grids, "grids/geojson/good.geojson", FILE, "level `street` is given twice")
            .with(&["--system", "another", "--levels", "street,street"]),
        case(Grids, "grids/geojson/no-features.geojson", Expect::NothingWritten),
        refused(Grids, "grids/geojson/no-features.geojson", FILE, "would remove 216 grids and keep 0")
            .with(&["--replace"]),
        // ---- grids, CSV with a WKT column
        refused(Grids, "grids/csv/empty.csv", FILE, "no geometry column"),
        case(Grids, "grids/csv/header-only.csv", Expect::NothingWritten),
        refused(Grids, "grids/csv/header-only.csv", FILE, "would remove 216 grids and keep 0").with(&["--replace"]),
        refused(Grids, "grids/csv/no-wkt-column.csv", FILE, "no geometry column: expected one named wkt, geometry or geom"),
        refused(Grids, "grids/csv/row-too-few-columns.csv", Some("line: 2"), "found record with 3 fields, but the previous record has 5 fields"),
        refused(Grids, "grids/csv/unterminated-quote.csv", Some("line: 2"), "invalid CSV"),
        refused(Grids, "grids/csv/invalid-utf8.csv", FILE, "not UTF-8 text (invalid byte at offset"),
        refused(Grids, "grids/csv/wkt-cut-short.csv", F0, "invalid WKT"),
        refused(Grids, "grids/csv/wkt-unknown-type.csv", F0, "invalid WKT: Invalid type encountered"),
        refused(Grids, "grids/csv/wkt-point.csv", F0, "geometry is a Point, not a Polygon or MultiPolygon"),
        refused(Grids, "grids/csv/wkt-empty-polygon.csv", F0, "geometry is empty"),
        refused(Grids, "grids/csv/wkt-cell-empty.csv", F0, "missing geometry"),
        refused(Grids, "grids/csv/wkt-bowtie.csv", F0, "intersects itself at (121.51, 31.21)"),
        refused(Grids, "grids/csv/wkt-nan.csv", F0, "invalid WKT"),
        refused(Grids, "grids/csv/wkt-1e309.csv", F0, "non-finite coordinate (NaN or infinity) at vertex 1"),
        refused(Grids, "grids/csv/duplicate-code.csv", F1, "duplicate code 330106901 (also feature #0)"),
        refused(Grids, "grids/csv/second-row-lon-500.csv", F1, "coordinate (500.0, 31.2) cannot be longitude/latitude"),
        refused(Grids, "generated/grids/wkt-nested-10000-deep.csv", F0, "brackets nested 10001 levels deep (at most 32 are read)"),
        refused(Grids, "generated/grids/wkt-polygon-nested-10000-deep.csv", F0, "brackets nested 10001 levels deep"),
        refused(Grids, "workers/good.csv", FILE, "no geometry column"),
        // ---- grids, Shapefile (each made from good.shp with one defect)
        refused(Grids, "grids/shp/truncated.shp", FILE, "the header says 236 bytes, the file has 150"),
        refused(Grids, "grids/shp/empty-shp.shp", FILE, "shorter than its 100-byte header"),
        refused(Grids, "grids/shp/not-a-shapefile.shp", FILE, "not a Shapefile"),
        refused(Grids, "grids/shp/without-dbf.shp", FILE, "the .dbf file beside the .shp is missing"),
        refused(Grids, "grids/shp/dbf-garbage-header.shp", FILE, "invalid .dbf"),
        refused(Grids, "grids/shp/shape-type-99.shp", FILE, "invalid .shp record 0: The code ' 99 '"),
        refused(Grids, "grids/shp/point-count-2147483647.shp", FILE, "invalid .shp record 0"),
        refused(Grids, "grids/shp/shx-offset-past-the-end.shp", FILE, "invalid .shp record 0"),
        refused(Grids, "grids/shp/prj-unknown-crs.shp", FILE, "projected CRS \"Mars_Sinusoidal\" (method sinusoidal) is not supported"),
        refused(Grids, "grids/shp/prj-not-wkt.shp", FILE, "cannot determine the CRS from the .prj/WKT text"),
        refused(Grids, "grids/shp/prj-nested-10000-deep.shp", FILE, "brackets nested 10000 levels deep"),
        refused(Grids, "grids/shp/cpg-unknown-encoding.shp", FILE, "unsupported encoding \"KLINGON-1\" in .cpg"),
        refused(Grids, "grids/shp/gauss-kruger-prj-degree-coordinates.shp", FILE, "does not fit EPSG:4528"),
        refused(Grids, "grids/shp/lon-500.shp", FILE, "cannot be longitude/latitude under EPSG:4326"),
        refused(Grids, "grids/shp/point.shp", F0, "geometry is a Point, not a Polygon or MultiPolygon"),
        refused(Grids, "grids/shp/bowtie.shp", F0, "intersects itself"),
        refused(Grids, "grids/shp/missing-code.shp", F0, "missing property `code`"),
        refused(Grids, "grids/shp/duplicate-code.shp", F1, "duplicate code 330106901"),
        refused(Grids, "grids/shp/parent-does-not-exist.shp", F0, "parent 330106999 does not exist"),
        // ---- grids, GeoPackage
        refused(Grids, "grids/gpkg/not-sqlite.gpkg", FILE, "not a GeoPackage: file is not a database"),
        refused(Grids, "grids/gpkg/truncated.gpkg", FILE, "not a GeoPackage"),
        refused(Grids, "grids/gpkg/two-layers.gpkg", FILE, "it holds layers communities, streets: choose one with --layer"),
        refused(Grids, "grids/gpkg/good.gpkg", FILE, "no layer `nowhere` (its feature layers: grids)").with(&["--layer", "nowhere"]),
        refused(Grids, "grids/gpkg/point.gpkg", F0, "geometry is a Point"),
        refused(Grids, "grids/gpkg/bowtie.gpkg", F0, "intersects itself"),
        refused(Grids, "grids/gpkg/missing-code.gpkg", F0, "missing property `code`"),
        refused(Grids, "grids/gpkg/duplicate-code.gpkg", F1, "duplicate code 330106901"),
        refused(Grids, "grids/gpkg/blob-without-gp-magic.gpkg", F0, "not a GeoPackage geometry blob (missing 'GP' magic)"),
        refused(Grids, "grids/gpkg/blob-cut-inside-header.gpkg", F0, "blob of 20 bytes is shorter than its header"),
        refused(Grids, "grids/gpkg/blob-point-count-2147483647.gpkg", F0, "invalid WKB"),
        refused(Grids, "grids/gpkg/geometry-column-holds-text.gpkg", F0, "the geometry column holds text"),
        // ---- grids, FlatGeobuf
        refused(Grids, "grids/fgb/not-flatgeobuf.fgb", FILE, "not a FlatGeobuf file"),
        refused(Grids, "grids/fgb/truncated.fgb", FILE, "the file ends inside its header"),
        refused(Grids, "grids/fgb/header-length-4294967295.fgb", FILE, "the file ends inside its header"),
        refused(Grids, "grids/fgb/point.fgb", F0, "geometry is a Point"),
        refused(Grids, "grids/fgb/bowtie.fgb", F0, "intersects itself"),
        refused(Grids, "grids/fgb/missing-code.fgb", F0, "missing property `code`"),
        refused(Grids, "grids/fgb/duplicate-code.fgb", F1, "duplicate code 330106901"),
        // ---- workers CSV
        refused(Workers, "workers/empty.csv", FILE, "missing column `id`"),
        refused(Workers, "workers/no-id-column.csv", FILE, "missing column `id`; expected columns id,name,phone,role,photo,duties,grids"),
        refused(Workers, "workers/no-grids-column.csv", FILE, "missing column `grids`"),
        refused(Workers, "workers/row-too-few-columns.csv", Some("line: 2"), "found record with 3 fields"),
        refused(Workers, "workers/unterminated-quote.csv", Some("line: 2"), "invalid CSV"),
        refused(Workers, "workers/invalid-utf8.csv", FILE, "not UTF-8 text"),
        refused(Workers, "workers/unknown-grid.csv", LINE2, "unknown grid code 330106999999999 in system `default`"),
        refused(Workers, "workers/share-0.csv", LINE2, "bad share `0` for grid 330106001001001 (must be a number > 0 and ≤ 1)"),
        refused(Workers, "workers/share-minus-1.csv", LINE2, "bad share `-1`"),
        refused(Workers, "workers/share-2.csv", LINE2, "bad share `2`"),
        refused(Workers, "workers/share-abc.csv", LINE2, "bad share `abc`"),
        refused(Workers, "workers/share-nan.csv", LINE2, "bad share `NaN`"),
        refused(Workers, "workers/share-inf.csv", LINE2, "bad share `inf`"),
        refused(Workers, "workers/grids-only-separators.csv", LINE2, "bad share"),
        refused(Workers, "workers/grid-listed-twice.csv", LINE2, "grid 330106001001001 is listed twice"),
        refused(Workers, "workers/duplicate-id.csv", LINE3, "duplicate id T0001 (also line 2)"),
        refused(Workers, "workers/missing-name.csv", LINE2, "missing name"),
        refused(Workers, "workers/missing-id.csv", LINE2, "missing id"),
        // These two are judged after reading, by the change's validation,
        // whose message names the worker but not the line.
        refused(Workers, "workers/id-with-slash.csv", Some("worker ../T0001"), "codes may not hold slashes"),
        refused(Workers, "workers/id-with-newline.csv", Some("worker T00\\n01"), "holds the control character '\\n'"),
        refused(Workers, "generated/workers/id-100kb.csv", Some("worker TTTT"), "is longer than 64 characters"),
        refused(Workers, "workers/good.csv", FILE, "grid system `nowhere` does not exist").with(&["--system", "nowhere"]),
        refused(Workers, "sites/good.csv", FILE, "missing column `grids`"),
        // ---- sites, CSV lon/lat (and WKT) and GeoJSON
        refused(Sites, "sites/empty.csv", FILE, "no coordinate columns"),
        refused(Sites, "sites/no-coordinate-columns.csv", FILE, "no coordinate columns: expected a longitude column"),
        refused(Sites, "sites/row-too-few-columns.csv", LINE2, "missing `lon` (the row has 2 fields, the header 4)"),
        refused(Sites, "sites/unterminated-quote.csv", LINE2, "missing `lon`"),
        refused(Sites, "sites/lon-not-a-number.csv", LINE2, "`abc` is not a number (column `lon`)"),
        refused(Sites, "sites/lat-empty.csv", LINE2, "missing `lat`"),
        refused(Sites, "sites/lon-500.csv", FILE, "coordinate (500.0, 30.25) cannot be longitude/latitude under EPSG:4326"),
        refused(Sites, "sites/lat-95.csv", FILE, "coordinate (120.1, 95.0) cannot be longitude/latitude"),
        refused(Sites, "sites/lon-nan.csv", FILE, "coordinate (NaN, 30.25) under EPSG:4326 is not a finite number"),
        refused(Sites, "sites/lon-inf.csv", FILE, "is not a finite number"),
        refused(Sites, "sites/lon-1e309.csv", FILE, "coordinate (inf, 30.25) under EPSG:4326 is not a finite number"),
        refused(Sites, "sites/lonlat-swapped.csv", FILE, "latitude and longitude appear swapped"),
        refused(Sites, "sites/gauss-kruger-northing-1e308.csv", FILE, "northings must lie within ±10002000 m")
            .with(&["--crs", "EPSG:4528"]),
        refused(Sites, "sites/duplicate-id.csv", LINE3, "duplicate id S1 (also line 2)"),
        refused(Sites, "sites/missing-id.csv", LINE2, "missing id"),
        refused(Sites, "sites/id-with-nul.csv", Some("site school:"), "holds the control character '\\0'"),
        refused(Sites, "sites/households-negative.csv", LINE2, "households `-5` is not a whole number"),
        refused(Sites, "sites/households-not-a-number.csv", LINE2, "households `many` is not a whole number"),
        refused(Sites, "sites/wkt-cut-short.csv", F0, "invalid WKT"),
        refused(Sites, "sites/wkt-polygon.csv", F0, "the geometry is a Polygon, not a Point"),
        refused(Sites, "generated/sites/wkt-nested-10000-deep.csv", F0, "nested"),
        refused(Sites, "sites/polygon.geojson", F0, "the geometry is a Polygon, not a Point"),
        refused(Sites, "sites/null-geometry.geojson", F0, "the feature has no geometry"),
        refused(Sites, "sites/lat-95.geojson", FILE, "coordinate (120.1, 95.0) cannot be longitude/latitude"),
        refused(Sites, "sites/missing-id.geojson", F0, "missing id"),
        refused(Sites, "sites/truncated.geojson", FILE, "invalid GeoJSON"),
        refused(Sites, "generated/sites/nested-100000-arrays.geojson", FILE, "recursion limit exceeded"),
        refused(Sites, "grids/geojson/good.geojson", F0, "the geometry is a Polygon, not a Point"),
        refused(Sites, "grids/shp/good.shp", F0, "the geometry is a MultiPolygon, not a Point"),
        refused(Sites, "sites/good.csv", FILE, "grid system `nowhere` does not exist").with(&["--system", "nowhere"]),
        case(Sites, "sites/good.csv", Expect::FlagRefused { reason: "site kind `Kind!` may only contain a-z, 0-9 and _" })
            .with(&["--kind", "Kind!"]),
        case(Sites, "sites/good.csv", Expect::FlagRefused { reason: "site kind must not be empty" }).with(&["--kind", ""]),
        // ---- assign: a bad row is written with status `error`, or stops a --strict run
        case(Assign, "assign/lon-not-a-number-on-line-3.csv", Expect::ErrorRow { id: "p2" }),
        refused(Assign, "assign/lon-not-a-number-on-line-3.csv", LINE3, "bad row (strict mode): line 3: `abc` is not a number (column `lon`)")
            .with(&["--strict"]),
        case(Assign, "assign/lat-95.csv", Expect::ErrorRow { id: "p1" }),
        refused(Assign, "assign/lat-95.csv", LINE2, "coordinate (120.1, 95.0) cannot be longitude/latitude").with(&["--strict"]),
        case(Assign, "assign/lon-nan.csv", Expect::ErrorRow { id: "p1" }),
        refused(Assign, "assign/lon-nan.csv", LINE2, "is not a finite number").with(&["--strict"]),
        case(Assign, "assign/unterminated-quote.csv", Expect::ErrorRow { id: "p1" }),
        refused(Assign, "assign/unterminated-quote.csv", LINE2, "is not a number (column `lon`)").with(&["--strict"]),
        case(Assign, "assign/polygon-feature.geojson", Expect::ErrorRow { id: "p2" }),
        refused(Assign, "assign/polygon-feature.geojson", F1, "the geometry is a Polygon, not a Point").with(&["--strict"]),
        // ---- assign: a file that is not points at all fails whole
        refused(Assign, "assign/empty.csv", FILE, "CSV input has no x/longitude column"),
        refused(Assign, "assign/no-coordinate-columns.csv", FILE, "CSV input has no x/longitude column (accepted names: lon, lng, longitude, long, x); header: id,name"),
        refused(Assign, "assign/not-json.geojson", FILE, "expected ident at line 1 column 2"),
        refused(Assign, "assign/truncated.geojson", FILE, "EOF while parsing"),
        refused(Assign, "generated/assign/nested-100000-arrays.geojson", FILE, "recursion limit exceeded"),
    ]
}

/// The cases too big to keep in the repository (100 KB and more) or
/// pointless to read there, written into `dir/generated/`.
fn write_generated(dir: &Path) {
    let street = |code: &str, name: &str| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"{code}","name":"{name}","level":"street","parent":null}},"geometry":{{"type":"Polygon","coordinates":[[[121.5,31.2],[121.52,31.2],[121.52,31.22],[121.5,31.22],[121.5,31.2]]]}}}}]}}"#
        )
    };
    let nested_arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested_collections = format!(
        "{}POINT(121.51 31.21){}",
        "GEOMETRYCOLLECTION(".repeat(10_000),
        ")".repeat(10_000)
    );
    let nested_polygon = format!(
        "POLYGON({}121.5 31.2{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let files = [
        ("grids/code-100kb.geojson", street(&"3".repeat(100_000), "试验街道")),
        ("grids/name-10000-characters.geojson", street("330106901", &"名".repeat(10_000))),
        (
            "grids/nested-100000-arrays.geojson",
            format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"330106901","name":"试验街道","level":"street"}},"geometry":{{"type":"Polygon","coordinates":{nested_arrays}}}}}]}}"#
            ),
        ),
        (
            "grids/wkt-nested-10000-deep.csv",
            format!("code,name,level,parent,wkt\n330106901,试验街道,street,,\"{nested_collections}\"\n"),
        ),
        (
            "grids/wkt-polygon-nested-10000-deep.csv",
            format!("code,name,level,parent,wkt\n330106901,试验街道,street,,\"{nested_polygon}\"\n"),
        ),
        (
            "workers/id-100kb.csv",
            format!(
                "id,name,phone,role,photo,duties,grids\n{},测试员,13900000001,专职网格员,,巡查,330106001001001\n",
                "T".repeat(100_000)
            ),
        ),
        ("sites/wkt-nested-10000-deep.csv", format!("id,name,wkt\nS1,测试点,\"{nested_collections}\"\n")),
        (
            "sites/nested-100000-arrays.geojson",
            format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"S1"}},"geometry":{{"type":"Point","coordinates":{nested_arrays}}}}}]}}"#
            ),
        ),
        ("assign/nested-100000-arrays.geojson", format!(r#"{{"points":{nested_arrays}}}"#)),
    ];
    for (name, text) in files {
        let path = dir.join("generated").join(name);
        std::fs::create_dir_all(path.parent().expect("a folder"))
            .expect("a folder for generated cases");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

fn fixtures() -> PathBuf {
    repo_root().join("tests").join("fixtures").join("bad")
}

/// Where a case's file is: in the repository, or among the generated ones.
fn case_path(case: &Case, work: &Path) -> PathBuf {
    match case.file.strip_prefix("generated/") {
        Some(_) => work.join(case.file),
        None => fixtures().join(case.file),
    }
}

/// The value given to `--name` among `flags`.
fn flag<'a>(flags: &[&'a str], name: &str) -> Option<&'a str> {
    flags
        .iter()
        .position(|f| *f == name)
        .map(|i| flags.get(i + 1).copied().unwrap_or(""))
}

/// Whether the bare flag `--name` is among `flags`.
fn switch(flags: &[&str], name: &str) -> bool {
    flags.contains(&name)
}

/// Runs the case's command on `store` (an assign writes to `out`).
fn run(case: &Case, file: PathBuf, store: &Path, out: &Path) -> Ending {
    const KNOWN: [&str; 7] = [
        "--crs",
        "--levels",
        "--layer",
        "--system",
        "--kind",
        "--replace",
        "--strict",
    ];
    for f in case.flags.iter().filter(|f| f.starts_with("--")) {
        assert!(
            KNOWN.contains(f),
            "{}: flag {f} is not handled by this test",
            case.file
        );
    }
    let db = DbArg {
        db: store.display().to_string(),
    };
    let flags = case.flags;
    let owned = |name| flag(flags, name).map(ToString::to_string);
    match case.kind {
        Kind::Grids => cli::run(|| {
            gridmap::commands::import::run(&ImportCommand::Grids(ImportGridsArgs {
                file,
                layer: owned("--layer"),
                system: owned("--system").unwrap_or_else(|| gridmap_data::DEFAULT_SYSTEM.into()),
                levels: flag(flags, "--levels")
                    .map(|l| l.split(',').map(ToString::to_string).collect()),
                crs: owned("--crs"),
                repair: false,
                replace: switch(flags, "--replace"),
                allow_shrink: false,
                db,
            }))
        }),
        Kind::Workers => cli::run(|| {
            gridmap::commands::import::run(&ImportCommand::Workers(ImportWorkersArgs {
                file,
                system: owned("--system").unwrap_or_else(|| gridmap_data::DEFAULT_SYSTEM.into()),
                db,
            }))
        }),
        Kind::Sites => cli::run(|| {
            gridmap::commands::import::run(&ImportCommand::Sites(ImportSitesArgs {
                file,
                kind: owned("--kind").unwrap_or_else(|| "school".into()),
                crs: owned("--crs"),
                system: owned("--system"),
                replace: switch(flags, "--replace"),
                db,
            }))
        }),
        Kind::Assign => cli::run(|| {
            gridmap::commands::assign::run(&AssignArgs {
                file,
                crs: owned("--crs"),
                system: owned("--system"),
                db,
                out: out.to_path_buf(),
                strict: switch(flags, "--strict"),
                threads: Some(2),
                batch_size: 8192,
            })
        }),
    }
}

/// What is wrong with how the case ended (nothing when it ended as expected).
fn judge(case: &Case, ending: &Ending, out: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let stderr = &ending.stderr;
    if ending.status == 101 || stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        wrong.push(format!("panicked: {stderr}"));
        return wrong;
    }
    let mut expect_text = |what: &str, fragment: &str| {
        if !stderr.contains(fragment) {
            wrong.push(format!("the message does not name {what} `{fragment}`"));
        }
    };
    match case.expect {
        Expect::Refused { at, reason } => {
            // The file's name, or (for a shapefile) the name of its part at fault.
            let stem = Path::new(case.file)
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a file name");
            expect_text("the file", &format!("{stem}."));
            if let Some(at) = at {
                expect_text("the feature or row", at);
            }
            expect_text("the reason", reason);
        }
        Expect::FlagRefused { reason } => expect_text("the reason", reason),
        Expect::ErrorRow { id } => {
            if ending.status == 0 {
                wrong.extend(error_row_problems(out, id));
            }
        }
        Expect::NothingWritten => {}
    }
    let status = match case.expect {
        Expect::Refused { .. } | Expect::FlagRefused { .. } => 1,
        Expect::ErrorRow { .. } | Expect::NothingWritten => 0,
    };
    if ending.status != status {
        wrong.push(format!("exit status {} instead of {status}", ending.status));
    }
    if case.kind == Kind::Assign && status == 1 && out.exists() {
        wrong.push("a refused assign left its output file".into());
    }
    wrong
}

/// An assign output must list every row, `id` with status `error` and the
/// others without.
fn error_row_problems(out: &Path, id: &str) -> Vec<String> {
    let mut reader = match csv::Reader::from_path(out) {
        Ok(r) => r,
        Err(e) => return vec![format!("no readable output {}: {e}", out.display())],
    };
    let header = reader.headers().expect("an output header").clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_at), Some(status_at)) = (column("id"), column("status")) else {
        return vec![format!("output columns {header:?} lack id or status")];
    };
    let mut problems = Vec::new();
    let mut seen = false;
    for row in reader.records() {
        let row = row.expect("an output row");
        let is_bad = &row[id_at] == id;
        seen |= is_bad;
        if is_bad != (&row[status_at] == "error") {
            problems.push(format!(
                "output row {} has status {}",
                &row[id_at], &row[status_at]
            ));
        }
    }
    if !seen {
        problems.push(format!("no output row {id}"));
    }
    problems
}

fn fingerprint(store: &Path) -> StoreFingerprint {
    store_fingerprint(&GpkgStore::open(store).expect("the store opens"))
}

/// A new 200-block demo city (grids, workers, sites) at `path`, as `gridmap demo` writes it.
fn demo_store(path: &Path) {
    let ending = cli::run(|| {
        gridmap::commands::demo::run(&DemoArgs {
            out: path.to_path_buf(),
            blocks: 200,
            seed: 1,
            force: false,
        })
    });
    assert_eq!(ending.status, 0, "{}", ending.stderr);
}

/// Runs `cases` one after another on one new demo store; what went wrong,
/// one line per case that did not end as expected.
fn run_all(cases: &[Case]) -> Vec<String> {
    let work = tempfile::tempdir().expect("a temporary folder");
    write_generated(work.path());
    let store = work.path().join("demo.gpkg");
    demo_store(&store);
    let start = fingerprint(&store);
    assert!(
        start.grids > 200 && start.workers > 0 && start.sites > 0,
        "{start:?}"
    );
    // What the store must still be after each case; moved on after a case
    // that changed it, so one such case is reported once, not by every later one.
    let mut before = start;
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let file = case_path(case, work.path());
        assert!(file.exists(), "missing fixture {}", file.display());
        let out = work.path().join(format!("assigned-{n}.csv"));
        let ending = run(case, file, &store, &out);
        let mut wrong = judge(case, &ending, &out);
        let after = fingerprint(&store);
        if after != before {
            wrong.push(format!("the store changed: {before:?} -> {after:?}"));
            before = after;
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} {} {}: {}\n    status {}, stderr: {}",
                case.kind.name(),
                case.file,
                case.flags.join(" "),
                wrong.join("; "),
                ending.status,
                ending.stderr.chars().take(600).collect::<String>()
            ));
        }
    }
    failures
}

#[test]
fn every_bad_input_is_refused_with_its_file_feature_and_reason_and_changes_nothing() {
    let cases = catalogue();
    let failures = run_all(&cases);

    let mut counts: BTreeMap<(Kind, &str), usize> = BTreeMap::new();
    for case in &cases {
        *counts.entry((case.kind, case.format())).or_default() += 1;
    }
    println!("bad-input catalogue: {} cases", cases.len());
    for ((kind, format), n) in &counts {
        println!("  {:<15} {format:<12} {n:>3}", kind.name());
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The unbroken file each format's broken ones were made from imports, so
/// what the catalogue sees refused is the defect, not the rest of the file.
#[test]
fn the_unbroken_files_the_catalogue_starts_from_are_accepted() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let unbroken = [
        (Kind::Grids, "grids/geojson/good.geojson"),
        (Kind::Grids, "grids/csv/good.csv"),
        (Kind::Grids, "grids/shp/good.shp"),
        (Kind::Grids, "grids/gpkg/good.gpkg"),
        (Kind::Grids, "grids/fgb/good.fgb"),
        (Kind::Workers, "workers/good.csv"),
        (Kind::Sites, "sites/good.csv"),
        (Kind::Assign, "assign/good.csv"),
    ];
    for (n, (kind, file)) in unbroken.into_iter().enumerate() {
        // A store of its own each: the grid files hold the same street.
        let store = work.path().join(format!("demo-{n}.gpkg"));
        demo_store(&store);
        let before = fingerprint(&store).data_version;
        // Only `kind`, `file` and `flags` matter to `run`.
        let case = case(kind, file, Expect::NothingWritten);
        let out = work.path().join(format!("assigned-{n}.csv"));
        let ending = run(&case, case_path(&case, work.path()), &store, &out);
        assert_eq!(ending.status, 0, "{file}: {}", ending.stderr);
        if kind != Kind::Assign {
            let after = fingerprint(&store).data_version;
            assert!(after > before, "{file} wrote nothing (version {after})");
        }
    }
}

/// Damaged Shapefiles that used to panic inside the Shapefile reader (the
/// `shapefile` and `dbase` crates): refused like any other damaged file.
#[test]
fn damaged_shapefiles_that_crashed_the_reader_are_refused() {
    // Whatever the reader will say, it says it as a refusal to parse the file.
    let cases = [
        refused(
            Kind::Grids,
            "grids/shp/record-length-2147483647.shp",
            FILE,
            "cannot parse",
        ),
        refused(
            Kind::Grids,
            "grids/shp/part-count-minus-1.shp",
            FILE,
            "cannot parse",
        ),
        refused(
            Kind::Grids,
            "grids/shp/part-start-past-the-points.shp",
            FILE,
            "cannot parse",
        ),
        refused(
            Kind::Grids,
            "grids/shp/shx-file-length-too-small.shp",
            FILE,
            "cannot parse",
        ),
        refused(
            Kind::Grids,
            "grids/shp/dbf-header-length-0.shp",
            FILE,
            "cannot parse",
        ),
    ];
    let failures = run_all(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
