//! Boards of every demo community and of every Zhejiang city (its districts
//! as blocks: real coasts and islands), checked against independent oracles:
//! geo's DE-9IM relate for which blocks are neighbours, box arithmetic for
//! the labels; and one rendered PNG against a stored golden image.

use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, Intersects, Relate};
use gridmap_data::catalog::Catalog;

use crate::labels::BoxMm;
use crate::testutil::{demo, fonts, options, zhejiang};
use crate::{Board, Format, PaperSize, PhotoSource};

/// Codes of the grids at `level` in the only system.
fn codes_at(catalog: &Catalog, level: &str) -> Vec<String> {
    let index = catalog.pick_system(None).unwrap();
    index
        .grids()
        .iter()
        .filter(|g| g.level == level)
        .map(|g| g.code.clone())
        .collect()
}

/// Whether two blocks are neighbours by DE-9IM: their boundaries share a
/// line, or their interiors meet.
fn neighbours(a: &geo_types::MultiPolygon<f64>, b: &geo_types::MultiPolygon<f64>) -> bool {
    let (Some(ra), Some(rb)) = (a.bounding_rect(), b.bounding_rect()) else {
        return false;
    };
    if !ra.intersects(&rb) {
        return false;
    }
    let m = a.relate(b);
    m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
        || m.get(CoordPos::Inside, CoordPos::Inside) != Dimensions::Empty
}

/// Checks one board's colours, labels, legend and panels; returns the
/// number of neighbour pairs checked.
fn check_board(catalog: &Catalog, code: &str, size: PaperSize, landscape: bool) -> usize {
    let mut opts = options(size);
    opts.landscape = landscape;
    let board = Board::build(catalog, code, &opts, fonts(), &PhotoSource::default())
        .unwrap_or_else(|e| panic!("board {code} {size}: {e}"));
    let l = board.layout();
    let index = catalog.pick_system(None).unwrap();
    let blocks: Vec<_> = l
        .block_codes
        .iter()
        .map(|c| index.grid(c).unwrap())
        .collect();

    // Colours: at most five, neighbours never equal.
    assert!(l.colours.iter().all(|&c| c < crate::colouring::MAX_COLOURS));
    let mut pairs = 0;
    for i in 0..blocks.len() {
        for j in i + 1..blocks.len() {
            if neighbours(&blocks[i].geometry, &blocks[j].geometry) {
                pairs += 1;
                assert_ne!(
                    l.colours[i], l.colours[j],
                    "{code}: {} and {} share a colour",
                    blocks[i].code, blocks[j].code
                );
            }
        }
    }

    // Labels: one per block, anchored inside it; none overlapping, all in the frame.
    assert_eq!(
        l.block_labels.len(),
        blocks.len(),
        "{code}: a label per block"
    );
    let frame = l.page.map;
    let all: Vec<BoxMm> = l
        .block_labels
        .iter()
        .chain(l.neighbour_labels.iter().map(|(_, p)| p))
        .map(|p| p.rect)
        .collect();
    for (i, a) in all.iter().enumerate() {
        assert!(
            a.within(&frame),
            "{code}: label {a:?} leaves the frame {frame:?}"
        );
        for b in &all[i + 1..] {
            assert!(!a.overlaps(b), "{code}: labels {a:?} and {b:?} overlap");
        }
    }
    for (p, b) in l.block_labels.iter().zip(&blocks) {
        let anchor = p
            .leader_from
            .unwrap_or(((p.rect.x0 + p.rect.x1) / 2.0, (p.rect.y0 + p.rect.y1) / 2.0));
        let at = l.projection.unproject(anchor.0, anchor.1);
        assert!(
            geo::Contains::contains(&b.geometry, &geo_types::Point::from(at))
                || p.leader_from.is_none(),
            "{code}: the leader of {} starts outside it",
            b.code
        );
    }

    // The legend lists exactly the blocks on the map.
    assert_eq!(l.legend_codes, l.block_codes);
    // Panels: one per block plus the community's, disjoint, inside their part of the sheet.
    let expected = if blocks.len() == 1 && blocks[0].code == code {
        1
    } else {
        blocks.len() + 1
    };
    assert_eq!(l.panels.boxes.len(), expected);
    for (i, a) in l.panels.boxes.iter().enumerate() {
        assert!(
            a.within(&l.page.panels.shrunk(-1e-6)),
            "{code}: panel {a:?} outside {:?}",
            l.page.panels
        );
        for b in &l.panels.boxes[i + 1..] {
            assert!(!a.overlaps(b), "{code}: panels overlap");
        }
    }
    pairs
}

