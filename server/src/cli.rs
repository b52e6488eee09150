//! Command-line interface. Configuration flows one way: environment and flags
//! are parsed here, validated into each command's options, then used.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use gridmap_data::crs::Crs;
use gridmap_data::store::{GridStore, StoreLocation};

/// The store used when no `--db` is given.
pub const DEFAULT_DB: &str = "gridmap.gpkg";

#[derive(Parser, Debug)]
#[command(
    name = "gridmap",
    version,
    about = "Map server for community grid management (网格化管理)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Connections a PostgreSQL store opens at most (a pool; the GeoPackage
    /// ignores it). `serve` opens this many plus one that listens for changes;
    /// `copy` this many per store.
    #[arg(long, global = true, env = "GRIDMAP_DB_POOL",
          default_value_t = gridmap_data::store::postgis::DEFAULT_POOL_SIZE as u16,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub db_pool: u16,
}

/// The `--db-pool` of this process: set once by `main` before any command
/// runs (a global flag, so every command's `--db` honours it without each
/// command's arguments carrying it).
static DB_POOL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Records `--db-pool` / `GRIDMAP_DB_POOL` for every store this process opens.
pub fn set_db_pool(size: usize) {
    let _ = DB_POOL.set(size);
}

/// How stores are opened: the pool size from [`set_db_pool`] or the default.
pub fn open_options() -> gridmap_data::store::OpenOptions {
    let mut options = gridmap_data::store::OpenOptions::default();
    if let Some(&size) = DB_POOL.get() {
        options.pool_size = size;
    }
    options
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (and, with no store yet at the default path, create the demo city first).
    Serve(ServeArgs),
    /// Import grids or workers into the store (all-or-nothing).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export grids, sites or workers to files (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV).
    #[command(subcommand)]
    Export(crate::commands::export::ExportCommand),
    /// Write a deterministic demo city (西湖区) to a new store.
    Demo(DemoArgs),
    /// Report coverage problems: gaps, overlaps, overhangs, staffing, orphan sites, workload, proximity.
    Check(crate::commands::check::CheckArgs),
    /// Assign points (CSV or GeoJSON) to their grid at every level, in bulk.
    Assign(crate::commands::assign::AssignArgs),
    /// Print publicity boards (网格示意图): one grid's, or every grid's of a level with --all.
    Board(crate::commands::board::BoardArgs),
    /// Accounts for the editing API: add (prints a token), list, revoke.
    #[command(subcommand)]
    User(crate::commands::user::UserCommand),
    /// Copy a whole store between GeoPackage and PostGIS (either direction), in one transaction.
    Copy(crate::commands::copy::CopyArgs),
}

#[derive(Args, Debug, Clone)]
pub struct DbArg {
    /// The store: a GeoPackage file path, or a `postgres://user@host:port/db` URL.
    #[arg(long, env = "GRIDMAP_DB", default_value = DEFAULT_DB)]
    pub db: String,
}

impl DbArg {
    pub fn location(&self) -> StoreLocation {
        StoreLocation::parse(&self.db)
    }

    /// Opens the store, creating a GeoPackage file if there is none.
    pub fn open(&self) -> anyhow::Result<Box<dyn GridStore>> {
        gridmap_data::store::open_with(&self.db, &open_options())
            .with_context(|| format!("opening store {}", self.location()))
    }

    /// Opens a store that must already hold data: a missing GeoPackage file
    /// is an error with a hint instead of a new empty file.
    pub fn open_existing(&self) -> anyhow::Result<Box<dyn GridStore>> {
        if let StoreLocation::Gpkg(path) = self.location() {
            if !path.exists() {
                anyhow::bail!(
                    "no store at {} (create one with `gridmap import grids` or `gridmap demo`)",
                    path.display()
                );
            }
        }
        self.open()
    }
}

/// Help of every `--crs` flag (imports and `assign`).
pub const CRS_HELP: &str = "Source CRS: EPSG:4326, EPSG:4490, EPSG:4513–4554, EPSG:3857, gcj02, \
bd09. Overrides what a file declares (a shapefile's .prj); with neither, EPSG:4326.";

