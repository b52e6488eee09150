//! `gridmap board` as a user runs it, on the demo city: the PDF's text
//! (pdftotext) holds the title, every block's name and every worker's phone,
//! its fonts are embedded (pdffonts), and an unknown code exits 1 naming it.
//! Needs poppler-utils and fonts-noto-cjk (scripts/test-all.sh installs them).

mod common;

use std::process::Command;

use common::{arg, assert_success, gridmap, text};

/// The grids and workers of the store at `db`, as the board reads them.
fn grids_of(db: &std::path::Path) -> gridmap_data::catalog::Catalog {
    let store = gridmap_data::store::gpkg::GpkgStore::open(db).unwrap();
    gridmap_data::catalog::Catalog::load_grids(&store).unwrap()
}

#[test]
fn the_wending_board_pdf_has_its_names_phones_and_embedded_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    assert_success(&gridmap(&["demo", "--out", arg(&db)]));
    let pdf = dir.path().join("board.pdf");
    let out = gridmap(&[
        "board",
        "330106006003",
        "--db",
        arg(&db),
        "--format",
        "pdf",
        "--date",
        "2026-01-15",
        "--public-url",
        "https://grid.example.cn",
        "--out",
        arg(&pdf),
    ]);
    assert_success(&out);
    assert!(
        text(&out.stderr).contains("silhouette"),
        "missing photos are reported"
    );

    let words = Command::new("pdftotext")
        .args([arg(&pdf), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let words = text(&words.stdout);
    assert!(words.contains("文鼎社区网格示意图"), "{words}");
    // Every block name and worker phone, from the store itself.
    let catalog = grids_of(&db);
    let index = catalog.pick_system(None).unwrap();
    let community = index.grid_index("330106006003").unwrap();
    let blocks = index.children(community);
    assert!(!blocks.is_empty());
    let squeezed: String = words.split_whitespace().collect();
    for &b in blocks {
        let g = &index.grids()[b];
        assert!(squeezed.contains(&g.name), "block {} missing", g.name);
        for (w, _) in catalog.workers_of("default", &g.code) {
            assert!(squeezed.contains(&w.phone), "phone of {} missing", w.name);
        }
    }
    for (w, _) in catalog.workers_of("default", "330106006003") {
        assert!(
            squeezed.contains(&w.phone),
            "phone of {} ({}) missing",
            w.name,
            w.role
        );
    }

    let fonts = Command::new("pdffonts")
        .arg(arg(&pdf))
        .output()
        .expect("pdffonts");
    let fonts = text(&fonts.stdout);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        assert!(
            row.contains(" yes yes yes "),
            "font not embedded and subset: {row}"
        );
    }

    let bad = gridmap(&[
        "board",
        "999",
        "--db",
        arg(&db),
        "--out",
        arg(&dir.path().join("x.pdf")),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("`999`"), "{}", text(&bad.stderr));
    assert!(!dir.path().join("x.pdf").exists());
}

/// The PNG board's QR code decodes (zbarimg) to the community's public page,
/// the PDF renders (pdftoppm), and `--all` prints one board per community.
/// Needs zbar-tools and poppler-utils (scripts/test-all.sh installs them).
#[test]
fn the_qr_code_links_the_community_and_the_atlas_prints_every_community() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    assert_success(&gridmap(&["demo", "--out", arg(&db)]));
    let board = |format: &str, extra: &[&str], out: &std::path::Path| {
        let mut args = vec![
            "board",
            "330106006003",
            "--db",
            arg(&db),
            "--format",
            format,
            "--size",
            "A3",
            "--date",
            "2026-01-15",
            "--public-url",
            "https://grid.example.cn",
            "--out",
            arg(out),
        ];
        args.extend_from_slice(extra);
        assert_success(&gridmap(&args));
    };

    let png = dir.path().join("board.png");
    board("png", &["--dpi", "150"], &png);
    let qr = Command::new("zbarimg")
        .args(["--raw", "-q", arg(&png)])
        .output()
        .expect("zbarimg (zbar-tools)");
    assert_eq!(
        text(&qr.stdout).trim(),
        "https://grid.example.cn/?grid=330106006003",
        "{}",
        text(&qr.stderr)
    );

    let pdf = dir.path().join("board.pdf");
    board("pdf", &[], &pdf);
    let page = dir.path().join("page");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "20", "-png", "-singlefile", arg(&pdf), arg(&page)])
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let page_png = std::fs::read(dir.path().join("page.png")).unwrap();
    assert!(page_png.starts_with(b"\x89PNG"), "pdftoppm wrote a PNG");

    let atlas = dir.path().join("atlas");
    assert_success(&gridmap(&[
        "board",
        "--all",
        "--db",
        arg(&db),
        "--format",
        "svg",
        "--date",
        "2026-01-15",
        "--public-url",
        "https://grid.example.cn",
        "--out",
        arg(&atlas),
    ]));
    let catalog = grids_of(&db);
    let index = catalog.pick_system(None).unwrap();
    let mut expected: Vec<String> = index
        .grids()
        .iter()
        .filter(|g| g.level == "community")
        .map(|g| format!("{}-{}.svg", g.code, g.name))
        .collect();
    expected.sort();
    let mut written: Vec<String> = std::fs::read_dir(&atlas)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert!(!expected.is_empty());
    assert_eq!(written, expected);
}
