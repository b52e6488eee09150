//! The `coverage` and `coverage_points` tile layers: where a grid system's
//! coverage report finds problems.
//!
//! - `coverage` (polygons, from z[`COVERAGE_MIN_ZOOM`]): gaps, overlaps,
//!   overhangs, invalid shapes and sliver grids, each with `kind`, `grids`
//!   (comma-separated codes), `area_m2` and `message`.
//! - `coverage_points` (from z[`COVERAGE_POINTS_MIN_ZOOM`]): a point for every
//!   problem (site problems at the site, grid problems inside the grid), with
//!   `kind`, `grids` and `message`; there can be thousands in a city, hence the
//!   later zoom.
//!
//! The layers are prepared once per [`super::Tileset`] from a report of the
//! very catalog snapshot the tileset was built from (with default
//! thresholds, like `/api/v1/coverage` without parameters), so the map and
//! the report never disagree, and they are dropped with the tileset when the
//! data version moves.

use std::sync::Arc;

use geo_types::{Geometry, MultiPolygon, Point};
use gridmap_data::analysis::CheckOptions;
use gridmap_data::analysis::{CoverageReport, ProblemKind};
use gridmap_data::catalog::Catalog;
use gridmap_tiles::{
    render_tile, FeatureInput, LabelInput, LabelLayer, PreparedLayer, PropValue, TileId,
    TileOptions,
};

use super::schema::{COVERAGE_LAYER, COVERAGE_POINTS_LAYER};
use crate::http::AppState;

pub const COVERAGE_MIN_ZOOM: u8 = 8;
pub const COVERAGE_POINTS_MIN_ZOOM: u8 = 13;

/// The prepared problem layers of one report.
pub struct CoverageTiles {
    polygons: PreparedLayer,
    points: LabelLayer,
}

fn is_area_problem(kind: ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::Gap
            | ProblemKind::Overlap
            | ProblemKind::Overhang
            | ProblemKind::InvalidGeometry
            | ProblemKind::SliverGrid
    )
}

impl CoverageTiles {
    /// Tiles are public: they show the report as [`CoverageReport::public`]
    /// renders it, never a household figure.
    pub fn build(report: &CoverageReport) -> anyhow::Result<Self> {
        let report = report.public();
        let mut polygons = Vec::new();
        let mut points = Vec::new();
        for (i, p) in report.problems.iter().enumerate() {
            // Ids number the problems in the report's (deterministic) order.
            let id = i as u64 + 1;
            let mut props = vec![
                (
                    "kind".to_string(),
                    PropValue::String(p.kind.as_str().to_string()),
                ),
                ("grids".to_string(), PropValue::String(p.grids.join(","))),
                ("message".to_string(), PropValue::String(p.message.clone())),
            ];
            if let Some(a) = p.area_m2 {
                props.push(("area_m2".to_string(), PropValue::Double(a)));
            }
            if is_area_problem(p.kind) {
                let mp = match &p.geometry {
                    Some(Geometry::Polygon(poly)) => Some(MultiPolygon(vec![poly.clone()])),
                    Some(Geometry::MultiPolygon(mp)) => Some(mp.clone()),
                    _ => None,
                };
                if let Some(geometry) = mp {
                    polygons.push(FeatureInput {
                        id,
                        geometry,
                        properties: props.clone(),
                    });
                }
            }
            if let Some([lon, lat]) = p.location {
                points.push(LabelInput {
                    id,
                    point: Point::new(lon, lat),
                    properties: props,
                    min_zoom: COVERAGE_POINTS_MIN_ZOOM,
                });
            }
        }
        Ok(Self {
            polygons: PreparedLayer::new(COVERAGE_LAYER, polygons)?,
            points: LabelLayer::new(COVERAGE_POINTS_LAYER, points)?,
        })
    }

    /// Appends the problem layers of one tile (nothing below z8).
    pub fn encode(
        &self,
        tile: TileId,
        opts: &TileOptions,
        out: &mut Vec<u8>,
    ) -> anyhow::Result<()> {
        if tile.z < COVERAGE_MIN_ZOOM {
            return Ok(());
        }
        out.extend(render_tile(
            tile,
            &[&self.polygons],
            Some(&self.points),
            opts,
        )?);
        Ok(())
    }
}

/// The coverage report of `system` in `catalog` (default thresholds), for
/// the tile layers. The one place the tiles ask for a report. Blocking.
pub fn report_for_tiles(
    state: &AppState,
    catalog: &Catalog,
    system: &str,
) -> anyhow::Result<Arc<CoverageReport>> {
    Ok(state
        .coverage_report(catalog, system, &CheckOptions::default())
        .map_err(|e| anyhow::anyhow!("coverage report of {system}: {e:?}"))?)
}