/// The CRS a `--crs` flag names, if given; an unknown name is an error naming the flag.
pub fn parse_crs(flag: Option<&str>) -> anyhow::Result<Option<Crs>> {
    flag.map(Crs::parse).transpose().context("--crs")
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on.
    #[arg(long, env = "GRIDMAP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seconds between checks of the store's data version (to pick up imports made by other processes).
    #[arg(long, default_value_t = 2.0)]
    pub reload_interval: f64,
    /// The URL clients reach the server at behind a reverse proxy (e.g.
    /// https://grid.example.cn/gridmap); default: from Host / X-Forwarded-* headers.
    #[arg(long, env = "GRIDMAP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// An XYZ raster basemap drawn under the grids, e.g. 天地图 with your key
    /// (`https://t0.tianditu.gov.cn/vec_w/wmts?...&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY`).
    #[arg(long, env = "GRIDMAP_BASEMAP_URL")]
    pub basemap_url: Option<String>,
    /// Attribution shown for `--basemap-url`.
    #[arg(long, env = "GRIDMAP_BASEMAP_ATTRIBUTION")]
    pub basemap_attribution: Option<String>,
    /// A glyph server for the style's labels: a URL template with {fontstack} and
    /// {range}, http(s) or a path relative to the server's public URL (e.g.
    /// `https://fonts.example.cn/{fontstack}/{range}.pbf`, `fonts/{fontstack}/{range}.pbf`).
    /// MapLibre Native needs one to draw labels; the web page does without.
    #[arg(long, env = "GRIDMAP_GLYPHS")]
    pub glyphs: Option<String>,
    /// First zoom at which each level is drawn, e.g. `street=0,community=11,block=13`
    /// (default: where the level's median grid spans 128 px, see `tileset::zoom`).
    #[arg(long)]
    pub level_min_zoom: Option<String>,
    /// Memory for cached tiles, in MiB (0 disables the cache).
    #[arg(long, default_value_t = 256)]
    pub tile_cache_mb: usize,
    /// First zoom at which the `sites` point layer is drawn.
    #[arg(long, default_value_t = 15)]
    pub sites_min_zoom: u8,
    /// Requests per second each client may make to lookup and search (0 = no limit).
    #[arg(long, env = "GRIDMAP_RATE_LIMIT", default_value_t = 20.0)]
    pub rate_limit: f64,
    /// Requests a client may make at once before the per-second rate applies.
    #[arg(long, env = "GRIDMAP_RATE_BURST", default_value_t = 60)]
    pub rate_burst: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (IP addresses, comma-separated).
    #[arg(long, env = "GRIDMAP_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// A secret that unlocks the registers' full rows (households, attributes, ids)
    /// for requests with `Authorization: Bearer <it>`; without it they are never served.
    #[arg(long, env = "GRIDMAP_VIEWER_TOKEN", hide_env_values = true)]
    pub viewer_token: Option<String>,
    /// Origins (scheme://host[:port], comma-separated) whose pages may call
    /// the editing endpoints from a browser; default: the same origin only.
    #[arg(long, env = "GRIDMAP_ALLOW_ORIGIN", value_delimiter = ',')]
    pub allow_origin: Vec<String>,
    /// Reads need a token too (any account, or `--viewer-token`): for
    /// servers holding data that is not for the public.
    #[arg(long, env = "GRIDMAP_PRIVATE")]
    pub private: bool,
    /// Seconds a client may take to send a request's headers, from their first byte.
    #[arg(long, env = "GRIDMAP_HEADER_TIMEOUT", default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Seconds a request body may pause between two chunks.
    #[arg(long, env = "GRIDMAP_BODY_TIMEOUT", default_value_t = 10.0)]
    pub body_timeout: f64,
    /// Seconds from a request's head to its answer (408 past it).
    #[arg(long, env = "GRIDMAP_REQUEST_TIMEOUT", default_value_t = 60.0)]
    pub request_timeout: f64,
    /// Seconds a keep-alive connection may stay open without a request.
    #[arg(long, env = "GRIDMAP_IDLE_TIMEOUT", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// Connections open at once; more wait until one closes.
    #[arg(long, env = "GRIDMAP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Coverage reports computed at once (a cached report needs no slot).
    #[arg(long, env = "GRIDMAP_MAX_COVERAGE_JOBS", default_value_t = 2)]
    pub max_coverage_jobs: usize,
    /// Tiles rendered at once (cached tiles need no slot); default twice the cores.
    #[arg(long, env = "GRIDMAP_MAX_TILE_RENDERS")]
    pub max_tile_renders: Option<usize>,
    /// `POST /api/v1/assign` jobs run at once.
    #[arg(long, env = "GRIDMAP_MAX_ASSIGN_JOBS", default_value_t = 2)]
    pub max_assign_jobs: usize,
    /// Publicity boards (`/api/v1/boards/…`) drawn at once.
    #[arg(long, env = "GRIDMAP_MAX_BOARD_RENDERS", default_value_t = 2)]
    pub max_board_renders: usize,
    /// Seconds a request waits for a busy slot before it gets 503 with Retry-After.
    #[arg(long, env = "GRIDMAP_BUSY_WAIT", default_value_t = 2.0)]
    pub busy_wait: f64,
}

