//! `gridmap board` as a user runs it, on the demo city: the PDF's text
//! (pdftotext) holds the title, every block's name and every worker's phone,
//! its fonts are embedded (pdffonts), and an unknown code exits 1 naming it.
//! Needs poppler-utils and fonts-noto-cjk (scripts/test-all.sh installs them).

mod common;

use std::process::Command;

use common::{arg, assert_success, gridmap, import_workers, text};

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

/// `gridmap board 330106006003` (文鼎社区) at A3 with a fixed date and
/// public URL, writing `out`, then the `extra` flags.
fn wending_a3(db: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "board",
        "330106006003",
        "--db",
        arg(db),
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
    gridmap(&args)
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
        let extra: Vec<&str> = ["--format", format].iter().chain(extra).copied().collect();
        assert_success(&wending_a3(&db, out, &extra));
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

/// Serves `photo` at `/w.png` and 404 for anything else, on a loopback port,
/// for the rest of the test run; returns the base URL.
fn photo_server(photo: &'static [u8]) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            // The rest of the head, up to the blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body): (&str, &[u8]) = if request_line.starts_with("GET /w.png ") {
                ("200 OK", photo)
            } else {
                ("404 Not Found", b"no such photo")
            };
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    base
}

/// The images in a PDF, as `pdfimages -list` counts them.
fn images_in(pdf: &std::path::Path) -> usize {
    let list = Command::new("pdfimages")
        .args(["-list", arg(pdf)])
        .output()
        .expect("pdfimages (poppler-utils)");
    assert!(list.status.success(), "{}", text(&list.stderr));
    text(&list.stdout).lines().skip(2).count()
}

/// Photos recorded as URLs print only with `--fetch-photos`: then the photo
/// served is embedded, and one the server does not have is reported with
/// its HTTP status while the board is still printed.
#[test]
fn photo_urls_are_fetched_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    assert_success(&gridmap(&["demo", "--out", arg(&db)]));
    let base = photo_server(include_bytes!(
        "../../print/testdata/board-330106006003-a3-40dpi.png"
    ));
    // Two of 文鼎社区's own workers get photo URLs: one served, one not.
    let catalog = grids_of(&db);
    let own: Vec<_> = catalog
        .workers_of("default", "330106006003")
        .into_iter()
        .map(|(w, _)| w.clone())
        .collect();
    assert!(
        own.len() >= 2,
        "the community has a chief and a police officer"
    );
    let mut csv = String::from("id,name,phone,role,photo,duties,grids\n");
    for (w, photo) in own
        .iter()
        .zip([format!("{base}/w.png"), format!("{base}/gone.png")])
    {
        let grids: Vec<String> = w
            .grids
            .iter()
            .map(|g| format!("{}:{}", g.code, g.share))
            .collect();
        let fields = [
            &w.id,
            &w.name,
            &w.phone,
            &w.role,
            &photo,
            &w.duties,
            &grids.join(";"),
        ];
        let quoted: Vec<String> = fields
            .iter()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
            .collect();
        csv.push_str(&quoted.join(","));
        csv.push('\n');
    }
    let workers = dir.path().join("workers.csv");
    common::write(&workers, &csv);
    assert_success(&import_workers(&workers, &db));

    let board = |extra: &[&str], out: &std::path::Path| {
        let run = wending_a3(&db, out, extra);
        assert_success(&run);
        text(&run.stderr)
    };
    let without = dir.path().join("without.pdf");
    let report = board(&[], &without);
    for w in &own {
        let line = report
            .lines()
            .find(|l| l.contains(&format!("worker {} ", w.id)))
            .unwrap_or_else(|| panic!("{} not reported: {report}", w.id));
        assert!(line.contains("--fetch-photos"), "{line}");
    }

    let with = dir.path().join("with.pdf");
    let report = board(&["--fetch-photos"], &with);
    assert!(
        !report.contains(&format!("worker {} ", own[0].id)),
        "the served photo is printed: {report}"
    );
    let gone = report
        .lines()
        .find(|l| l.contains(&format!("worker {} ", own[1].id)))
        .unwrap_or_else(|| panic!("the missing photo is reported: {report}"));
    assert!(gone.contains("HTTP 404"), "{gone}");
    assert_eq!(
        images_in(&with),
        images_in(&without) + 1,
        "one photo more is embedded"
    );
}
