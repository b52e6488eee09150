//! `gridmap board`: the publicity board (网格示意图) of one grid, or with
//! `--all` of every grid of a level, as PDF, PNG or SVG.
//!
//! Each file is written beside its final name and renamed into place, so an
//! interrupted run leaves no half-written board. The atlas renders on all
//! cores (a fixed pool of threads taking the next grid), reports progress,
//! and ends with a summary of the workers printed without a photo.

mod fetch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context};
use clap::Args;
use gridmap_data::catalog::Catalog;
use gridmap_data::progress::Progress;
use gridmap_data::store::StoreLocation;
use gridmap_print::{
    file_name, png_pixels, Board, BoardOptions, Fonts, Format, MissingPhoto, PaperSize,
    PhotoSource, PrintDate,
};

use crate::cli::DbArg;
use crate::progress::BarProgress;

/// Where the QR code points when neither `--public-url` nor `GRIDMAP_PUBLIC_URL` is set:
/// `gridmap serve`'s default address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Largest PNG the CLI draws, in pixels (A0 at 300 dpi is 139 million).
const MAX_PNG_PIXELS: u64 = 200_000_000;

/// Workers without a photo listed one by one in the summary; the rest are counted.
const LISTED_MISSING: usize = 20;

#[derive(Args, Debug)]
pub struct BoardArgs {
    /// Code of the grid (a community) to print; or `--all`.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub code: Option<String>,
    /// Print every grid of `--level`, one file each, into the folder `--out`.
    #[arg(long)]
    pub all: bool,
    /// The level printed by `--all`.
    #[arg(long, default_value = "community", requires = "all")]
    pub level: String,
    /// Grid system (default: the one holding the code; with --all, the only one).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long, default_value = "pdf", value_parser = parse_format)]
    pub format: Format,
    /// Paper size: A0, A1, A2, A3 or A4.
    #[arg(long, default_value = "A1", value_parser = parse_size)]
    pub size: PaperSize,
    #[arg(long)]
    pub landscape: bool,
    /// Pixels per inch of a PNG (10–600).
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f32,
    /// Base URL of the public map the QR code links to (`{URL}/?grid=CODE`).
    #[arg(long, env = "GRIDMAP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder of workers' photos (tried before the store's folder).
    #[arg(long)]
    pub photos: Option<PathBuf>,
    /// Download photos recorded as http(s) URLs (otherwise they print as silhouettes).
    #[arg(long)]
    pub fetch_photos: bool,
    /// A font file with Chinese glyphs (default: Noto Sans CJK, found by path or fontconfig).
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// The date printed on the board, YYYY-MM-DD (default: today, China time).
    #[arg(long)]
    pub date: Option<String>,
    /// Boards drawn at once by --all (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub db: DbArg,
    /// The file to write, or with --all the folder.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_size(s: &str) -> Result<PaperSize, String> {
    s.parse()
}

pub fn run(args: &BoardArgs) -> anyhow::Result<()> {
    let opts = options(args)?;
    let store = args.db.open_existing()?;
    let catalog = Catalog::load_grids(store.as_ref())
        .with_context(|| format!("loading {}", args.db.location()))?;
    let fonts = Fonts::discover(args.font.as_deref())?;
    let photos = PhotoSource {
        photos_dir: args.photos.clone(),
        store_dir: store_dir(&args.db),
        fetch: args.fetch_photos.then(fetch::fetcher),
    };
    if let Some(dir) = &args.photos {
        if !dir.is_dir() {
            bail!("--photos {}: not a folder", dir.display());
        }
    }
    match &args.code {
        Some(code) => {
            let board = Board::build(&catalog, code, &opts, &fonts, &photos)
                .with_context(|| format!("board of grid `{code}`"))?;
            let bytes = board.render(args.format, &fonts, opts.dpi)?;
            write_atomically(&args.out, &bytes)?;
            tracing::info!(out = %args.out.display(), bytes = bytes.len(), "{} written", board.title());
            report_missing(board.missing_photos().iter().map(|m| (code.as_str(), m)));
            Ok(())
        }
        None => atlas(args, &catalog, &opts, &fonts, &photos),
    }
}

