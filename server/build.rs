//! Embeds the web map (`web/*.html|js|css` plus MapLibre GL JS from
//! `web/node_modules`) into the binary, so `gridmap serve` needs no files
//! beside it and the page needs no CDN.
//!
//! Writes `$OUT_DIR/web/<name>` for every asset and `$OUT_DIR/web_assets.rs`,
//! a slice expression of `Asset { name, bytes, etag, immutable }` that
//! `src/http/web.rs` includes. MapLibre's files get versioned names
//! (`maplibre-gl-5.x.y.js`) so browsers may cache them forever; `index.html`
//! is rewritten to point at those names.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.parent().expect("server/ has a parent").join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web");
    fs::create_dir_all(&out).unwrap_or_else(|e| panic!("creating {}: {e}", out.display()));

    // Not the whole web/ directory: cargo would scan node_modules on every build.
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package.json").display()
    );

    let maplibre = web.join("node_modules").join("maplibre-gl");
    println!(
        "cargo:rerun-if-changed={}",
        maplibre.join("package.json").display()
    );
    if !maplibre.join("dist").join("maplibre-gl.js").exists() {
        npm_ci(&web);
    }
    let version = maplibre_version(&maplibre);

    let mut assets: Vec<(String, Vec<u8>, bool)> = Vec::new();
    let dist = maplibre.join("dist");
    let lib_js = format!("maplibre-gl-{version}.js");
    let lib_css = format!("maplibre-gl-{version}.css");
    assets.push((lib_js.clone(), read(&dist.join("maplibre-gl.js")), true));
    assets.push((lib_css.clone(), read(&dist.join("maplibre-gl.css")), true));

    let mut own: Vec<PathBuf> = fs::read_dir(&web)
        .unwrap_or_else(|e| panic!("reading {}: {e}", web.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("html" | "js" | "css")
                )
        })
        .collect();
    own.sort();
    for path in own {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name")
            .to_string();
        let mut bytes = read(&path);
        if name == "index.html" {
            let mut html = String::from_utf8(bytes)
                .unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()));
            for (plain, versioned) in [
                ("assets/maplibre-gl.js", &lib_js),
                ("assets/maplibre-gl.css", &lib_css),
            ] {
                assert!(
                    html.contains(plain),
                    "{} must reference {plain}",
                    path.display()
                );
                html = html.replace(plain, &format!("assets/{versioned}"));
            }
            bytes = html.into_bytes();
        }
        assets.push((name, bytes, false));
    }
    assert!(
        assets.iter().any(|(n, _, _)| n == "index.html"),
        "{} has no index.html",
        web.display()
    );

    let mut table = String::from("&[\n");
    for (name, bytes, immutable) in &assets {
        let file = out.join(name);
        fs::write(&file, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
        writeln!(
            table,
            "    Asset {{ name: {name:?}, bytes: include_bytes!({file:?}), etag: \"\\\"{:016x}\\\"\", immutable: {immutable} }},",
            fnv1a(bytes)
        )
        .expect("writing to a String");
    }
    table.push(']');
    let table_path = out.parent().expect("OUT_DIR").join("web_assets.rs");
    fs::write(&table_path, table)
        .unwrap_or_else(|e| panic!("writing {}: {e}", table_path.display()));
}

/// Installs the locked web dependencies; only needed on a fresh clone.
fn npm_ci(web: &Path) {
    // npm's progress goes to stderr: a build script's stdout is for cargo.
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(web)
        .stdout(std::io::stderr())
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci --prefix {}` failed ({s}); the web map needs MapLibre GL JS from the npm registry. \
             Run it by hand to see why (needs node >= 18 and npm).",
            web.display()
        ),
        Err(e) => panic!(
            "could not run `npm ci --prefix {}`: {e}. Install node and npm (e.g. `apt-get install nodejs npm`); \
             the web map embeds MapLibre GL JS from web/node_modules.",
            web.display()
        ),
    }
}

fn maplibre_version(dir: &Path) -> String {
    let path = dir.join("package.json");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    // A tiny scan instead of a JSON dependency: the first `"version": "x"` is the package's.
    let at = text
        .find("\"version\"")
        .unwrap_or_else(|| panic!("{} has no version", path.display()));
    let rest = &text[at + "\"version\"".len()..];
    let start = rest.find('"').expect("version value") + 1;
    let end = start + rest[start..].find('"').expect("version end");
    let version = &rest[start..end];
    assert!(
        version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
        "odd MapLibre version `{version}` in {}",
        path.display()
    );
    version.to_string()
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// FNV-1a 64: a content hash for ETags; collisions only cost a stale cache.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