#[test]
fn every_demo_community_board_has_proper_colours_and_free_labels() {
    let catalog = demo();
    let communities = codes_at(catalog, "community");
    assert!(communities.len() >= 50, "{}", communities.len());
    let mut pairs = 0;
    for (k, code) in communities.iter().enumerate() {
        // Every size and orientation gets its share of the communities.
        let size = PaperSize::ALL[k % 5];
        pairs += check_board(catalog, code, size, k % 2 == 1);
    }
    assert!(pairs > 1000, "only {pairs} neighbour pairs checked");
}

#[test]
fn every_zhejiang_city_board_has_proper_colours_and_free_labels() {
    let catalog = zhejiang();
    let cities = codes_at(catalog, "city");
    assert_eq!(cities.len(), 11);
    let mut pairs = 0;
    for (k, code) in cities.iter().enumerate() {
        pairs += check_board(
            catalog,
            code,
            [PaperSize::A1, PaperSize::A4][k % 2],
            k % 3 == 0,
        );
    }
    assert!(pairs > 100, "only {pairs} neighbour pairs checked");
}

#[test]
fn colours_are_balanced_by_area_on_the_demo() {
    // With five colours for a dozen blocks or more, no colour covers half the map.
    let catalog = demo();
    for code in codes_at(catalog, "community").iter().take(20) {
        let board = Board::build(
            catalog,
            code,
            &options(PaperSize::A3),
            fonts(),
            &PhotoSource::default(),
        )
        .unwrap();
        let l = board.layout();
        if l.block_codes.len() < 10 {
            continue;
        }
        let index = catalog.pick_system(None).unwrap();
        let mut by_colour = [0.0f64; crate::colouring::MAX_COLOURS];
        for (c, &k) in l.block_codes.iter().zip(&l.colours) {
            by_colour[k] += geo::Area::unsigned_area(&index.grid(c).unwrap().geometry);
        }
        let total: f64 = by_colour.iter().sum();
        let max = by_colour.iter().copied().fold(0.0, f64::max);
        assert!(
            max / total < 0.4,
            "{code}: one colour covers {:.0}%",
            100.0 * max / total
        );
    }
}

#[test]
fn the_same_board_is_the_same_bytes() {
    let catalog = demo();
    let build = || {
        Board::build(
            catalog,
            "330106006003",
            &options(PaperSize::A2),
            fonts(),
            &PhotoSource::default(),
        )
        .unwrap()
    };
    let (a, b) = (build(), build());
    assert_eq!(a.svg(), b.svg());
    let pdf = |x: &Board| x.render(Format::Pdf, fonts(), 40.0).unwrap();
    let (pa, pb) = (pdf(&a), pdf(&b));
    assert_eq!(pa, pb);
    assert!(pa.starts_with(b"%PDF"));
    assert!(a.title().contains("网格示意图"));
    // The demo's photos are not on disk: each worker is reported, none fatal.
    assert!(!a.missing_photos().is_empty());
}

/// Renders the board of 文鼎社区 at A3, 40 dpi, and compares it with
/// `testdata/board-330106006003-a3-40dpi.png`. To accept a deliberate change
/// of the drawing, regenerate it:
/// `GRIDMAP_UPDATE_GOLDEN=1 cargo test -p gridmap-print golden`.
#[test]
fn golden_image_of_the_wending_board() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/board-330106006003-a3-40dpi.png"
    );
    let board = Board::build(
        demo(),
        "330106006003",
        &options(PaperSize::A3),
        fonts(),
        &PhotoSource::default(),
    )
    .unwrap();
    let png = board.render(Format::Png, fonts(), 40.0).unwrap();
    if std::env::var_os("GRIDMAP_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &png).unwrap();
    }
    let got = tiny_skia::Pixmap::decode_png(&png).unwrap();
    let want = tiny_skia::Pixmap::decode_png(
        &std::fs::read(path).expect("golden image (see the doc comment)"),
    )
    .unwrap();
    assert_eq!((got.width(), got.height()), (want.width(), want.height()));
    assert_eq!((got.width(), got.height()), (468, 661), "A3 at 40 dpi");
    let differing = got
        .pixels()
        .iter()
        .zip(want.pixels())
        .filter(|(a, b)| {
            let d = |x: u8, y: u8| x.abs_diff(y);
            d(a.red(), b.red())
                .max(d(a.green(), b.green()))
                .max(d(a.blue(), b.blue()))
                > 24
        })
        .count();
    let share = differing as f64 / got.pixels().len() as f64;
    assert!(
        share < 0.002,
        "{:.2}% of the pixels differ from the golden image",
        share * 100.0
    );
}
