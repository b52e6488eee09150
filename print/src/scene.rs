//! One board as one SVG scene: the page parts from [`crate::page`], the map
//! drawn from the catalog's polygons, labels from [`crate::labels`], colours
//! from [`crate::colouring`], panels from [`crate::panels`] and the map
//! furniture from [`crate::furniture`]. Every number in the document is
//! rounded to 0.01 mm and everything is drawn in a fixed order, so the same
//! catalog and options give the same bytes.

use geo::{Area, BooleanOps};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use gridmap_data::catalog::Catalog;

use crate::adjacency::adjacency;
use crate::board::BoardData;
use crate::colouring::colour;
use crate::error::PrintError;
use crate::fonts::Fonts;
use crate::furniture;
use crate::labels::{self, BoxMm, LabelSpec, Line, Placed};
use crate::page::PageLayout;
use crate::panels::{self, Panel, PanelLayout};
use crate::photos::{MissingPhoto, PhotoSource};
use crate::projection::{Projection, ScaleBar};
use crate::svg::{num, Anchor, Svg};
use crate::BoardOptions;

/// Block fills: light, distinct in print and to colour-blind eyes, dark text readable on each.
pub const PALETTE: [&str; crate::colouring::MAX_COLOURS] =
    ["#f6d7a7", "#c9e4b4", "#b9d6ee", "#f3c3cf", "#ddd0ef"];
const COMMUNITY_FILL: &str = "#f7d9d3";

/// Boundaries closer than this (degrees, about 1 m) touch.
pub const TOUCH_TOLERANCE: f64 = 1e-5;

/// The map's frame is filled by the grid up to this margin, leaving room for the neighbours.
const MAP_PADDING: f64 = 0.07;

/// What a board shows, for tests and callers that check its layout.
#[derive(Debug, Clone)]
pub struct BoardLayout {
    pub page: PageLayout,
    pub projection: Projection,
    pub scale: ScaleBar,
    pub block_codes: Vec<String>,
    pub block_names: Vec<String>,
    /// Colour index of each block.
    pub colours: Vec<usize>,
    /// The block labels, one per block in block order.
    pub block_labels: Vec<Placed>,
    /// The neighbours' names that found room, by neighbour code.
    pub neighbour_labels: Vec<(String, Placed)>,
    pub neighbour_codes: Vec<String>,
    /// Codes in the legend, in order.
    pub legend_codes: Vec<String>,
    pub panels: PanelLayout,
    pub qr_url: String,
}

/// The scene and what was learnt while drawing it.
pub struct Scene {
    pub svg: String,
    pub layout: BoardLayout,
    pub title: String,
    pub missing_photos: Vec<MissingPhoto>,
}

