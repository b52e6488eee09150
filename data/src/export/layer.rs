//! A feature table as every export format writes it: typed columns, one row
//! per feature, the geometry already in the output CRS.
//!
//! Grids become `code, name, level, parent` and then one plain column per
//! attribute (in the order the attributes first appear); sites become `id,
//! kind, name, address, households` and their attributes. A column's type
//! comes from its values: whole numbers → integer, other numbers → real,
//! strings → text, anything else (arrays, objects, booleans) → JSON text, so
//! formats with a JSON type (GeoPackage, FlatGeobuf) give the value back.

use geo_types::Geometry;
use serde_json::{Map, Value};

use crate::crs::{self, Crs, CrsError};
use crate::model::{Grid, Site};

/// The type of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Integer,
    Real,
    /// JSON text (arrays, objects, booleans, or values of mixed kinds that
    /// are not all scalars).
    Json,
}

/// One column: its name in the output and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// One feature: its geometry in the output CRS and its value per column as
/// the store holds it (`Null` where the feature has none); [`cell`] gives it
/// as its typed column holds it.
#[derive(Debug, Clone)]
pub struct Row {
    pub geometry: Geometry<f64>,
    pub values: Vec<Value>,
}

/// What the geometry column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    MultiPolygon,
    Point,
}

/// A feature table ready to write.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The table / layer name (`grids`, `sites`).
    pub name: &'static str,
    pub geometry: GeometryKind,
    pub columns: Vec<Column>,
    /// How many leading columns are the feature's own fields (`code` …
    /// `parent`), the rest being attributes.
    pub fixed: usize,
    pub rows: Vec<Row>,
    /// The CRS of the rows' coordinates.
    pub crs: Crs,
}

impl Layer {
    /// The row's key (its first column: a grid's code, a site's id) for messages.
    pub fn key(row: &Row) -> String {
        match row.values.first() {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        }
    }

    /// The cells of `row` as their typed columns hold them ([`cell`]).
    pub fn cells<'a>(&'a self, row: &'a Row) -> impl Iterator<Item = (&'a Column, Value)> + 'a {
        self.columns
            .iter()
            .zip(&row.values)
            .map(|(c, v)| (c, cell(v, c.kind)))
    }
}

/// Output names for `columns` that are unique ignoring ASCII case (SQLite
/// and DBF compare names so) and, with `limit = (max, len)`, at most `max`
/// long as `len` measures (DBF field names: 10 bytes in the file's
/// encoding), cut at a character boundary and numbered on a clash. Returns
/// the names and the `(from, to)` pairs that changed.
pub fn unique_names(
    columns: &[Column],
    limit: Option<(usize, &dyn Fn(&str) -> usize)>,
) -> (Vec<String>, Vec<(String, String)>) {
    let cut = |s: &str, reserve: usize| -> String {
        let mut s = s.to_string();
        if let Some((max, len)) = limit {
            while len(&s) + reserve > max {
                s.pop();
            }
        }
        s
    };
    let mut taken = std::collections::HashSet::new();
    let mut names = Vec::with_capacity(columns.len());
    let mut renamed = Vec::new();
    for c in columns {
        let mut name = cut(&c.name, 0);
        let mut n = 2;
        while !taken.insert(name.to_ascii_lowercase()) {
            let suffix = format!("_{n}");
            name = format!("{}{suffix}", cut(&c.name, suffix.len()));
            n += 1;
        }
        if name != c.name {
            renamed.push((c.name.clone(), name.clone()));
        }
        names.push(name);
    }
    (names, renamed)
}

/// The type a column of `values` needs.
fn kind_of<'a>(values: impl Iterator<Item = &'a Value>) -> ColumnKind {
    let (mut ints, mut reals, mut texts, mut others) = (0, 0, 0, 0);
    for v in values {
        match v {
            Value::Null => {}
            Value::Number(n) if n.is_i64() => ints += 1,
            Value::Number(_) => reals += 1,
            Value::String(_) => texts += 1,
            _ => others += 1,
        }
    }
    match (ints, reals, texts, others) {
        (_, _, _, o) if o > 0 => ColumnKind::Json,
        (_, _, t, _) if t > 0 => ColumnKind::Text,
        (_, r, _, _) if r > 0 => ColumnKind::Real,
        (i, _, _, _) if i > 0 => ColumnKind::Integer,
        _ => ColumnKind::Text,
    }
}

