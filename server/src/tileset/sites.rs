//! The `sites` point layer: the catalog's site registers (addresses,
//! enterprises, schools …), shared by every grid system, one point each.

use gridmap_data::catalog::Catalog;
use gridmap_tiles::points::{buffered_lonlat_bounds, encode_points, PointFeature};
use gridmap_tiles::{PropValue, TileId, TileOptions};

use super::ids::site_feature_id;
use super::schema::SITES_LAYER;

/// Appends the `sites` layer of a tile: every site of the catalog inside the
/// tile plus `opts.buffer`, from `min_zoom` on, with properties `id`, `kind`
/// and `name` only: tiles are public, so no register data such as household
/// counts goes into them. Returns the number of sites written;
/// nothing is appended when there are none.
pub fn encode_sites_layer(
    catalog: &Catalog,
    tile: TileId,
    opts: &TileOptions,
    min_zoom: u8,
    out: &mut Vec<u8>,
) -> anyhow::Result<usize> {
    if tile.z < min_zoom || catalog.sites().is_empty() {
        return Ok(0);
    }
    let register = catalog.site_register();
    let found = register
        .points()
        .in_bbox(buffered_lonlat_bounds(tile, opts));
    let points = found.iter().map(|&i| {
        let site = &register.sites()[i as usize];
        let kind = register.kind_name(site);
        let properties = vec![
            ("id".to_string(), PropValue::String(site.id.to_string())),
            ("kind".to_string(), PropValue::String(kind.to_string())),
            ("name".to_string(), PropValue::String(site.name.to_string())),
        ];
        PointFeature {
            id: Some(site_feature_id(kind, &site.id)),
            lon: site.lon,
            lat: site.lat,
            properties,
        }
    });
    Ok(encode_points(SITES_LAYER, tile, points, opts, out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridmap_data::model::Site;
    use gridmap_tiles::decode::decode_tile;
    use gridmap_tiles::tile::{lonlat_to_mercator, tile_for_lonlat};

    #[test]
    fn sites_layer_positions_and_zoom() {
        let site = |kind: &str, id: &str, lon: f64, lat: f64, households| Site {
            id: id.into(),
            kind: kind.into(),
            name: format!("{id}名"),
            address: None,
            households,
            location: geo_types::Point::new(lon, lat),
            attributes: Default::default(),
        };
        let catalog = Catalog::from_parts(1, Default::default(), vec![]).with_sites(vec![
            site("address", "A1", 120.1, 30.25, Some(42)),
            site("food", "F1", 120.1001, 30.2501, None),
        ]);
        let opts = TileOptions::default();
        let tile = tile_for_lonlat(120.1, 30.25, 15).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            encode_sites_layer(&catalog, tile, &opts, 15, &mut out).unwrap(),
            2
        );
        let layers = decode_tile(&out).unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].name, "sites");
        let f = &layers[0].features[0];
        assert_eq!(
            (f.id, f.geom_type),
            (Some(site_feature_id("address", "A1")), 1)
        );
        assert!(f
            .properties
            .contains(&("name".to_string(), PropValue::String("A1名".into()))));
        // The address point has 42 households; tiles never say so.
        assert!(layers[0]
            .features
            .iter()
            .all(|f| f.properties.iter().all(|(k, _)| k != "households")));
        // The encoded position maps back to the site within half a tile unit.
        let [dx, dy] =
            [f.geometry[1], f.geometry[2]].map(|v| ((v >> 1) as i32) ^ -((v & 1) as i32));
        let b = tile.bounds();
        let unit = b.width() / 4096.0;
        let (mx, my) = lonlat_to_mercator(120.1, 30.25);
        assert!((b.min().x + f64::from(dx) * unit - mx).abs() <= unit / 2.0 + 1e-6);
        assert!((b.max().y - f64::from(dy) * unit - my).abs() <= unit / 2.0 + 1e-6);
        let z14 = tile_for_lonlat(120.1, 30.25, 14).unwrap();
        let mut none = Vec::new();
        assert_eq!(
            encode_sites_layer(&catalog, z14, &opts, 15, &mut none).unwrap(),
            0
        );
        assert!(none.is_empty());
        let far = tile_for_lonlat(100.0, 20.0, 15).unwrap();
        assert_eq!(
            encode_sites_layer(&catalog, far, &opts, 15, &mut none).unwrap(),
            0
        );
    }
}