pub fn build(
    catalog: &Catalog,
    code: &str,
    opts: &BoardOptions,
    fonts: &Fonts,
    photos: &PhotoSource,
) -> Result<Scene, PrintError> {
    let mut data = BoardData::gather(catalog, opts.system.as_deref(), code)?;
    let (w, h) = opts.size.mm(opts.landscape);
    let page = PageLayout::new(w, h);
    let u = page.u;
    let m = fonts.measure();
    let bounds = bounds_of(&data.grid.geometry)
        .ok_or_else(|| PrintError::Render(format!("grid `{code}` has an empty geometry")))?;
    let frame = page.map;
    let projection = Projection::fit(
        bounds,
        [frame.x0, frame.y0, frame.width(), frame.height()],
        MAP_PADDING,
    );
    let sw = projection.unproject(frame.x0, frame.y1);
    let ne = projection.unproject(frame.x1, frame.y0);
    data.find_neighbours(catalog, [sw.x, sw.y, ne.x, ne.y]);

    let blocks_mm: Vec<MultiPolygon<f64>> = data
        .blocks
        .iter()
        .map(|b| project(&projection, &b.geometry))
        .collect();
    let frame_poly = rect_polygon(&frame);
    let neighbours_mm: Vec<MultiPolygon<f64>> = data
        .neighbours
        .iter()
        .map(|g| project(&projection, &g.geometry).intersection(&frame_poly))
        .collect();

    let adj = adjacency(
        &data
            .blocks
            .iter()
            .map(|b| b.geometry.clone())
            .collect::<Vec<_>>(),
        TOUCH_TOLERANCE,
    );
    let areas: Vec<f64> = blocks_mm.iter().map(|p| p.unsigned_area()).collect();
    let colours = colour(&adj, &areas);

    // Labels: every block's (required), then the neighbours' names where they fit.
    let block_sizes: Vec<f64> = [2.0, 1.7, 1.45, 1.2, 1.0, 0.85, 0.7]
        .iter()
        .map(|k| k * u)
        .collect();
    let mut specs: Vec<LabelSpec> = data
        .blocks
        .iter()
        .zip(&blocks_mm)
        .map(|(b, region)| {
            let short = data.short_code(b);
            LabelSpec {
                lines: vec![
                    Line {
                        unit_width: m.width(&b.name, 1.0),
                        text: b.name.clone(),
                        scale: 1.0,
                    },
                    Line {
                        unit_width: m.width(&short, 1.0),
                        text: short,
                        scale: 0.72,
                    },
                ],
                region: region.clone(),
                sizes: block_sizes.clone(),
                required: true,
            }
        })
        .collect();
    for (g, region) in data.neighbours.iter().zip(&neighbours_mm) {
        specs.push(LabelSpec {
            lines: vec![Line {
                unit_width: m.width(&g.name, 1.0),
                text: g.name.clone(),
                scale: 1.0,
            }],
            region: region.clone(),
            sizes: [1.4, 1.15, 0.95].iter().map(|k| k * u).collect(),
            required: false,
        });
    }
    let inner = frame.shrunk(0.4 * u);
    let placed = labels::place(&specs, inner).map_err(|i| PrintError::NoRoomForLabel {
        code: data.blocks[i].code.clone(),
        name: data.blocks[i].name.clone(),
    })?;
    let nb = data.blocks.len();
    let block_labels: Vec<Placed> = placed.iter().filter(|p| p.spec < nb).cloned().collect();
    let neighbour_labels: Vec<(String, Placed)> = placed
        .iter()
        .filter(|p| p.spec >= nb)
        .map(|p| (data.neighbours[p.spec - nb].code.clone(), p.clone()))
        .collect();

    let title = format!("{}网格示意图", data.grid.name);
    let mut svg = Svg::new(w, h, fonts.family());
    svg.rect(0.0, 0.0, w, h, r##"fill="#ffffff""##);
    furniture::header(&mut svg, &page, &m, &title, &data);

    // The map.
    svg.raw(&format!(
        r#"<clipPath id="map"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
        num(frame.x0),
        num(frame.y0),
        num(frame.width()),
        num(frame.height())
    ));
    svg.rect(
        frame.x0,
        frame.y0,
        frame.width(),
        frame.height(),
        r##"fill="#f3f2ee""##,
    );
    svg.raw(r#"<g clip-path="url(#map)">"#);
    for n in &data.neighbours {
        svg.path(
            &path_data(&project(&projection, &n.geometry)),
            &format!(
                r##"fill="#e6e4de" stroke="#b4afa4" stroke-width="{}" fill-rule="evenodd""##,
                num(0.12 * u)
            ),
        );
    }
    for (region, &c) in blocks_mm.iter().zip(&colours) {
        svg.path(
            &path_data(region),
            &format!(r##"fill="{}" stroke="#5d6672" stroke-width="{}" stroke-linejoin="round" fill-rule="evenodd""##, PALETTE[c], num(0.12 * u)),
        );
    }
    svg.path(
        &path_data(&project(&projection, &data.grid.geometry)),
        &format!(
            r##"fill="none" stroke="#c0392b" stroke-width="{}" stroke-linejoin="round""##,
            num(0.45 * u)
        ),
    );
    svg.raw("</g>");
    svg.rect(
        frame.x0,
        frame.y0,
        frame.width(),
        frame.height(),
        &format!(
            r##"fill="none" stroke="#333b45" stroke-width="{}""##,
            num(0.2 * u)
        ),
    );
    for p in &placed {
        draw_label(&mut svg, &specs[p.spec], p, p.spec < nb, u);
    }

    // The side column.
    let legend: Vec<furniture::LegendEntry> = data
        .blocks
        .iter()
        .zip(&colours)
        .map(|(b, &c)| furniture::LegendEntry {
            code: b.code.clone(),
            text: format!("{} {}", data.short_code(b), b.name),
            fill: PALETTE[c],
        })
        .collect();
    let qr_url = crate::qr::grid_url(&opts.public_url, &data.grid.code);
    let scale = furniture::side_column(&mut svg, &page, &m, &legend, &projection, &qr_url)?;

    // The panels.
    let mut panel_list = vec![Panel {
        heading: format!("{}（全社区）", data.grid.name),
        fill: COMMUNITY_FILL,
        workers: data.own_workers.clone(),
    }];
    if !(nb == 1 && std::ptr::eq(data.blocks[0], data.grid)) {
        for ((b, workers), &c) in data.blocks.iter().zip(&data.block_workers).zip(&colours) {
            panel_list.push(Panel {
                heading: format!("{} {}", data.short_code(b), b.name),
                fill: PALETTE[c],
                workers: workers.clone(),
            });
        }
    }
    let panel_layout = panels::layout(&panel_list, page.panels, 1.1 * u);
    let missing_photos = panels::draw(&mut svg, &panel_list, &panel_layout, &m, photos);
    furniture::footer(&mut svg, &page, &data, opts);

    Ok(Scene {
        svg: svg.finish(),
        title,
        missing_photos,
        layout: BoardLayout {
            page,
            projection,
            scale,
            block_codes: data.blocks.iter().map(|b| b.code.clone()).collect(),
            block_names: data.blocks.iter().map(|b| b.name.clone()).collect(),
            colours,
            block_labels,
            neighbour_labels,
            neighbour_codes: data.neighbours.iter().map(|g| g.code.clone()).collect(),
            legend_codes: legend.iter().map(|e| e.code.clone()).collect(),
            panels: panel_layout,
            qr_url,
        },
    })
}

fn draw_label(svg: &mut Svg, spec: &LabelSpec, p: &Placed, block: bool, u: f64) {
    if let Some(from) = p.leader_from {
        let to = (
            from.0.clamp(p.rect.x0, p.rect.x1),
            from.1.clamp(p.rect.y0, p.rect.y1),
        );
        svg.line(
            from,
            to,
            &format!(r##"stroke="#333b45" stroke-width="{}""##, num(0.1 * u)),
        );
        svg.raw(&format!(
            r##"<circle cx="{}" cy="{}" r="{}" fill="#333b45"/>"##,
            num(from.0),
            num(from.1),
            num(0.25 * u)
        ));
        svg.rect(
            p.rect.x0,
            p.rect.y0,
            p.rect.width(),
            p.rect.height(),
            &format!(
                r##"fill="#ffffff" fill-opacity="0.9" stroke="#333b45" stroke-width="{}""##,
                num(0.08 * u)
            ),
        );
    }
    let cx = (p.rect.x0 + p.rect.x1) / 2.0;
    let total: f64 = spec
        .lines
        .iter()
        .map(|l| l.scale * p.size * labels::LINE_HEIGHT)
        .sum();
    let mut y = (p.rect.y0 + p.rect.y1) / 2.0 - total / 2.0;
    for (k, line) in spec.lines.iter().enumerate() {
        let size = line.scale * p.size;
        let lh = size * labels::LINE_HEIGHT;
        // Noto Sans CJK's ascent and descent are 0.88 and 0.12 em: centre the em box in the line.
        let baseline = y + (lh - size) / 2.0 + 0.88 * size;
        let style = match (block, k) {
            (true, 0) => r##"font-weight="bold" fill="#1d2733""##,
            (true, _) => r##"fill="#3b4654""##,
            _ => r##"fill="#7a7468""##,
        };
        svg.text(cx, baseline, size, Anchor::Middle, style, &line.text);
        y += lh;
    }
}

fn bounds_of(mp: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    let r = mp.bounding_rect()?;
    Some([r.min().x, r.min().y, r.max().x, r.max().y])
}

/// A polygon projected onto the sheet.
pub fn project(p: &Projection, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        r.0.iter()
            .map(|&c| {
                let (x, y) = p.project(c);
                Coord { x, y }
            })
            .collect()
    };
    MultiPolygon(
        mp.0.iter()
            .map(|poly| {
                Polygon::new(
                    ring(poly.exterior()),
                    poly.interiors().iter().map(ring).collect(),
                )
            })
            .collect(),
    )
}

fn rect_polygon(b: &BoxMm) -> Polygon<f64> {
    Polygon::new(
        LineString::from(vec![
            (b.x0, b.y0),
            (b.x1, b.y0),
            (b.x1, b.y1),
            (b.x0, b.y1),
            (b.x0, b.y0),
        ]),
        Vec::new(),
    )
}

/// SVG path data of a projected polygon; vertices closer than 0.05 mm to
/// the last one kept are dropped (invisible in print, and they bloat the file).
pub fn path_data(mp: &MultiPolygon<f64>) -> String {
    let mut d = String::new();
    for poly in &mp.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            let mut last: Option<Coord<f64>> = None;
            for (k, c) in ring.0.iter().enumerate() {
                let keep = match last {
                    None => true,
                    Some(l) => {
                        (c.x - l.x).abs() + (c.y - l.y).abs() >= 0.05 || k + 1 == ring.0.len()
                    }
                };
                if keep {
                    d.push(if last.is_none() { 'M' } else { 'L' });
                    d.push_str(&num(c.x));
                    d.push(' ');
                    d.push_str(&num(c.y));
                    last = Some(*c);
                }
            }
            if last.is_some() {
                d.push('Z');
            }
        }
    }
    d
}