/// The attribute keys of `maps` in the order they first appear, skipping
/// `fixed` (the columns every row has).
fn attribute_keys<'a>(
    maps: impl Iterator<Item = &'a Map<String, Value>>,
    fixed: &[&str],
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in maps {
        for k in m.keys() {
            // Imports take these as the feature's own fields, so no
            // attribute carries one; a value under one would be shadowed.
            if fixed.contains(&k.as_str()) {
                continue;
            }
            if seen.insert(k.clone()) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// Columns for `fixed` (all text but those named in `integers`) and the
/// attribute keys, typed from the values.
fn columns(
    fixed: &[&str],
    integers: &[&str],
    keys: &[String],
    attrs: &[&Map<String, Value>],
) -> Vec<Column> {
    let mut cols: Vec<Column> = fixed
        .iter()
        .map(|name| Column {
            name: name.to_string(),
            kind: if integers.contains(name) {
                ColumnKind::Integer
            } else {
                ColumnKind::Text
            },
        })
        .collect();
    cols.extend(keys.iter().map(|k| Column {
        name: k.clone(),
        kind: kind_of(attrs.iter().filter_map(|a| a.get(k))),
    }));
    cols
}

/// A value as its column of `kind` holds it: JSON text in a JSON column,
/// text in a text column, numbers as they are.
pub fn cell(value: &Value, kind: ColumnKind) -> Value {
    match (value, kind) {
        (Value::Null, _) => Value::Null,
        (v, ColumnKind::Json) => Value::String(v.to_string()),
        (Value::String(s), _) => Value::String(s.clone()),
        (v @ Value::Number(_), ColumnKind::Integer | ColumnKind::Real) => v.clone(),
        (v, _) => Value::String(v.to_string()),
    }
}

fn project(mut g: Geometry<f64>, crs: Crs) -> Result<Geometry<f64>, CrsError> {
    if crs != Crs::Wgs84 && crs != Crs::Cgcs2000 {
        crs::transform_geometry_from_wgs84(crs, &mut g)?;
    }
    Ok(g)
}

/// The `grids` layer of `grids` in `crs`; fails on the first coordinate the
/// CRS cannot hold, naming the grid.
pub fn grids_layer(grids: &[&Grid], crs: Crs) -> Result<Layer, (String, CrsError)> {
    const FIXED: [&str; 4] = ["code", "name", "level", "parent"];
    let attrs: Vec<&Map<String, Value>> = grids.iter().map(|g| &g.attributes).collect();
    let keys = attribute_keys(attrs.iter().copied(), &FIXED);
    let columns = columns(&FIXED, &[], &keys, &attrs);
    let mut rows = Vec::with_capacity(grids.len());
    for g in grids {
        let mut values = vec![
            Value::String(g.code.clone()),
            Value::String(g.name.clone()),
            Value::String(g.level.clone()),
            g.parent.clone().map(Value::String).unwrap_or(Value::Null),
        ];
        values.extend(
            columns[FIXED.len()..]
                .iter()
                .map(|c| g.attributes.get(&c.name).cloned().unwrap_or(Value::Null)),
        );
        let geometry = project(Geometry::MultiPolygon(g.geometry.clone()), crs)
            .map_err(|e| (g.code.clone(), e))?;
        rows.push(Row { geometry, values });
    }
    Ok(Layer {
        name: "grids",
        geometry: GeometryKind::MultiPolygon,
        fixed: FIXED.len(),
        columns,
        rows,
        crs,
    })
}

/// The `sites` layer of `sites` in `crs`; fails on the first site the CRS
/// cannot hold, naming it (`kind/id`).
pub fn sites_layer(sites: &[&Site], crs: Crs) -> Result<Layer, (String, CrsError)> {
    const FIXED: [&str; 5] = ["id", "kind", "name", "address", "households"];
    let attrs: Vec<&Map<String, Value>> = sites.iter().map(|s| &s.attributes).collect();
    let keys = attribute_keys(attrs.iter().copied(), &FIXED);
    let columns = columns(&FIXED, &["households"], &keys, &attrs);
    let mut rows = Vec::with_capacity(sites.len());
    for s in sites {
        let mut values = vec![
            Value::String(s.id.clone()),
            Value::String(s.kind.clone()),
            Value::String(s.name.clone()),
            s.address.clone().map(Value::String).unwrap_or(Value::Null),
            s.households.map(Value::from).unwrap_or(Value::Null),
        ];
        values.extend(
            columns[FIXED.len()..]
                .iter()
                .map(|c| s.attributes.get(&c.name).cloned().unwrap_or(Value::Null)),
        );
        let geometry = project(Geometry::Point(s.location), crs)
            .map_err(|e| (format!("{}/{}", s.kind, s.id), e))?;
        rows.push(Row { geometry, values });
    }
    Ok(Layer {
        name: "sites",
        geometry: GeometryKind::Point,
        fixed: FIXED.len(),
        columns,
        rows,
        crs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, MultiPolygon};
    use serde_json::json;

    #[test]
    fn columns_are_typed_from_their_values() {
        let sq = polygon![(x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.1)];
        let mut a = Grid::new("1", "street", None, MultiPolygon(vec![sq.clone()]));
        a.attributes =
            json!({"households": 3, "area": 1.5, "label_point": [1, 2], "note": "x", "mixed": 1})
                .as_object()
                .unwrap()
                .clone();
        let mut b = Grid::new("2", "street", None, MultiPolygon(vec![sq]));
        b.attributes = json!({"households": 4, "mixed": "y", "flag": true})
            .as_object()
            .unwrap()
            .clone();
        let layer = grids_layer(&[&a, &b], Crs::Wgs84).unwrap();
        let kinds: Vec<(&str, ColumnKind)> = layer
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(
            kinds[4..],
            [
                ("area", ColumnKind::Real),
                ("households", ColumnKind::Integer),
                ("label_point", ColumnKind::Json),
                ("mixed", ColumnKind::Text),
                ("note", ColumnKind::Text),
                ("flag", ColumnKind::Json),
            ]
        );
        let cell_of =
            |row: usize, col: usize| cell(&layer.rows[row].values[col], layer.columns[col].kind);
        assert_eq!(layer.rows[0].values[6], json!([1, 2]));
        assert_eq!(cell_of(0, 6), json!("[1,2]"));
        assert_eq!(cell_of(0, 7), json!("1"));
        assert_eq!(cell_of(1, 4), Value::Null);
        assert_eq!(cell_of(1, 9), json!("true"));
    }

    #[test]
    fn names_are_made_unique_and_short() {
        let col = |n: &str| Column {
            name: n.into(),
            kind: ColumnKind::Text,
        };
        let cols = [
            col("code"),
            col("Code"),
            col("label_point"),
            col("label_poin"),
            col("网格员姓名"),
        ];
        let (names, renamed) = unique_names(&cols, Some((10, &str::len)));
        assert_eq!(
            names,
            ["code", "Code_2", "label_poin", "label_po_2", "网格员"]
        );
        assert_eq!(renamed.len(), 4);
        let (names, _) = unique_names(&cols, None);
        assert_eq!(names[..3], ["code", "Code_2", "label_point"]);
    }

    #[test]
    fn geometry_is_projected_and_a_bad_one_named() {
        let sq = polygon![(x: 120.0, y: 30.0), (x: 120.1, y: 30.0), (x: 120.1, y: 30.1)];
        let g = Grid::new("1", "street", None, MultiPolygon(vec![sq]));
        let layer = grids_layer(&[&g], Crs::GaussKruger(4549)).unwrap();
        let Geometry::MultiPolygon(mp) = &layer.rows[0].geometry else {
            panic!("kind changed")
        };
        let c = mp.0[0].exterior().0[0];
        assert!(
            (c.x - 500_000.0).abs() < 1e-6 && (c.y - 3_320_113.398).abs() < 1e-2,
            "{c:?}"
        );
        let far = polygon![(x: -100.0, y: 30.0), (x: -99.0, y: 30.0), (x: -99.0, y: 31.0)];
        let bad = Grid::new("far", "street", None, MultiPolygon(vec![far]));
        let (code, _) = grids_layer(&[&bad], Crs::GaussKruger(4549)).unwrap_err();
        assert_eq!(code, "far");
    }
}
