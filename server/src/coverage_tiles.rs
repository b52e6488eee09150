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
//! The layers come from the same cached report as `/api/v1/coverage` with
//! default thresholds, so the map and the report never disagree.

use std::sync::{Arc, Mutex, Weak};

use geo_types::{Geometry, MultiPolygon, Point};
use gridmap_data::analysis::{CoverageReport, ProblemKind};
use gridmap_tiles::{
    render_tile, FeatureInput, LabelInput, LabelLayer, PreparedLayer, PropValue, TileId,
    TileOptions,
};

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
    pub fn build(report: &CoverageReport) -> anyhow::Result<Self> {
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
            polygons: PreparedLayer::new("coverage", polygons)?,
            points: LabelLayer::new("coverage_points", points)?,
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

type Entry = (Weak<CoverageReport>, Arc<CoverageTiles>);
static PREPARED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The prepared layers of a report, built once per report.
pub fn for_report(report: &Arc<CoverageReport>) -> anyhow::Result<Arc<CoverageTiles>> {
    let mut prepared = PREPARED.lock().expect("coverage tiles poisoned");
    prepared.retain(|(r, _)| r.strong_count() > 0);
    if let Some((_, t)) = prepared
        .iter()
        .find(|(r, _)| std::ptr::eq(r.as_ptr(), Arc::as_ptr(report)))
    {
        return Ok(t.clone());
    }
    let tiles = Arc::new(CoverageTiles::build(report)?);
    prepared.push((Arc::downgrade(report), tiles.clone()));
    Ok(tiles)
}