/// A positive, finite number of seconds from the flag `name`.
fn seconds(name: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(std::time::Duration::from_secs_f64(value))
    } else {
        anyhow::bail!("--{name} must be a number of seconds above 0 (at most a day), got {value}")
    }
}

/// `gridmap` with no command: `serve` with its defaults, still read from the environment.
#[derive(Parser, Debug)]
pub struct ServeDefaults {
    #[command(flatten)]
    pub args: ServeArgs,
}

impl ServeArgs {
    /// The serve settings when no command is given (flags' defaults and env).
    pub fn from_env() -> Self {
        ServeDefaults::parse_from(["gridmap"]).args
    }

    /// Validates the flags into the server's configuration.
    pub fn server_config(&self) -> anyhow::Result<crate::http::state::ServerConfig> {
        let public_url = match &self.public_url {
            None => None,
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => anyhow::bail!("--public-url `{u}` must start with http:// or https://"),
        };
        if self.sites_min_zoom > crate::tileset::MAX_ZOOM {
            anyhow::bail!(
                "--sites-min-zoom must be at most {}",
                crate::tileset::MAX_ZOOM
            );
        }
        let level_min_zoom = match &self.level_min_zoom {
            None => Default::default(),
            Some(s) => crate::tileset::TileConfig::parse_level_min_zoom(s)
                .map_err(|e| anyhow::anyhow!("--level-min-zoom: {e}"))?,
        };
        let basemap = match self.basemap_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) if ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) => {
                Some(crate::http::style::Basemap {
                    url: url.to_string(),
                    attribution: self
                        .basemap_attribution
                        .as_deref()
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string),
                })
            }
            Some(url) => anyhow::bail!("--basemap-url `{url}` needs {{z}}, {{x}} and {{y}} in it"),
        };
        let glyphs = match self.glyphs.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(
                crate::http::style::Glyphs::parse(url)
                    .map_err(|e| anyhow::anyhow!("--glyphs {e}"))?,
            ),
        };
        let rate_limit = crate::http::rate_limit::RateLimit {
            per_second: self.rate_limit,
            burst: self.rate_burst,
            trusted_proxies: self.trusted_proxy.clone(),
        };
        rate_limit.validate().map_err(anyhow::Error::msg)?;
        let viewer_token = match self.viewer_token.as_deref().map(str::trim) {
            None => None,
            Some(t) if t.len() >= 16 && !t.contains(char::is_whitespace) => Some(t.to_string()),
            Some(_) => anyhow::bail!(
                "--viewer-token must be at least 16 characters without spaces (it guards the registers)"
            ),
        };
        let mut allow_origins = Vec::new();
        for origin in &self.allow_origin {
            let origin = origin.trim().trim_end_matches('/');
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.contains('*')
                && origin
                    .split("://")
                    .nth(1)
                    .is_some_and(|h| !h.is_empty() && !h.contains('/'));
            if !ok {
                anyhow::bail!(
                    "--allow-origin `{origin}` must be an origin like https://plan.example.cn (scheme and host, no path, never `*`)"
                );
            }
            allow_origins.push(
                axum::http::HeaderValue::from_str(origin)
                    .with_context(|| format!("--allow-origin `{origin}`"))?,
            );
        }
        let timeouts = crate::http::limits::RequestTimeouts {
            request: seconds("request-timeout", self.request_timeout)?,
            body: seconds("body-timeout", self.body_timeout)?,
        };
        let idle = seconds("idle-timeout", self.idle_timeout)?;
        if self.max_connections == 0 {
            anyhow::bail!("--max-connections must be at least 1");
        }
        let connections = crate::http::listener::ConnectionLimits {
            header_read: seconds("header-timeout", self.header_timeout)?,
            idle,
            // A request in flight is bounded by the request timeout; past it
            // plus an idle period without a byte moving, the client is gone.
            stall: timeouts.request + idle,
            max_connections: self.max_connections,
            grace: timeouts.request,
        };
        let defaults = crate::http::work_limit::WorkLimits::default();
        let work = crate::http::work_limit::WorkLimits {
            coverage: self.max_coverage_jobs,
            tile_renders: self.max_tile_renders.unwrap_or(defaults.tile_renders),
            assign: self.max_assign_jobs,
            boards: self.max_board_renders,
            wait: seconds("busy-wait", self.busy_wait)?,
        };
        if work.coverage == 0 || work.tile_renders == 0 || work.assign == 0 || work.boards == 0 {
            anyhow::bail!(
                "--max-coverage-jobs, --max-tile-renders, --max-assign-jobs and --max-board-renders must be at least 1"
            );
        }
        Ok(crate::http::state::ServerConfig {
            work,
            timeouts,
            connections,
            public_url,
            basemap,
            glyphs,
            rate_limit,
            viewer_token,
            allow_origins,
            private: self.private,
            tiles: crate::tileset::TileConfig {
                level_min_zoom,
                cache_bytes: self.tile_cache_mb << 20,
                sites_min_zoom: self.sites_min_zoom,
            },
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Grids from GeoJSON, CSV with a WKT column, an ESRI Shapefile, a GeoPackage or FlatGeobuf.
    Grids(ImportGridsArgs),
    /// Workers from CSV: id,name,phone,role,photo,duties,grids (grids = code[:share];…).
    Workers(ImportWorkersArgs),
    /// Site registers (points): CSV with id,lon,lat,… (or a WKT column), GeoJSON, Shapefile,
    /// GeoPackage or FlatGeobuf points.
    Sites(ImportSitesArgs),
}

#[derive(Args, Debug)]
pub struct ImportSitesArgs {
    /// .csv (lon/lat or x/y columns, or a WKT column), .geojson/.json, .shp, .gpkg (its only
    /// feature table) or .fgb
    pub file: PathBuf,
    /// Kind of every site in the file: address (`households` optional: unknown, not zero), enterprise, fire_risk,
    /// school, internet_cafe, food, or any other name of a-z, 0-9 and _.
    #[arg(long)]
    pub kind: String,
    #[arg(long, help = CRS_HELP)]
    pub crs: Option<String>,
    /// Grid system to summarise the placement in (default: every system).
    #[arg(long)]
    pub system: Option<String>,
    /// Replace all sites of the kind instead of upserting by id.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct ImportGridsArgs {
    /// .geojson/.json, .csv (WKT column), .shp, .gpkg or .fgb
    pub file: PathBuf,
    /// The feature table of a GeoPackage to read (needed when it holds several).
    #[arg(long)]
    pub layer: Option<String>,
    /// Grid system to import into.
    #[arg(long, default_value = gridmap_data::DEFAULT_SYSTEM)]
    pub system: String,
    /// Level names from the top down, e.g. province,city,district.
    #[arg(long, value_delimiter = ',')]
    pub levels: Option<Vec<String>>,
    #[arg(long, help = CRS_HELP)]
    pub crs: Option<String>,
    /// Make invalid polygons valid instead of rejecting them, and report each repair.
    #[arg(long)]
    pub repair: bool,
    /// Replace the whole system instead of merging by code.
    #[arg(long)]
    pub replace: bool,
    /// Let --replace remove more grids than it keeps (or all of them).
    #[arg(long, requires = "replace")]
    pub allow_shrink: bool,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct ImportWorkersArgs {
    pub file: PathBuf,
    #[arg(long, default_value = gridmap_data::DEFAULT_SYSTEM)]
    pub system: String,
    #[command(flatten)]
    pub db: DbArg,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Store file to write; must not exist yet unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of blocks (单元网格).
    #[arg(long, default_value_t = 1200)]
    pub blocks: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}