/// Validated options shared by one board and the atlas.
fn options(args: &BoardArgs) -> anyhow::Result<BoardOptions> {
    if !(10.0..=600.0).contains(&args.dpi) {
        bail!("--dpi must be between 10 and 600, got {}", args.dpi);
    }
    if args.format == Format::Png {
        let (w, h) = png_pixels(args.size, args.landscape, args.dpi);
        if w * h > MAX_PNG_PIXELS {
            bail!(
                "--dpi {} at {}: a {w}×{h} PNG is more than {MAX_PNG_PIXELS} pixels; lower --dpi",
                args.dpi,
                args.size
            );
        }
    }
    let public_url = match args.public_url.as_deref().map(str::trim) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            u.trim_end_matches('/').to_string()
        }
        Some(u) => bail!("--public-url `{u}` must start with http:// or https://"),
        None => {
            tracing::warn!(
                "no --public-url (or GRIDMAP_PUBLIC_URL): the QR code points at {DEFAULT_PUBLIC_URL}"
            );
            DEFAULT_PUBLIC_URL.to_string()
        }
    };
    let date = match &args.date {
        Some(d) => PrintDate::parse(d).map_err(|e| anyhow::anyhow!("--date: {e}"))?,
        None => PrintDate::today(),
    };
    Ok(BoardOptions {
        system: args.system.clone(),
        size: args.size,
        landscape: args.landscape,
        public_url,
        date,
        dpi: args.dpi,
    })
}

/// Photo paths in a GeoPackage store are relative to the file's folder.
fn store_dir(db: &DbArg) -> Option<PathBuf> {
    match db.location() {
        StoreLocation::Gpkg(path) => Some(match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }),
        _ => None,
    }
}

fn atlas(
    args: &BoardArgs,
    catalog: &Catalog,
    opts: &BoardOptions,
    fonts: &Fonts,
    photos: &PhotoSource,
) -> anyhow::Result<()> {
    let system = catalog
        .pick_system(args.system.as_deref())
        .context("--system")?;
    if system.system().depth_of(&args.level).is_none() {
        bail!(
            "--level `{}`: system `{}` has the levels {}",
            args.level,
            system.system().name,
            system.system().levels.join(", ")
        );
    }
    let mut grids: Vec<_> = system
        .grids()
        .iter()
        .filter(|g| g.level == args.level)
        .collect();
    grids.sort_by(|a, b| a.code.cmp(&b.code));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the folder {}", args.out.display()))?;
    let opts = BoardOptions {
        system: Some(system.system().name.clone()),
        ..opts.clone()
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64)
        .min(grids.len().max(1));
    let progress = BarProgress::new();
    progress.start("boards", grids.len() as u64);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(BTreeMap::new());
    let missing = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(grid) = grids.get(i) else {
                    break;
                };
                let out = args
                    .out
                    .join(file_name(&grid.code, &grid.name, args.format));
                let result = Board::build(catalog, &grid.code, &opts, fonts, photos)
                    .map_err(anyhow::Error::from)
                    .and_then(|board| {
                        let bytes = board.render(args.format, fonts, opts.dpi)?;
                        write_atomically(&out, &bytes)?;
                        Ok(board.missing_photos().to_vec())
                    });
                match result {
                    Ok(m) => missing
                        .lock()
                        .expect("no thread panics holding it")
                        .extend(m.into_iter().map(|m| (grid.code.clone(), m))),
                    Err(e) => {
                        failures
                            .lock()
                            .expect("no thread panics holding it")
                            .insert(grid.code.clone(), format!("{e:#}"));
                    }
                }
                progress.advance(1);
            });
        }
    });
    progress.finish();
    let failures = failures.into_inner().expect("threads joined");
    let mut missing = missing.into_inner().expect("threads joined");
    missing.sort_by(|a, b| (&a.0, &a.1.worker_id).cmp(&(&b.0, &b.1.worker_id)));
    eprintln!(
        "{} boards written to {}",
        grids.len() - failures.len(),
        args.out.display()
    );
    report_missing(missing.iter().map(|(c, m)| (c.as_str(), m)));
    if !failures.is_empty() {
        for (code, e) in &failures {
            eprintln!("board of grid `{code}` failed: {e}");
        }
        bail!("{} of {} boards failed", failures.len(), grids.len());
    }
    Ok(())
}

/// The summary of photos that could not be printed (silhouettes instead).
fn report_missing<'a>(missing: impl Iterator<Item = (&'a str, &'a MissingPhoto)>) {
    let missing: Vec<_> = missing.collect();
    if missing.is_empty() {
        return;
    }
    eprintln!(
        "{} workers printed with a silhouette instead of their photo:",
        missing.len()
    );
    for (code, m) in missing.iter().take(LISTED_MISSING) {
        eprintln!(
            "  board {code}: worker {} {} (photo `{}`): {}",
            m.worker_id, m.worker_name, m.photo, m.reason
        );
    }
    if missing.len() > LISTED_MISSING {
        eprintln!("  … and {} more", missing.len() - LISTED_MISSING);
    }
}

/// Writes `bytes` to a hidden file beside `out`, then renames it into place.
fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = out
        .file_name()
        .with_context(|| format!("--out {}: not a file name", out.display()))?
        .to_string_lossy()
        .into_owned();
    let partial = out.with_file_name(format!(".{name}.partial"));
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
