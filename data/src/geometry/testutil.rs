//! Shapes and fixtures the geometry and index tests share.

use geo_types::{polygon, Geometry, LineString, MultiPolygon, Polygon};

/// A ring through `pts` as given (closed by `geo_types` if it is not).
pub(crate) fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    pts.iter().map(|&(x, y)| (x, y)).collect::<Vec<_>>().into()
}

/// The axis-aligned rectangle `[x0, x1] × [y0, y1]`.
pub(crate) fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
}

/// An "inverted hole": a ring round the square (0,0)–(4,4) that passes
/// through (2,2) twice, the loop between making a second lobe in the notch.
pub(crate) fn self_touching_ring() -> LineString<f64> {
    ring(&[
        (0., 0.),
        (4., 0.),
        (4., 4.),
        (2., 2.),
        (3., 3.5),
        (1., 3.5),
        (2., 2.),
        (0., 4.),
        (0., 0.),
    ])
}

/// The 102 grids of `data/fixtures/zhejiang-admin-gcj02.geojson` (province,
/// cities, districts; thousands of vertices per ring), in file order, with
/// their `code`, `name`, `level` and `parent` properties.
pub(crate) fn zhejiang_grids() -> Vec<crate::model::Grid> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/zhejiang-admin-gcj02.geojson"
    );
    let text = std::fs::read_to_string(path).expect("Zhejiang fixture");
    let collection: geojson::FeatureCollection = text.parse().expect("a FeatureCollection");
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let prop = |k: &str| {
                f.property(k)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            let (code, name, level) = (prop("code"), prop("name"), prop("level"));
            let parent = prop("parent").filter(|p| !p.is_empty());
            let geometry: Geometry<f64> = f
                .geometry
                .and_then(|g| g.try_into().ok())
                .unwrap_or_else(|| panic!("feature {i} has no readable geometry"));
            let geometry = match geometry {
                Geometry::MultiPolygon(m) => m,
                Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                other => panic!("feature {i}: {other:?} is not polygonal"),
            };
            crate::model::Grid {
                code: code.unwrap_or_default(),
                name: name.unwrap_or_default(),
                level: level.unwrap_or_default(),
                parent,
                geometry,
                attributes: Default::default(),
            }
        })
        .collect()
}

/// The geometries of [`zhejiang_grids`].
pub(crate) fn zhejiang_polygons() -> Vec<MultiPolygon<f64>> {
    zhejiang_grids().into_iter().map(|g| g.geometry).collect()
}
