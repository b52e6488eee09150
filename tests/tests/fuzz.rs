//! Fuzzing every input gridmap takes from outside, on stable Rust with
//! `cargo test`: grid files (GeoJSON, CSV+WKT, Shapefile, GeoPackage,
//! FlatGeobuf), workers CSV and site files judged the way `gridmap import`
//! judges them (nothing written), and tile paths and query strings sent to the
//! whole HTTP application.
//!
//! proptest gives the inputs and their shrinking; the driver is a plain
//! time-bound loop (proptest's own runner counts cases, not seconds, and a
//! fuzzer needs every target to run whatever another one finds). Each case
//! is a proptest value tree grown from a seed of its own, so a case is
//! replayed from its seed alone. Inputs are structure-aware — valid-looking
//! GeoJSON with odd numbers, deep nesting and wrong types; CSV rows with
//! random cells and WKT fragments; edits of the cells of a real GeoPackage;
//! flips, truncations and insertions in valid files gridmap exported itself —
//! and raw random bytes.
//!
//! A target promises never to panic, never to hang, and to either succeed or
//! return the library's typed error (HTTP: a status under 500, and a JSON
//! `{"error":{"code","message"}}` body on every 4xx). A broken promise is a
//! finding: all targets still run, then the test fails listing each finding
//! with its seed, the shrunk input saved under the test's temporary
//! directory, and its bytes in hex when they are few. A process abort (a
//! failed allocation, a stack overflow) leaves the running case's replay
//! line in that directory's `running` file. A bug reported and not yet
//! fixed can be held out of the short run — `Target::known` for a panic
//! (counted and listed, not failing), `Target::skip` for an input class
//! that aborts — with a comment naming it; none is held out today.
//!
//! - `GRIDMAP_FUZZ_SECONDS`: seconds per target (default 2: the short run
//!   of the workspace tests; `scripts/fuzz.sh` runs longer).
//! - `GRIDMAP_FUZZ_CASES`: at most this many cases per target.
//! - `GRIDMAP_FUZZ_SEED`: the run's seed (default: a new one, printed).
//! - `GRIDMAP_FUZZ_TARGETS`: a comma-separated list of targets to run.
//! - `GRIDMAP_FUZZ_REPLAY=target:seed`: runs that one case and shows what it does.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use axum::http::Uri;
use geo::BoundingRect;
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon, Rect};
use gridmap_data::accounts::Role;
use gridmap_data::crs::Crs;
use gridmap_data::demo::{generate, DemoOptions};
use gridmap_data::export::{
    export_grids, export_sites, export_workers, ExportFormat, FileOptions, GridExportOptions,
    SiteExportOptions, WorkerExportOptions,
};
use gridmap_data::import::{
    prepare_grid_import_with, prepare_worker_import, GridImportOptions, ReadOptions,
};
use gridmap_data::progress::NoProgress;
use gridmap_data::sites::{prepare_site_import, SiteImportOptions};
use gridmap_data::store::gpkg::GpkgStore;
use gridmap_data::store::{GridStore, Snapshot, SnapshotParts};
use gridmap_data::{ChangeSet, Grid, GridSystem, Site, SystemGrids, Worker, WorkerGrid};
use gridmap_tests::editing::Editors;
use gridmap_tests::http::get_with;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

/// Seconds per target when `GRIDMAP_FUZZ_SECONDS` is not set: short enough
/// for every workspace test run.
const DEFAULT_SECONDS: f64 = 2.0;
/// One case running this long is a hang.
const HANG_AFTER: Duration = Duration::from_secs(10);
/// Shrinking a finding stops after this long or this many steps.
const SHRINK_TIME: Duration = Duration::from_secs(5);
const SHRINK_STEPS: u32 = 400;
/// A finding's input is printed in hex up to this many bytes.
const HEX_UP_TO: usize = 512;
/// Findings of one kind (signature) beyond the first are only counted.
const MAX_SIGNATURES: usize = 20;

/// What the code under test made of one input.
enum Outcome {
    /// It was taken (a file that would import, a 2xx/3xx answer).
    Accepted,
    /// It was refused as the library promises (a typed error, a JSON 4xx).
    Refused,
}

/// A promise broken without a panic (a 500, a 4xx without a JSON error, an
/// empty error message). The signature groups findings of one cause.
struct Broken {
    signature: String,
    detail: String,
}

/// One kind of input, and what the code reading it promises.
trait Target: Send + Sync + 'static {
    type Input: fmt::Debug + Clone + 'static;
    fn name(&self) -> &'static str;
    fn inputs(&self) -> BoxedStrategy<Self::Input>;
    fn run(&self, input: &Self::Input) -> Result<Outcome, Broken>;
    /// Writes `input` as the files (or request) a person would reproduce it with.
    fn save(&self, input: &Self::Input, dir: &Path) -> std::io::Result<Vec<PathBuf>>;
    /// The input's bytes, for the hex dump of a small finding (`None` for
    /// inputs of several files).
    fn bytes(&self, input: &Self::Input) -> Option<Vec<u8>>;
    /// Why `input` belongs to a class that triggers a reported bug which
    /// cannot be caught as a panic (it aborts the process): such inputs are
    /// not run, and are counted as skipped in the table.
    fn skip(&self, _input: &Self::Input) -> Option<&'static str> {
        None
    }
    /// Why a failure is a bug already reported and not fixed yet: such a
    /// failure is counted and listed under "known", and does not fail the
    /// run, so the short run in CI stays green while new kinds still fail it.
    fn known(&self, _failure: &Failure) -> Option<&'static str> {
        None
    }
    /// Stack of the thread the target runs on: what the code gets in production.
    fn stack_size(&self) -> usize {
        // `gridmap import` runs on the main thread.
        8 << 20
    }
}

#[derive(Clone, Copy)]
struct Budget {
    time: Duration,
    cases: u64,
}

impl Budget {
    fn from_env() -> Self {
        let seconds = std::env::var("GRIDMAP_FUZZ_SECONDS")
            .ok()
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .unwrap_or_else(|| {
                        panic!("GRIDMAP_FUZZ_SECONDS={s} is not a number of seconds")
                    })
            })
            .unwrap_or(DEFAULT_SECONDS);
        let cases = std::env::var("GRIDMAP_FUZZ_CASES")
            .ok()
            .map(|s| {
                s.trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("GRIDMAP_FUZZ_CASES={s} is not a count"))
            })
            .unwrap_or(u64::MAX);
        Self {
            time: Duration::from_secs_f64(seconds),
            cases,
        }
    }
}

#[derive(Debug, Clone)]
struct Finding {
    target: &'static str,
    /// `panic`, `broken promise` or `hang`.
    kind: &'static str,
    signature: String,
    detail: String,
    seed: u64,
    /// Cases that showed it.
    occurrences: u64,
    files: Vec<PathBuf>,
    hex: Option<String>,
    shrink_steps: u32,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    executions: u64,
    accepted: u64,
    refused: u64,
    findings: Vec<Finding>,
    /// Cases not run: their input triggers a known bug that aborts.
    skipped: u64,
    /// Failures of known bugs: the first of each kind, with its count.
    known: Vec<Finding>,
    slowest: Duration,
    busy: Duration,
    /// The target stopped answering and was left behind.
    hung: bool,
}

impl Tally {
    fn finding_count(&self) -> u64 {
        self.findings.iter().map(|f| f.occurrences).sum()
    }

    fn known_count(&self) -> u64 {
        self.known.iter().map(|f| f.occurrences).sum()
    }
}

/// The last panic's message and place, whichever thread panicked (a
/// handler's panic happens on a runtime thread and comes back as a 500).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);
/// While fuzzing, panics are findings reported at the end, not printed as they happen.
static QUIET_PANICS: AtomicBool = AtomicBool::new(false);

fn install_panic_recorder() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".into());
        let place = match info.location() {
            Some(l) if l.file().contains("/rustc/") => {
                caller_outside_std().unwrap_or_else(|| format!("{}:{}", l.file(), l.line()))
            }
            Some(l) => format!("{}:{}", l.file(), l.line()),
            None => caller_outside_std().unwrap_or_default(),
        };
        *LAST_PANIC
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(format!("{payload} at {place}"));
        if !QUIET_PANICS.load(Ordering::SeqCst) {
            default(info);
        }
    }));
}

/// The first function on the stack that is not the standard library's: the
/// place of a panic raised inside it (`capacity overflow` names only
/// `alloc`), so findings of different callers stay apart.
fn caller_outside_std() -> Option<String> {
    const MACHINERY: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "<std::",
        "<core::",
        "<alloc::",
        "__rustc",
        "rust_begin_unwind",
        "fuzz::install_panic_recorder",
        "fuzz::caller_outside_std",
    ];
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    trace
        .lines()
        .filter_map(|line| {
            let (number, name) = line.trim().split_once(": ")?;
            number.bytes().all(|b| b.is_ascii_digit()).then_some(name)
        })
        .find(|name| !MACHINERY.iter().any(|m| name.starts_with(m)))
        .map(String::from)
}

fn take_last_panic() -> Option<String> {
    LAST_PANIC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of case `i` of `target` in a run seeded `run`.
fn case_seed(run: u64, target: &str, i: u64) -> u64 {
    let name = target.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
    });
    splitmix(run ^ splitmix(name ^ splitmix(i)))
}

/// The value tree of the case with `seed`.
fn case_tree<S: Strategy>(strategy: &S, seed: u64) -> S::Tree {
    let mut bytes = [0u8; 32];
    let mut x = seed;
    for chunk in bytes.chunks_mut(8) {
        x = splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    strategy
        .new_tree(&mut runner)
        .unwrap_or_else(|e| panic!("the strategy gives no value: {e}"))
}

enum Failure {
    Panic(String),
    Broken(Broken),
}

impl Failure {
    fn kind(&self) -> &'static str {
        match self {
            Failure::Panic(_) => "panic",
            Failure::Broken(_) => "broken promise",
        }
    }

    /// What groups failures of one cause: a panic's place, a promise's name.
    fn signature(&self) -> String {
        match self {
            Failure::Panic(m) => m.rsplit(" at ").next().unwrap_or(m).to_string(),
            Failure::Broken(b) => b.signature.clone(),
        }
    }

    fn detail(&self) -> String {
        match self {
            Failure::Panic(m) => m.clone(),
            Failure::Broken(b) => b.detail.clone(),
        }
    }
}

/// Runs one case; a panic is caught, with its message.
fn execute<T: Target>(target: &T, input: &T::Input) -> Result<Outcome, Failure> {
    take_last_panic();
    let result = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    match result {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(mut broken)) => {
            // A handler's panic answered as a 500 left its message here.
            if let Some(panic) = take_last_panic() {
                broken.detail = format!("{}; panicked: {panic}", broken.detail);
                broken.signature = format!(
                    "{} (panic at {})",
                    broken.signature,
                    panic.rsplit(" at ").next().unwrap_or("")
                );
            }
            Err(Failure::Broken(broken))
        }
        Err(_) => Err(Failure::Panic(
            take_last_panic().unwrap_or_else(|| "(no message recorded)".into()),
        )),
    }
}

/// What the supervisor sees of a target running on its own thread.
struct Shared {
    tally: Mutex<Tally>,
    /// The case running and since when.
    current: Mutex<Option<(u64, Instant)>>,
}

struct Run {
    seed: u64,
    budget: Budget,
    findings_dir: PathBuf,
}

/// Shrinks a failing case with its value tree as long as it keeps failing
/// with the same signature; the smallest failing input and the steps taken.
fn shrink<T: Target>(
    target: &T,
    mut tree: impl ValueTree<Value = T::Input>,
    signature: &str,
) -> (T::Input, u32) {
    let start = Instant::now();
    let mut steps = 0;
    let mut smallest = tree.current();
    if !tree.simplify() {
        return (smallest, 0);
    }
    while steps < SHRINK_STEPS && start.elapsed() < SHRINK_TIME {
        steps += 1;
        let candidate = tree.current();
        let still_fails = target.skip(&candidate).is_none()
            && matches!(execute(target, &candidate), Err(f) if f.signature() == signature);
        let moved = if still_fails {
            smallest = candidate;
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !moved {
            break;
        }
    }
    (smallest, steps)
}

fn save_finding<T: Target>(
    target: &T,
    input: &T::Input,
    run: &Run,
    seed: u64,
) -> (Vec<PathBuf>, Option<String>) {
    let dir = run
        .findings_dir
        .join(format!("{}-{seed:016x}", target.name()));
    let files = std::fs::create_dir_all(&dir)
        .and_then(|()| target.save(input, &dir))
        .unwrap_or_else(|e| {
            println!(
                "note: could not save the input of a finding in {}: {e}",
                dir.display()
            );
            vec![]
        });
    let hex = target
        .bytes(input)
        .filter(|b| b.len() <= HEX_UP_TO)
        .map(|b| b.iter().map(|b| format!("{b:02x}")).collect());
    (files, hex)
}

/// The case loop of one target (on its own thread).
fn fuzz_loop<T: Target>(target: &T, run: &Run, shared: &Shared) {
    let strategy = target.inputs();
    let start = Instant::now();
    let mut i = 0u64;
    while i < run.budget.cases && start.elapsed() < run.budget.time {
        let seed = case_seed(run.seed, target.name(), i);
        i += 1;
        let tree = case_tree(&strategy, seed);
        let input = tree.current();
        if target.skip(&input).is_some() {
            shared.tally.lock().expect("tally").skipped += 1;
            continue;
        }
        // An abort (a failed allocation, a stack overflow) ends the process
        // with no finding: the case running is on disk for the replay.
        let _ = std::fs::write(
            run.findings_dir.join("running"),
            format!("GRIDMAP_FUZZ_REPLAY={}:{seed:016x}\n", target.name()),
        );
        *shared.current.lock().expect("current") = Some((seed, Instant::now()));
        let began = Instant::now();
        let result = execute(target, &input);
        let took = began.elapsed();
        let mut tally = shared.tally.lock().expect("tally");
        tally.executions += 1;
        tally.busy += took;
        tally.slowest = tally.slowest.max(took);
        match result {
            Ok(Outcome::Accepted) => tally.accepted += 1,
            Ok(Outcome::Refused) => tally.refused += 1,
            Err(failure) => {
                let signature = failure.signature();
                let known = target.known(&failure);
                let list = if known.is_some() {
                    &mut tally.known
                } else {
                    &mut tally.findings
                };
                if let Some(seen) = list.iter_mut().find(|f| f.signature == signature) {
                    seen.occurrences += 1;
                } else if list.len() < MAX_SIGNATURES {
                    drop(tally);
                    let (smallest, steps) = shrink(target, tree, &signature);
                    let (files, hex) = save_finding(target, &smallest, run, seed);
                    tally = shared.tally.lock().expect("tally");
                    let finding = Finding {
                        target: target.name(),
                        kind: failure.kind(),
                        signature,
                        detail: match known {
                            Some(reason) => format!("known: {reason}\n  {}", failure.detail()),
                            None => failure.detail(),
                        },
                        seed,
                        occurrences: 1,
                        files,
                        hex,
                        shrink_steps: steps,
                    };
                    if known.is_some() {
                        tally.known.push(finding);
                    } else {
                        tally.findings.push(finding);
                    }
                } else if let Some(last) = list.last_mut() {
                    // Too many kinds: counted with the last, not lost.
                    last.occurrences += 1;
                }
            }
        }
        drop(tally);
        *shared.current.lock().expect("current") = None;
    }
}

/// Runs one target on its own thread for the budget, watching for a case
/// that never ends: then the hang is a finding and the thread is left behind.
fn fuzz_target<T: Target>(target: Arc<T>, run: Arc<Run>) -> Tally {
    let shared = Arc::new(Shared {
        tally: Mutex::new(Tally::default()),
        current: Mutex::new(None),
    });
    let worker = {
        let (target, run, shared) = (target.clone(), run.clone(), shared.clone());
        thread::Builder::new()
            .name(format!("fuzz {}", target.name()))
            .stack_size(target.stack_size())
            .spawn(move || fuzz_loop(&*target, &run, &shared))
            .expect("a fuzzing thread")
    };
    loop {
        thread::sleep(Duration::from_millis(20));
        if worker.is_finished() {
            if worker.join().is_err() {
                panic!(
                    "the fuzz driver of {} failed: {}",
                    target.name(),
                    take_last_panic().unwrap_or_default()
                );
            }
            break;
        }
        let running = *shared.current.lock().expect("current");
        if let Some((seed, since)) = running.filter(|(_, since)| since.elapsed() > HANG_AFTER) {
            // The input is the seed's: grown again here to be saved.
            let input = case_tree(&target.inputs(), seed).current();
            let (files, hex) = save_finding(&*target, &input, &run, seed);
            let mut tally = shared.tally.lock().expect("tally");
            tally.hung = true;
            tally.executions += 1;
            tally.findings.push(Finding {
                target: target.name(),
                kind: "hang",
                signature: "hang".into(),
                detail: format!(
                    "one case ran over {} s (still running when the target was left behind)",
                    since.elapsed().as_secs()
                ),
                seed,
                occurrences: 1,
                files,
                hex,
                shrink_steps: 0,
            });
            break;
        }
    }
    let tally = shared.tally.lock().expect("tally").clone();
    tally
}

fn print_row(name: &str, tally: &Tally) {
    let mean_ms = if tally.executions == 0 {
        0.0
    } else {
        tally.busy.as_secs_f64() * 1e3 / tally.executions as f64
    };
    println!(
        "{name:<16} {:>10} {:>9} {:>9} {:>8} {:>9} {:>6} {:>8.2} {:>8}{}",
        tally.executions,
        tally.accepted,
        tally.refused,
        tally.skipped,
        tally.finding_count(),
        tally.known_count(),
        mean_ms,
        tally.slowest.as_millis(),
        if tally.hung { "  HUNG" } else { "" },
    );
    let _ = std::io::stdout().flush();
}

fn print_finding(f: &Finding) {
    println!(
        "\n{} — {} ×{} — {}\n  {}\n  replay: GRIDMAP_FUZZ_REPLAY={}:{:016x}{}",
        f.target,
        f.kind,
        f.occurrences,
        f.signature,
        f.detail,
        f.target,
        f.seed,
        if f.shrink_steps > 0 {
            format!(" (saved input shrunk in {} steps)", f.shrink_steps)
        } else {
            String::new()
        }
    );
    for file in &f.files {
        println!("  input: {}", file.display());
    }
    if let Some(hex) = &f.hex {
        println!("  hex: {hex}");
    }
}

/// A target behind a uniform face: fuzz for the budget, or replay one case.
type Fuzz = Box<dyn Fn(Arc<Run>) -> Tally>;
type Replay = Box<dyn Fn(u64, &Path)>;

struct Entry {
    name: &'static str,
    fuzz: Fuzz,
    replay: Replay,
}

fn entry<T: Target>(target: T) -> Entry {
    let target = Arc::new(target);
    let replayed = target.clone();
    Entry {
        name: target.name(),
        fuzz: Box::new(move |run| fuzz_target(target.clone(), run)),
        replay: Box::new(move |seed, dir| {
            let input = case_tree(&replayed.inputs(), seed).current();
            std::fs::create_dir_all(dir).expect("a replay directory");
            for file in replayed.save(&input, dir).expect("the input saved") {
                println!("input: {}", file.display());
            }
            match replayed.run(&input) {
                Ok(Outcome::Accepted) => println!("accepted"),
                Ok(Outcome::Refused) => println!("refused, as promised"),
                Err(b) => panic!("{}: {}", b.signature, b.detail),
            }
        }),
    }
}

#[test]
fn fuzz_every_input_kind() {
    install_panic_recorder();
    let work = tempfile::tempdir().expect("a temp dir");
    let wanted: Option<Vec<String>> = std::env::var("GRIDMAP_FUZZ_TARGETS")
        .ok()
        .map(|s| s.split(',').map(|t| t.trim().to_string()).collect());
    let replay = std::env::var("GRIDMAP_FUZZ_REPLAY").ok().map(|s| {
        let (name, seed) = s.split_once(':').expect("GRIDMAP_FUZZ_REPLAY=target:seed");
        let seed = u64::from_str_radix(seed.trim_start_matches("0x"), 16)
            .expect("the seed in hex, as printed");
        (name.to_string(), seed)
    });
    let runs = |name: &str| match (&replay, &wanted) {
        (Some((replayed, _)), _) => replayed == name,
        (None, Some(list)) => list.iter().any(|t| t == name),
        (None, None) => true,
    };

    let setup = Instant::now();
    let files = Arc::new(FileWorld::new(work.path()));
    let mut entries = vec![
        entry(GridFileTarget::new(&files, GridFormat::GeoJson)),
        entry(GridFileTarget::new(&files, GridFormat::CsvWkt)),
        entry(GridFileTarget::new(&files, GridFormat::Shapefile)),
        entry(GridFileTarget::new(&files, GridFormat::GeoPackage)),
        entry(GridFileTarget::new(&files, GridFormat::FlatGeobuf)),
        entry(WorkersTarget::new(&files)),
        entry(SitesTarget::new(&files)),
    ];
    let http_wanted = runs("http_tiles") || runs("http_queries");
    if http_wanted {
        let http = Arc::new(HttpWorld::new(work.path()));
        entries.push(entry(HttpTarget {
            world: http.clone(),
            kind: HttpKind::Tiles,
        }));
        entries.push(entry(HttpTarget {
            world: http,
            kind: HttpKind::Queries,
        }));
    }
    entries.retain(|e| runs(e.name));
    assert!(!entries.is_empty(), "no fuzz target by that name");
    let setup = setup.elapsed();

    if let Some((_, seed)) = replay {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-replay");
        (entries[0].replay)(seed, &dir);
        return;
    }

    let seed = std::env::var("GRIDMAP_FUZZ_SEED")
        .ok()
        .map(|s| {
            u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
                .unwrap_or_else(|_| panic!("GRIDMAP_FUZZ_SEED={s} is not a hex number"))
        })
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970");
            splitmix(now.as_nanos() as u64 ^ u64::from(std::process::id()))
        });
    let budget = Budget::from_env();
    let run = Arc::new(Run {
        seed,
        budget,
        findings_dir: Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz-findings")
            .join(format!("{seed:016x}")),
    });
    std::fs::create_dir_all(&run.findings_dir).expect("a findings directory");
    println!(
        "fuzz run seed {seed:016x} (GRIDMAP_FUZZ_SEED), {} s per target, setup {:.1} s; \
         should the process abort, {} names the case that was running",
        budget.time.as_secs_f64(),
        setup.as_secs_f64(),
        run.findings_dir.join("running").display()
    );
    println!(
        "{:<16} {:>10} {:>9} {:>9} {:>8} {:>9} {:>6} {:>8} {:>8}",
        "target",
        "executions",
        "accepted",
        "refused",
        "skipped",
        "findings",
        "known",
        "mean ms",
        "max ms"
    );
    QUIET_PANICS.store(true, Ordering::SeqCst);
    let mut findings = Vec::new();
    let mut known = Vec::new();
    let mut total = Tally::default();
    for e in &entries {
        let tally = (e.fuzz)(run.clone());
        print_row(e.name, &tally);
        total.executions += tally.executions;
        total.accepted += tally.accepted;
        total.refused += tally.refused;
        total.skipped += tally.skipped;
        total.busy += tally.busy;
        total.slowest = total.slowest.max(tally.slowest);
        findings.extend(tally.findings);
        known.extend(tally.known);
    }
    QUIET_PANICS.store(false, Ordering::SeqCst);
    total.findings = findings.clone();
    total.known = known.clone();
    print_row("total", &total);
    if !known.is_empty() {
        println!("\nknown bugs (reported, not failing the run):");
    }
    for f in &known {
        print_finding(f);
    }
    if !findings.is_empty() {
        println!("\nfindings:");
    }
    for f in &findings {
        print_finding(f);
    }
    let kinds: BTreeMap<&str, u64> = findings.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.target).or_default() += f.occurrences;
        m
    });
    assert!(
        findings.is_empty(),
        "fuzzing found {} distinct problems ({kinds:?}); each is listed above with its replay seed and input (run seed {seed:016x})",
        findings.len()
    );
}

// ---------------------------------------------------------------------------
// Inputs shared by the targets
// ---------------------------------------------------------------------------

/// A file of a case, by the name it is written as.
#[derive(Clone)]
struct NamedFile {
    name: String,
    bytes: Vec<u8>,
}

impl NamedFile {
    fn new(name: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.to_string(),
            bytes,
        }
    }
}

impl fmt::Debug for NamedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.name, self.bytes.len())
    }
}

/// Writes `files` into `dir`, emptied first (a case without a `.shx` must
/// not find the last case's), and returns their paths, the main file first.
fn write_files(dir: &Path, files: &[NamedFile]) -> std::io::Result<Vec<PathBuf>> {
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    } else {
        std::fs::create_dir_all(dir)?;
    }
    files
        .iter()
        .map(|f| {
            let path = dir.join(&f.name);
            std::fs::write(&path, &f.bytes).map(|()| path)
        })
        .collect()
}

/// The options of a case, beside its files, for a person replaying it.
fn write_note(dir: &Path, note: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("case.txt");
    std::fs::write(&path, note).map(|()| path)
}

/// A typed error is the promise kept, if it says something.
fn judged<T, E: fmt::Display + fmt::Debug>(
    result: Result<T, E>,
    describe: impl Fn(&T) -> String,
) -> Result<Outcome, Broken> {
    match result {
        Ok(report) => {
            let _ = describe(&report);
            Ok(Outcome::Accepted)
        }
        Err(e) if e.to_string().trim().is_empty() => Err(Broken {
            signature: "an error without a message".into(),
            detail: format!("{e:?}"),
        }),
        Err(e) => {
            let _ = e.to_string();
            Ok(Outcome::Refused)
        }
    }
}

/// Where in a file an edit lands: anywhere, or near either end, where the
/// headers of binary formats are.
#[derive(Debug, Clone)]
enum Spot {
    Anywhere(Index),
    FromStart(usize),
    FromEnd(usize),
}

impl Spot {
    /// A position in `0..len` (0 for an empty file).
    fn at(&self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        match self {
            Spot::Anywhere(i) => i.index(len),
            Spot::FromStart(n) => (*n).min(len - 1),
            Spot::FromEnd(n) => len - 1 - (*n).min(len - 1),
        }
    }
}

fn spot() -> impl Strategy<Value = Spot> {
    prop_oneof![
        4 => any::<Index>().prop_map(Spot::Anywhere),
        1 => (0usize..128).prop_map(Spot::FromStart),
        1 => (0usize..64).prop_map(Spot::FromEnd),
    ]
}

/// Text that breaks parsers where it lands.
const TOKENS: &[&str] = &[
    "\"", ",", "\n", "\r\n", "\r", "{", "}", "[", "]", "(", ")", ":", ";", "\\", "\u{0}",
    "\u{feff}", "\u{fffd}", "NaN", "-", "1e999", "-1e999", "null", "true", "EMPTY", "POLYGON",
    "((", "))", "\\ud800", "\\u0000", "街道", "社区", "'", "\t", "#", "%", "&", "=", "  ",
];

/// A byte-level change of a valid file.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip {
        at: Spot,
        bit: u8,
    },
    Set {
        at: Spot,
        byte: u8,
    },
    /// A 32-bit number (lengths, counts, offsets, record sizes).
    SetU32 {
        at: Spot,
        value: u32,
        big_endian: bool,
    },
    /// A little-endian double (coordinates and bounds of binary formats).
    SetF64 {
        at: Spot,
        value: f64,
    },
    Insert {
        at: Spot,
        bytes: Vec<u8>,
    },
    Remove {
        at: Spot,
        len: usize,
    },
    Truncate {
        at: Spot,
    },
    /// Copies a stretch elsewhere (repeated records and headers).
    Duplicate {
        from: Spot,
        len: usize,
        to: Spot,
    },
}

fn interesting_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        2 => select(vec![0u32, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]),
        1 => any::<u32>(),
        1 => 0u32..4096,
    ]
}

fn interesting_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 1e300, -1e300, 120.12, 30.28, 40_500_000.0, 3_350_000.0, 180.000_001, 90.5]),
        1 => any::<f64>(),
    ]
}

fn inserted_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        2 => vec(any::<u8>(), 1..16),
        1 => (select(TOKENS), 2usize..3000).prop_map(|(t, n)| t.repeat(n).into_bytes()),
    ]
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        3 => (spot(), 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip { at, bit }),
        2 => (spot(), any::<u8>()).prop_map(|(at, byte)| ByteEdit::Set { at, byte }),
        2 => (spot(), interesting_u32(), any::<bool>()).prop_map(|(at, value, big_endian)| ByteEdit::SetU32 { at, value, big_endian }),
        2 => (spot(), interesting_f64()).prop_map(|(at, value)| ByteEdit::SetF64 { at, value }),
        3 => (spot(), inserted_bytes()).prop_map(|(at, bytes)| ByteEdit::Insert { at, bytes }),
        2 => (spot(), 1usize..64).prop_map(|(at, len)| ByteEdit::Remove { at, len }),
        1 => spot().prop_map(|at| ByteEdit::Truncate { at }),
        1 => (spot(), 1usize..256, spot()).prop_map(|(from, len, to)| ByteEdit::Duplicate { from, len, to }),
    ]
}

fn put(bytes: &mut [u8], at: usize, new: &[u8]) {
    for (i, b) in new.iter().enumerate() {
        if let Some(slot) = bytes.get_mut(at + i) {
            *slot = *b;
        }
    }
}

fn apply_byte_edits(mut bytes: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        match edit {
            ByteEdit::Flip { at, bit } => {
                if len > 0 {
                    bytes[at.at(len)] ^= 1 << bit;
                }
            }
            ByteEdit::Set { at, byte } => put(&mut bytes, at.at(len), &[*byte]),
            ByteEdit::SetU32 {
                at,
                value,
                big_endian,
            } => {
                let b = if *big_endian {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                put(&mut bytes, at.at(len), &b);
            }
            ByteEdit::SetF64 { at, value } => put(&mut bytes, at.at(len), &value.to_le_bytes()),
            ByteEdit::Insert { at, bytes: new } => {
                let at = if len == 0 { 0 } else { at.at(len + 1).min(len) };
                bytes.splice(at..at, new.iter().copied());
            }
            ByteEdit::Remove { at, len: n } => {
                let at = at.at(len);
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            ByteEdit::Truncate { at } => bytes.truncate(at.at(len)),
            ByteEdit::Duplicate { from, len: n, to } => {
                let from = from.at(len);
                let stretch: Vec<u8> = bytes[from..(from + n).min(len)].to_vec();
                let to = to.at(len);
                bytes.splice(to..to, stretch);
            }
        }
    }
    bytes
}

/// Valid files, each changed by a few byte edits.
fn byte_mutants(seeds: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    let count = seeds.len();
    let seeds = Arc::new(seeds);
    (0..count, vec(byte_edit(), 1..6))
        .prop_map(move |(i, edits)| apply_byte_edits(seeds[i].clone(), &edits))
        .boxed()
}

fn random_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => vec(any::<u8>(), 0..2048),
        // Printable text reaches further into text parsers than noise does.
        1 => "\\PC{0,400}".prop_map(String::into_bytes),
    ]
    .boxed()
}

/// Numbers as text, the odd ones included: what a file or a URL may hold
/// where a number belongs.
const ODD_NUMBERS: &[&str] = &[
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "-0",
    "0.0",
    "-0.0",
    "1.",
    ".5",
    "+1",
    "0x10",
    "1_000",
    "1,5",
    "١٢٠",
    "１２０",
    "120°",
    "120.1.2",
    "",
    " ",
    "e",
    "-",
    "1e",
    "9007199254740993",
    "18446744073709551616",
    "-9223372036854775809",
    "4.9e-324",
    "1.7976931348623157e308",
    "40500000",
    "3350000",
];

fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => any::<f64>().prop_map(|v| v.to_string()),
        2 => (-1000i64..1000).prop_map(|v| v.to_string()),
        2 => select(ODD_NUMBERS).prop_map(String::from),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => (1usize..400).prop_map(|n| format!("1{}", "0".repeat(n))),
    ]
    .boxed()
}

/// A longitude or latitude in `range` most of the time, an odd number otherwise.
fn coordinate_text(range: std::ops::Range<f64>) -> BoxedStrategy<String> {
    prop_oneof![
        5 => range.prop_map(|v| format!("{v}")),
        1 => number_text(),
    ]
    .boxed()
}

const CHINESE: &[&str] = &[
    "北", "山", "街", "道", "社", "区", "曙", "光", "黄", "龙", "西", "湖", "杭", "州", "路", "号",
    "幢", "栋", "座", "室", "单", "元", "弄", "巷", "村", "一", "二", "十", "〇", "（", "）", "－",
    "，", "０", "１", "Ａ", "﹏", "\u{3000}",
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "\\PC{0,24}",
        2 => vec(select(CHINESE), 0..12).prop_map(|v| v.concat()),
        1 => "[a-z_]{0,10}",
        1 => select(TOKENS).prop_map(String::from),
    ]
    .boxed()
}

// --- JSON, with numbers as the file has them (NaN and 1e999 included) ---

#[derive(Debug, Clone)]
enum Json {
    /// Written as is: numbers, literals, garbage.
    Raw(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    fn obj(members: Vec<(&str, Json)>) -> Json {
        Json::Obj(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn from_value(v: &Value) -> Json {
        match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => Json::Raw(v.to_string()),
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(items) => Json::Arr(items.iter().map(Json::from_value).collect()),
            Value::Object(m) => Json::Obj(
                m.iter()
                    .map(|(k, v)| (k.clone(), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    fn write(&self, out: &mut String) {
        let quoted = |s: &str| serde_json::to_string(s).expect("a string serialises");
        match self {
            Json::Raw(r) => out.push_str(r),
            Json::Str(s) => out.push_str(&quoted(s)),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&quoted(k));
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    fn text(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write(&mut out);
        out.into_bytes()
    }

    fn nodes(&self) -> usize {
        1 + match self {
            Json::Raw(_) | Json::Str(_) => 0,
            Json::Arr(items) => items.iter().map(Json::nodes).sum(),
            Json::Obj(members) => members.iter().map(|(_, v)| v.nodes()).sum(),
        }
    }
}

/// Arrays `depth` deep around a number: deep nesting where coordinates belong.
fn nested(depth: usize) -> Json {
    (0..depth).fold(Json::Raw("1".into()), |inner, _| Json::Arr(vec![inner]))
}

const KEYS: &[&str] = &[
    "type",
    "features",
    "properties",
    "geometry",
    "coordinates",
    "code",
    "level",
    "name",
    "parent",
    "crs",
    "bbox",
    "id",
    "lon",
    "lat",
    "points",
    "households",
    "address",
    "geometries",
];

fn json_key() -> BoxedStrategy<String> {
    prop_oneof![4 => select(KEYS).prop_map(String::from), 1 => text()].boxed()
}

fn json_scalar() -> BoxedStrategy<Json> {
    prop_oneof![
        3 => number_text().prop_map(Json::Raw),
        3 => text().prop_map(Json::Str),
        1 => select(vec!["true", "false", "null", "undefined", "NaN", "-", "'x'", "01", "[", "{"]).prop_map(|r| Json::Raw(r.into())),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Json> {
    prop_oneof![
        6 => json_scalar().prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Json::Arr),
                vec((json_key(), inner), 0..4).prop_map(Json::Obj),
            ]
        }),
        1 => (1usize..400).prop_map(nested),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
enum JsonChange {
    Replace(Json),
    Remove,
    Duplicate,
    /// Wraps the node in arrays this deep.
    Wrap(usize),
    Rename(String),
    Add(String, Json),
}

#[derive(Debug, Clone)]
struct JsonEdit {
    at: Index,
    change: JsonChange,
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    let change = prop_oneof![
        5 => json_value().prop_map(JsonChange::Replace),
        2 => Just(JsonChange::Remove),
        1 => Just(JsonChange::Duplicate),
        1 => prop_oneof![4 => 1usize..3, 1 => 3usize..400].prop_map(JsonChange::Wrap),
        2 => json_key().prop_map(JsonChange::Rename),
        1 => (json_key(), json_value()).prop_map(|(k, v)| JsonChange::Add(k, v)),
    ];
    (any::<Index>(), change).prop_map(|(at, change)| JsonEdit { at, change })
}

/// Applies `change` to the node numbered `target` in pre-order; `next` is
/// the number of `node`. Removal, duplication and renaming act on the
/// parent, so they are done when the child is reached.
fn edit_node(node: &mut Json, next: &mut usize, target: usize, change: &JsonChange) -> bool {
    if *next == target {
        match change {
            JsonChange::Replace(j) => *node = j.clone(),
            JsonChange::Wrap(depth) => {
                for _ in 0..*depth {
                    *node = Json::Arr(vec![node.clone()]);
                }
            }
            JsonChange::Add(k, v) => match node {
                Json::Obj(members) => members.push((k.clone(), v.clone())),
                Json::Arr(items) => items.push(v.clone()),
                _ => *node = v.clone(),
            },
            // Only a parent can drop, copy or rename a child: the root stays.
            JsonChange::Remove | JsonChange::Duplicate | JsonChange::Rename(_) => {}
        }
        return true;
    }
    *next += 1;
    let parent_level = matches!(
        change,
        JsonChange::Remove | JsonChange::Duplicate | JsonChange::Rename(_)
    );
    match node {
        Json::Raw(_) | Json::Str(_) => false,
        Json::Arr(items) => {
            for i in 0..items.len() {
                if parent_level && *next == target {
                    match change {
                        JsonChange::Remove => {
                            items.remove(i);
                        }
                        JsonChange::Duplicate => items.insert(i, items[i].clone()),
                        _ => {}
                    }
                    return true;
                }
                if edit_node(&mut items[i], next, target, change) {
                    return true;
                }
            }
            false
        }
        Json::Obj(members) => {
            for i in 0..members.len() {
                if parent_level && *next == target {
                    match change {
                        JsonChange::Remove => {
                            members.remove(i);
                        }
                        JsonChange::Duplicate => members.insert(i, members[i].clone()),
                        JsonChange::Rename(k) => members[i].0 = k.clone(),
                        _ => {}
                    }
                    return true;
                }
                if edit_node(&mut members[i].1, next, target, change) {
                    return true;
                }
            }
            false
        }
    }
}

fn apply_json_edits(mut doc: Json, edits: &[JsonEdit]) -> Json {
    for edit in edits {
        let target = edit.at.index(doc.nodes());
        edit_node(&mut doc, &mut 0, target, &edit.change);
    }
    doc
}

/// Valid JSON files, each changed in a few nodes.
fn json_mutants(seeds: &[Vec<u8>]) -> BoxedStrategy<Vec<u8>> {
    let docs: Vec<Json> = seeds
        .iter()
        .map(|s| Json::from_value(&serde_json::from_slice(s).expect("a seed is JSON")))
        .collect();
    let count = docs.len();
    let docs = Arc::new(docs);
    (0..count, vec(json_edit(), 1..5))
        .prop_map(move |(i, edits)| apply_json_edits(docs[i].clone(), &edits).text())
        .boxed()
}

// --- CSV ---

/// A CSV table (the header first) and how it is written.
#[derive(Debug, Clone)]
struct CsvDoc {
    rows: Vec<Vec<String>>,
    /// Cells joined with commas as they are, quotes and newlines unescaped.
    naive: bool,
    bom: bool,
}

impl CsvDoc {
    fn text(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        if self.naive {
            for row in &self.rows {
                out.extend_from_slice(row.join(",").as_bytes());
                out.push(b'\n');
            }
        } else {
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(&mut out);
            for row in &self.rows {
                w.write_record(row).expect("CSV into memory");
            }
            w.flush().expect("CSV into memory");
        }
        out
    }
}

#[derive(Debug, Clone)]
enum CsvEdit {
    SetCell {
        row: Index,
        col: Index,
        cell: String,
    },
    CopyRow {
        from: Index,
        to: Index,
    },
    RemoveRow {
        at: Index,
    },
    AddColumn {
        at: Index,
        name: String,
    },
    RemoveColumn {
        at: Index,
    },
    RenameColumn {
        at: Index,
        name: String,
    },
}

fn csv_edit(
    cell: BoxedStrategy<String>,
    header: BoxedStrategy<String>,
) -> impl Strategy<Value = CsvEdit> {
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), cell).prop_map(|(row, col, cell)| CsvEdit::SetCell { row, col, cell }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(from, to)| CsvEdit::CopyRow { from, to }),
        1 => any::<Index>().prop_map(|at| CsvEdit::RemoveRow { at }),
        1 => (any::<Index>(), header.clone()).prop_map(|(at, name)| CsvEdit::AddColumn { at, name }),
        1 => any::<Index>().prop_map(|at| CsvEdit::RemoveColumn { at }),
        1 => (any::<Index>(), header).prop_map(|(at, name)| CsvEdit::RenameColumn { at, name }),
    ]
}

fn apply_csv_edits(mut rows: Vec<Vec<String>>, edits: &[CsvEdit]) -> Vec<Vec<String>> {
    for edit in edits {
        let width = rows.first().map_or(0, Vec::len);
        match edit {
            CsvEdit::SetCell { row, col, cell } => {
                if !rows.is_empty() {
                    let r = row.index(rows.len());
                    let cells = &mut rows[r];
                    if !cells.is_empty() {
                        let c = col.index(cells.len());
                        cells[c] = cell.clone();
                    }
                }
            }
            CsvEdit::CopyRow { from, to } => {
                if !rows.is_empty() {
                    let copied = rows[from.index(rows.len())].clone();
                    let to = to.index(rows.len() + 1);
                    rows.insert(to, copied);
                }
            }
            CsvEdit::RemoveRow { at } => {
                if !rows.is_empty() {
                    let at = at.index(rows.len());
                    rows.remove(at);
                }
            }
            CsvEdit::AddColumn { at, name } => {
                let at = at.index(width + 1);
                for (i, row) in rows.iter_mut().enumerate() {
                    let at = at.min(row.len());
                    row.insert(at, if i == 0 { name.clone() } else { String::new() });
                }
            }
            CsvEdit::RemoveColumn { at } => {
                if width > 0 {
                    let at = at.index(width);
                    for row in &mut rows {
                        if at < row.len() {
                            row.remove(at);
                        }
                    }
                }
            }
            CsvEdit::RenameColumn { at, name } => {
                if width > 0 {
                    let at = at.index(width);
                    rows[0][at] = name.clone();
                }
            }
        }
    }
    rows
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).expect("a seed CSV is UTF-8");
    let text = text.trim_start_matches('\u{feff}');
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.expect("a seed CSV parses")
                .iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Valid CSV files, each changed in a few cells, rows or columns.
fn csv_mutants(
    seeds: &[Vec<u8>],
    cell: BoxedStrategy<String>,
    header: BoxedStrategy<String>,
) -> BoxedStrategy<Vec<u8>> {
    let tables: Arc<Vec<Vec<Vec<String>>>> = Arc::new(seeds.iter().map(|s| parse_csv(s)).collect());
    let count = tables.len();
    (
        0..count,
        vec(csv_edit(cell, header), 1..5),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(move |(i, edits, naive, bom)| {
            CsvDoc {
                rows: apply_csv_edits(tables[i].clone(), &edits),
                naive,
                bom,
            }
            .text()
        })
        .boxed()
}

/// A CSV file built from scratch: a header of `header` names (or the
/// expected one) and rows of `cell`s.
fn generated_csv(
    expected: &'static [&'static str],
    header: BoxedStrategy<String>,
    cell: BoxedStrategy<String>,
) -> BoxedStrategy<Vec<u8>> {
    let names = prop_oneof![
        3 => Just(expected.iter().map(ToString::to_string).collect::<Vec<_>>()),
        1 => vec(header, 0..8),
    ];
    (
        names,
        vec(vec(cell, 0..9), 0..6),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(names, body, naive, bom)| {
            let width = names.len();
            let mut rows = vec![names];
            // Rows mostly as wide as the header; the others ragged.
            rows.extend(body.into_iter().enumerate().map(|(i, mut row)| {
                if i % 4 != 3 {
                    row.resize(width, String::new());
                }
                row
            }));
            CsvDoc { rows, naive, bom }.text()
        })
        .boxed()
}

// --- WKT ---

const WKT_TYPES: &[&str] = &[
    "POLYGON",
    "MULTIPOLYGON",
    "POINT",
    "LINESTRING",
    "MULTIPOINT",
    "GEOMETRYCOLLECTION",
    "polygon",
    "Polygon",
    "TRIANGLE",
    "POLYHEDRALSURFACE",
    "CURVEPOLYGON",
    "TIN",
    "X",
    "",
];

fn wkt_body() -> BoxedStrategy<String> {
    let tuple = vec(
        prop_oneof![3 => coordinate_text(120.09..120.15), 1 => number_text()],
        0..5,
    )
    .prop_map(|numbers| numbers.join(" "));
    let leaf = prop_oneof![6 => tuple, 1 => Just("EMPTY".to_string()), 1 => Just(String::new())];
    leaf.prop_recursive(4, 32, 6, |inner| {
        (vec(inner, 0..6), prop::bool::weighted(0.9)).prop_map(|(parts, closed)| {
            format!("({}{}", parts.join(", "), if closed { ")" } else { "" })
        })
    })
    .boxed()
}

/// A closed rectangle ring `x0 y0, …` inside the fixture's extent.
fn rectangle() -> impl Strategy<Value = [(f64, f64); 5]> {
    (
        120.09f64..120.15,
        30.25f64..30.31,
        0.0f64..0.03,
        0.0f64..0.03,
    )
        .prop_map(|(x, y, w, h)| [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)])
}

fn wkt_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => rectangle().prop_map(|ring| {
            let ring: Vec<String> = ring.iter().map(|(x, y)| format!("{x} {y}")).collect();
            format!("POLYGON (({}))", ring.join(", "))
        }),
        4 => (select(vec!["", "SRID=4326;", "srid=4549;"]), select(WKT_TYPES), select(vec!["", " Z", " M", " ZM", "Z", " EMPTY"]), wkt_body())
            .prop_map(|(srid, kind, dims, body)| format!("{srid}{kind}{dims} {body}")),
        1 => (1usize..3000, 0usize..3000).prop_map(|(open, close)| format!("POLYGON {}120 30{}", "(".repeat(open), ")".repeat(close))),
        1 => text(),
    ]
    .boxed()
}

fn crs_choice() -> impl Strategy<Value = Crs> {
    select(vec![
        Crs::Wgs84,
        Crs::Cgcs2000,
        Crs::GaussKruger(4549),
        Crs::GaussKruger(4526),
        Crs::GaussKruger(4513),
        // A code no transform takes.
        Crs::GaussKruger(4600),
        Crs::WebMercator,
        Crs::Gcj02,
        Crs::Bd09,
    ])
}

// ---------------------------------------------------------------------------
// Files: the fixture store and the valid files exported from it
// ---------------------------------------------------------------------------

const SYSTEM: &str = "grids";
const LEVELS: [&str; 3] = ["street", "community", "block"];
const STREET: &str = "330106001";
const COMMUNITIES: [&str; 2] = ["330106001001", "330106001002"];
const BLOCKS: [&str; 4] = [
    "330106001001001",
    "330106001001002",
    "330106001002001",
    "330106001002002",
];
/// Codes the fixture holds, and a few it does not.
const CODES: &[&str] = &[
    STREET,
    COMMUNITIES[0],
    COMMUNITIES[1],
    BLOCKS[0],
    BLOCKS[1],
    BLOCKS[2],
    BLOCKS[3],
    "330106001003",
    "330106001001009",
    "",
    " 330106001",
    "0",
];
const LEVEL_WORDS: &[&str] = &[
    "street",
    "community",
    "block",
    "",
    "街道",
    "Street",
    "block ",
];
const WORKER_IDS: &[&str] = &["W001", "W002", "W003", "", "w001", "W001 "];
const SITE_IDS: &[&str] = &["A1", "A2", "A3", "A4", "", "a1"];

fn rectangle_polygon(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let ring = LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]);
    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
}

/// One street of two communities of two blocks each, two workers and three
/// addresses: small, so a case costs little, with every kind of attribute.
fn fixture_change() -> ChangeSet {
    let grid = |code: &str, name: &str, level: &str, parent: Option<&str>, rect: [f64; 4]| Grid {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(String::from),
        geometry: rectangle_polygon(rect[0], rect[1], rect[2], rect[3]),
        attributes: json!({"households": 120, "note": "东片", "active": true, "tags": ["a", "b"]})
            .as_object()
            .expect("an object")
            .clone(),
    };
    let grids = vec![
        grid(
            STREET,
            "北山街道",
            "street",
            None,
            [120.10, 30.26, 120.14, 30.30],
        ),
        grid(
            COMMUNITIES[0],
            "曙光社区",
            "community",
            Some(STREET),
            [120.10, 30.26, 120.12, 30.30],
        ),
        grid(
            COMMUNITIES[1],
            "黄龙社区",
            "community",
            Some(STREET),
            [120.12, 30.26, 120.14, 30.30],
        ),
        grid(
            BLOCKS[0],
            "曙光一网格",
            "block",
            Some(COMMUNITIES[0]),
            [120.10, 30.26, 120.12, 30.28],
        ),
        grid(
            BLOCKS[1],
            "曙光二网格",
            "block",
            Some(COMMUNITIES[0]),
            [120.10, 30.28, 120.12, 30.30],
        ),
        grid(
            BLOCKS[2],
            "黄龙一网格",
            "block",
            Some(COMMUNITIES[1]),
            [120.12, 30.26, 120.14, 30.28],
        ),
        grid(
            BLOCKS[3],
            "黄龙二网格",
            "block",
            Some(COMMUNITIES[1]),
            [120.12, 30.28, 120.14, 30.30],
        ),
    ];
    let serves = |code: &str, share: f64| WorkerGrid {
        system: SYSTEM.into(),
        code: code.into(),
        share,
    };
    let worker = |id: &str, name: &str, grids: Vec<WorkerGrid>| Worker {
        id: id.into(),
        name: name.into(),
        phone: "13800000000".into(),
        role: "网格员".into(),
        photo: String::new(),
        duties: "巡查, 走访".into(),
        grids,
    };
    let site = |id: &str, name: &str, lon: f64, lat: f64| Site {
        id: id.into(),
        kind: "address".into(),
        name: name.into(),
        address: Some(format!("杭州市西湖区{name}")),
        households: Some(12),
        location: Point::new(lon, lat),
        attributes: Default::default(),
    };
    ChangeSet {
        grids: vec![SystemGrids::merge(
            GridSystem::new(
                SYSTEM.to_string(),
                LEVELS.iter().map(ToString::to_string).collect(),
            ),
            grids,
        )],
        workers: vec![
            worker(
                "W001",
                "张三",
                vec![serves(BLOCKS[0], 0.5), serves(BLOCKS[1], 1.0)],
            ),
            worker("W002", "李四", vec![serves(COMMUNITIES[1], 1.0)]),
        ],
        worker_systems: vec![SYSTEM.into()],
        sites: vec![
            site("A1", "曙光路1号", 120.11, 30.27),
            site("A2", "黄龙路2号3幢", 120.13, 30.29),
            site("A3", "边界路4号", 120.12, 30.28),
        ],
        ..ChangeSet::default()
    }
}

/// The files of one export: the main file first, then its sidecars (a
/// shapefile's `.shx`, `.dbf`, `.prj`, `.cpg`).
fn exported(out: &Path) -> Vec<NamedFile> {
    let stem = out
        .file_stem()
        .expect("a file name")
        .to_string_lossy()
        .to_string();
    let dir = out.parent().expect("a directory");
    let mut files: Vec<NamedFile> = std::fs::read_dir(dir)
        .expect("the export directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.file_stem().is_some_and(|s| s.to_string_lossy() == stem))
        .map(|p| {
            let name = p.file_name().expect("a name").to_string_lossy().to_string();
            NamedFile::new(&name, std::fs::read(&p).expect("an exported file"))
        })
        .collect();
    files.sort_by_key(|f| {
        (
            f.name != out.file_name().expect("a name").to_string_lossy(),
            f.name.clone(),
        )
    });
    files
}

/// Valid files of every format, exported by gridmap from the fixture: the
/// mutations start from them, so most cases get past the first check.
struct Seeds {
    geojson: Vec<Vec<u8>>,
    csv: Vec<Vec<u8>>,
    /// Each a whole shapefile: `.shp` first.
    shapefiles: Vec<Vec<NamedFile>>,
    gpkg: Vec<Vec<u8>>,
    fgb: Vec<Vec<u8>>,
    workers: Vec<Vec<u8>>,
    /// CSV with lon/lat, CSV with WKT.
    sites_csv: Vec<Vec<u8>>,
    /// GeoJSON FeatureCollection and the `points` form.
    sites_json: Vec<Vec<u8>>,
}

impl Seeds {
    fn export(snapshot: &Snapshot, dir: &Path) -> Self {
        let mut n = 0;
        let mut grids =
            |format: ExportFormat, crs: Crs, encoding: Option<&'static encoding_rs::Encoding>| {
                n += 1;
                let sub = dir.join(format!("{n}"));
                std::fs::create_dir_all(&sub).expect("a seed directory");
                let out = sub.join(format!("grids.{}", format.name()));
                let mut opts = GridExportOptions::new(SYSTEM, format, &out);
                opts.file.crs = crs;
                opts.file.encoding = encoding;
                export_grids(snapshot, &opts).unwrap_or_else(|e| panic!("exporting {format}: {e}"));
                exported(&out)
            };
        let gk = Crs::GaussKruger(4549);
        let main = |files: Vec<NamedFile>| files.into_iter().next().expect("a main file").bytes;
        let geojson = vec![
            main(grids(ExportFormat::GeoJson, Crs::Wgs84, None)),
            main(grids(ExportFormat::GeoJson, gk, None)),
        ];
        let csv = vec![
            main(grids(ExportFormat::Csv, Crs::Wgs84, None)),
            main(grids(ExportFormat::Csv, gk, None)),
        ];
        let shapefiles = vec![
            grids(ExportFormat::Shapefile, Crs::Wgs84, None),
            grids(ExportFormat::Shapefile, gk, Some(encoding_rs::GBK)),
        ];
        let gpkg = vec![
            main(grids(ExportFormat::Gpkg, Crs::Wgs84, None)),
            main(grids(ExportFormat::Gpkg, gk, None)),
        ];
        let fgb = vec![
            main(grids(ExportFormat::FlatGeobuf, Crs::Wgs84, None)),
            main(grids(ExportFormat::FlatGeobuf, gk, None)),
        ];

        let workers_out = dir.join("workers.csv");
        export_workers(
            snapshot,
            &WorkerExportOptions {
                system: SYSTEM.into(),
                all: true,
                out: workers_out.clone(),
            },
        )
        .expect("the workers export");
        let sites_out = |format: ExportFormat| {
            let out = dir.join(format!("sites.{}", format.name()));
            export_sites(
                snapshot,
                &SiteExportOptions {
                    kind: None,
                    file: FileOptions {
                        format,
                        crs: Crs::Wgs84,
                        encoding: None,
                        out: out.clone(),
                    },
                },
            )
            .unwrap_or_else(|e| panic!("exporting sites as {format}: {e}"));
            std::fs::read(out).expect("an exported site file")
        };
        let lon_lat = "id,name,address,households,lon,lat\nA1,曙光路1号,杭州市西湖区曙光路1号,12,120.11,30.27\nA4,新路5号,,3,120.135,30.265\n";
        let points = json!({"points": [{"id": "A1", "lon": 120.11, "lat": 30.27, "households": 12}, {"id": "A4", "lon": "120.135", "lat": "30.265"}]});
        Self {
            geojson,
            csv,
            shapefiles,
            gpkg,
            fgb,
            workers: vec![std::fs::read(workers_out).expect("the workers file")],
            sites_csv: vec![lon_lat.as_bytes().to_vec(), sites_out(ExportFormat::Csv)],
            sites_json: vec![
                sites_out(ExportFormat::GeoJson),
                points.to_string().into_bytes(),
            ],
        }
    }
}

/// The store every file target is judged against (only read: every entry
/// point used judges a file without writing) and the seeds.
struct FileWorld {
    root: PathBuf,
    store: GpkgStore,
    seeds: Seeds,
    /// The feature table of the exported GeoPackages.
    gpkg_table: String,
}

impl FileWorld {
    fn new(root: &Path) -> Self {
        let root = root.join("files");
        std::fs::create_dir_all(&root).expect("a directory");
        let store = GpkgStore::open(root.join("fixture.gpkg")).expect("a new store");
        store
            .apply(&fixture_change())
            .expect("the fixture is written");
        let snapshot = store.snapshot(SnapshotParts::All).expect("a snapshot");
        let seeds = Seeds::export(&snapshot, &root.join("seeds"));
        let gpkg_table = gpkg_tables(&seeds.gpkg[0])
            .into_iter()
            .find(|t| {
                !t.starts_with("gpkg_") && !t.starts_with("rtree_") && !t.starts_with("sqlite_")
            })
            .expect("a feature table");
        Self {
            root,
            store,
            seeds,
            gpkg_table,
        }
    }

    /// A directory of one target's own.
    fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

// --- GeoPackage cell edits ---

fn gpkg_tables(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.gpkg");
    std::fs::write(&path, bytes).expect("a copy");
    let conn = rusqlite::Connection::open(&path).expect("the seed GeoPackage opens");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("sqlite_master");
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("tables")
        .map(|r| r.expect("a name"))
        .collect();
    names
}

/// A value written into a GeoPackage cell.
#[derive(Debug, Clone)]
enum CellValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    /// The cell's own bytes (a geometry blob, a WKT definition) with a few byte edits.
    Edited(Vec<ByteEdit>),
}

#[derive(Debug, Clone)]
enum GpkgEdit {
    Set {
        table: Index,
        row: Index,
        column: Index,
        value: CellValue,
    },
    DeleteRow {
        table: Index,
        row: Index,
    },
}

fn cell_value() -> impl Strategy<Value = CellValue> {
    prop_oneof![
        1 => Just(CellValue::Null),
        2 => prop_oneof![select(vec![0i64, 1, -1, 4326, 4490, 4549, 3857, 0x7fff_ffff, i64::MAX, i64::MIN, 99_999]), any::<i64>()].prop_map(CellValue::Integer),
        1 => interesting_f64().prop_map(CellValue::Real),
        2 => prop_oneof![
            select(vec!["EPSG", "NONE", "undefined", "POLYGON", "MULTIPOLYGON", "GEOMETRY", "features", "grids", "geom", "TEXT", "INTEGER", "BLOB", "JSON"]).prop_map(String::from),
            wkt_text(),
            text(),
        ].prop_map(CellValue::Text),
        1 => vec(any::<u8>(), 0..64).prop_map(CellValue::Blob),
        4 => vec(byte_edit(), 1..4).prop_map(CellValue::Edited),
    ]
}

fn gpkg_edit() -> impl Strategy<Value = GpkgEdit> {
    prop_oneof![
        8 => (any::<Index>(), any::<Index>(), any::<Index>(), cell_value()).prop_map(|(table, row, column, value)| GpkgEdit::Set { table, row, column, value }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(table, row)| GpkgEdit::DeleteRow { table, row }),
    ]
}

/// `seed` with `edits` made through SQLite, so the file stays a database
/// and the GeoPackage reader's own checks are what the case meets. The
/// feature table is named three times as often as the others.
fn edit_gpkg(seed: &[u8], feature_table: &str, edits: &[GpkgEdit]) -> Vec<u8> {
    use rusqlite::types::Value as Sql;
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("case.gpkg");
    std::fs::write(&path, seed).expect("a copy");
    {
        let conn = rusqlite::Connection::open(&path).expect("the seed GeoPackage opens");
        // One transaction, no syncs: a case is a scratch copy.
        conn.execute_batch("PRAGMA synchronous = OFF; BEGIN")
            .expect("a transaction");
        // The R-tree triggers call functions only gridmap's store defines,
        // and the reader does not read the index: dropped, so edits apply.
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("triggers");
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER \"{t}\""))
                .expect("a trigger dropped");
        }
        let mut tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("tables");
        tables.extend([feature_table.to_string(), feature_table.to_string()]);
        for edit in edits {
            let (table, row) = match edit {
                GpkgEdit::Set { table, row, .. } | GpkgEdit::DeleteRow { table, row } => {
                    (table, row)
                }
            };
            let table = &tables[table.index(tables.len())];
            let rowids: Vec<i64> = conn
                .prepare(&format!("SELECT rowid FROM \"{table}\""))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .unwrap_or_default();
            if rowids.is_empty() {
                continue;
            }
            let rowid = rowids[row.index(rowids.len())];
            // A refused edit (a constraint, a virtual table) is no case: skipped.
            let _ = match edit {
                GpkgEdit::DeleteRow { .. } => conn.execute(
                    &format!("DELETE FROM \"{table}\" WHERE rowid = ?1"),
                    [rowid],
                ),
                GpkgEdit::Set { column, value, .. } => {
                    let columns: Vec<String> = conn
                        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                        .unwrap_or_default();
                    if columns.is_empty() {
                        continue;
                    }
                    let column = &columns[column.index(columns.len())];
                    let value = match value {
                        CellValue::Null => Sql::Null,
                        CellValue::Integer(i) => Sql::Integer(*i),
                        CellValue::Real(r) => Sql::Real(*r),
                        CellValue::Text(t) => Sql::Text(t.clone()),
                        CellValue::Blob(b) => Sql::Blob(b.clone()),
                        CellValue::Edited(edits) => {
                            let old: Sql = conn
                                .query_row(
                                    &format!(
                                        "SELECT \"{column}\" FROM \"{table}\" WHERE rowid = ?1"
                                    ),
                                    [rowid],
                                    |r| r.get(0),
                                )
                                .unwrap_or(Sql::Null);
                            let bytes = match old {
                                Sql::Blob(b) => b,
                                Sql::Text(t) => t.into_bytes(),
                                Sql::Integer(i) => i.to_string().into_bytes(),
                                Sql::Real(r) => r.to_string().into_bytes(),
                                Sql::Null => vec![],
                            };
                            Sql::Blob(apply_byte_edits(bytes, edits))
                        }
                    };
                    conn.execute(
                        &format!("UPDATE \"{table}\" SET \"{column}\" = ?1 WHERE rowid = ?2"),
                        rusqlite::params![value, rowid],
                    )
                }
            };
        }
        conn.execute_batch("COMMIT").expect("the edits committed");
        // Everything into the one file a reader is given.
        let _ =
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    }
    std::fs::read(&path).expect("the edited GeoPackage")
}

// --- the grid file targets ---

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GridFormat {
    GeoJson,
    CsvWkt,
    Shapefile,
    GeoPackage,
    FlatGeobuf,
}

/// How `gridmap import grids` is asked to take the file.
#[derive(Debug, Clone)]
struct GridKnobs {
    /// The stored system (judged against its grids) or a new one.
    system: &'static str,
    levels: Option<Vec<String>>,
    crs: Option<Crs>,
    repair: bool,
    replace: bool,
    allow_shrink: bool,
    layer: Option<String>,
}

#[derive(Debug, Clone)]
struct GridCase {
    files: Vec<NamedFile>,
    knobs: GridKnobs,
}

/// A grid file judged by `prepare_grid_import_with` against the fixture store.
struct GridFileTarget {
    world: Arc<FileWorld>,
    format: GridFormat,
    dir: PathBuf,
}

impl GridFormat {
    fn target_name(self) -> &'static str {
        match self {
            GridFormat::GeoJson => "geojson_grids",
            GridFormat::CsvWkt => "csv_wkt_grids",
            GridFormat::Shapefile => "shapefile_grids",
            GridFormat::GeoPackage => "gpkg_grids",
            GridFormat::FlatGeobuf => "fgb_grids",
        }
    }
}

impl GridFileTarget {
    fn new(world: &Arc<FileWorld>, format: GridFormat) -> Self {
        Self {
            world: world.clone(),
            format,
            dir: world.dir(format.target_name()),
        }
    }

    fn files(&self) -> BoxedStrategy<Vec<NamedFile>> {
        let seeds = &self.world.seeds;
        let one = |name: &'static str| move |bytes: Vec<u8>| vec![NamedFile::new(name, bytes)];
        match self.format {
            GridFormat::GeoJson => prop_oneof![
                4 => json_mutants(&seeds.geojson),
                3 => feature_collection(grid_feature()),
                2 => byte_mutants(seeds.geojson.clone()),
                1 => random_bytes(),
            ]
            .prop_map(one("grids.geojson"))
            .boxed(),
            GridFormat::CsvWkt => {
                let header = || {
                    prop_oneof![3 => select(vec!["code", "level", "name", "parent", "wkt", "geometry", "geom", "WKT", "households", "名称"]).prop_map(String::from), 1 => text()].boxed()
                };
                prop_oneof![
                    4 => csv_mutants(&seeds.csv, grid_cell(), header()),
                    3 => generated_csv(&["code", "level", "name", "parent", "wkt"], header(), grid_cell()),
                    2 => byte_mutants(seeds.csv.clone()),
                    1 => random_bytes(),
                ]
                .prop_map(one("grids.csv"))
                .boxed()
            }
            GridFormat::Shapefile => shapefile_cases(&seeds.shapefiles),
            GridFormat::GeoPackage => {
                let table = self.world.gpkg_table.clone();
                let gpkg = Arc::new(seeds.gpkg.clone());
                let count = gpkg.len();
                prop_oneof![
                    5 => (0..count, vec(gpkg_edit(), 1..5)).prop_map(move |(i, edits)| edit_gpkg(&gpkg[i], &table, &edits)),
                    2 => byte_mutants(seeds.gpkg.clone()),
                    1 => random_bytes(),
                ]
                .prop_map(one("grids.gpkg"))
                .boxed()
            }
            GridFormat::FlatGeobuf => prop_oneof![
                6 => byte_mutants(seeds.fgb.clone()),
                1 => random_bytes(),
            ]
            .prop_map(one("grids.fgb"))
            .boxed(),
        }
    }

    fn knobs(&self) -> BoxedStrategy<GridKnobs> {
        let layer = match self.format {
            GridFormat::GeoPackage => prop::option::weighted(
                0.3,
                select(vec![
                    self.world.gpkg_table.clone(),
                    "grids".into(),
                    "gpkg_contents".into(),
                    "nope".into(),
                    "\"; DROP TABLE x; --".into(),
                ]),
            )
            .boxed(),
            // Naming a layer for a one-layer format is refused: sometimes asked.
            _ => prop::option::weighted(0.03, Just("grids".to_string())).boxed(),
        };
        (
            select(vec![SYSTEM, SYSTEM, SYSTEM, "fresh"]),
            prop::option::weighted(0.15, vec(select(LEVEL_WORDS).prop_map(String::from), 0..4)),
            prop::option::weighted(0.3, crs_choice()),
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.2),
            any::<bool>(),
            layer,
        )
            .prop_map(
                |(system, levels, crs, repair, replace, allow_shrink, layer)| GridKnobs {
                    system,
                    levels,
                    crs,
                    repair,
                    replace,
                    allow_shrink,
                    layer,
                },
            )
            .boxed()
    }
}

impl Target for GridFileTarget {
    type Input = GridCase;

    fn name(&self) -> &'static str {
        self.format.target_name()
    }

    fn inputs(&self) -> BoxedStrategy<GridCase> {
        (self.files(), self.knobs())
            .prop_map(|(files, knobs)| GridCase { files, knobs })
            .boxed()
    }

    fn run(&self, case: &GridCase) -> Result<Outcome, Broken> {
        let paths = write_files(&self.dir, &case.files).expect("the case's files written");
        let k = &case.knobs;
        let mut opts = GridImportOptions::new(k.system);
        opts.levels = k.levels.clone();
        opts.crs = k.crs;
        opts.repair = k.repair;
        opts.replace = k.replace;
        opts.allow_shrink = k.allow_shrink;
        let read = match &k.layer {
            Some(layer) => ReadOptions::with_layer(layer.clone()),
            None => ReadOptions::default(),
        };
        judged(
            prepare_grid_import_with(&paths[0], &read, &opts, &self.world.store, &NoProgress),
            |(_, report)| report.to_string(),
        )
    }

    fn save(&self, case: &GridCase, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = write_files(dir, &case.files)?;
        paths.push(write_note(
            dir,
            &format!(
                "gridmap import grids {} with {:#?}\n",
                case.files[0].name, case.knobs
            ),
        )?);
        Ok(paths)
    }

    fn bytes(&self, case: &GridCase) -> Option<Vec<u8>> {
        (case.files.len() == 1).then(|| case.files[0].bytes.clone())
    }
}

fn json_code() -> BoxedStrategy<Json> {
    prop_oneof![6 => select(CODES).prop_map(Json::str), 1 => json_value()].boxed()
}

/// A position: mostly a plausible longitude/latitude pair.
fn position() -> BoxedStrategy<Json> {
    prop_oneof![
        8 => (coordinate_text(120.09..120.15), coordinate_text(30.25..30.31)).prop_map(|(x, y)| Json::Arr(vec![Json::Raw(x), Json::Raw(y)])),
        1 => vec(number_text().prop_map(Json::Raw), 0..5).prop_map(Json::Arr),
        1 => json_value(),
    ]
    .boxed()
}

fn ring() -> BoxedStrategy<Json> {
    prop_oneof![
        3 => rectangle().prop_map(|r| Json::Arr(r.iter().map(|(x, y)| Json::Arr(vec![Json::Raw(x.to_string()), Json::Raw(y.to_string())])).collect())),
        // Random rings are mostly self-crossing: invalid, or repaired when asked.
        3 => (vec(position(), 0..9), prop::bool::weighted(0.8)).prop_map(|(mut points, closed)| {
            if closed {
                if let Some(first) = points.first().cloned() {
                    points.push(first);
                }
            }
            Json::Arr(points)
        }),
        1 => json_value(),
    ]
    .boxed()
}

fn geometry() -> BoxedStrategy<Json> {
    let polygon = vec(ring(), 0..3).prop_map(Json::Arr);
    prop_oneof![
        5 => polygon.clone().prop_map(|c| Json::obj(vec![("type", Json::str("Polygon")), ("coordinates", c)])),
        2 => vec(polygon, 0..3).prop_map(|c| Json::obj(vec![("type", Json::str("MultiPolygon")), ("coordinates", Json::Arr(c))])),
        1 => (select(vec!["Point", "LineString", "MultiPoint", "GeometryCollection", "polygon", "Polygon ", "Feature"]), json_value())
            .prop_map(|(t, c)| Json::obj(vec![("type", Json::str(t)), ("coordinates", c)])),
        1 => (1usize..400).prop_map(|d| Json::obj(vec![("type", Json::str("Polygon")), ("coordinates", nested(d))])),
        1 => Just(Json::Raw("null".into())),
        1 => json_value(),
    ]
    .boxed()
}

fn grid_feature() -> BoxedStrategy<Json> {
    (
        json_code(),
        prop_oneof![6 => select(LEVEL_WORDS).prop_map(Json::str), 1 => json_value()],
        prop_oneof![4 => vec(select(CHINESE), 0..8).prop_map(|v| Json::Str(v.concat())), 1 => json_value()],
        prop::option::weighted(0.7, json_code()),
        vec((json_key(), json_value()), 0..3),
        geometry(),
    )
        .prop_map(|(code, level, name, parent, extra, geometry)| {
            let mut properties = vec![("code".to_string(), code), ("level".into(), level), ("name".into(), name)];
            if let Some(p) = parent {
                properties.push(("parent".into(), p));
            }
            properties.extend(extra);
            Json::obj(vec![("type", Json::str("Feature")), ("properties", Json::Obj(properties)), ("geometry", geometry)])
        })
        .boxed()
}

/// A FeatureCollection of `feature`s, sometimes with a legacy `crs` member.
fn feature_collection(feature: BoxedStrategy<Json>) -> BoxedStrategy<Vec<u8>> {
    let crs_name = select(vec![
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4549",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "EPSG:4490",
        "EPSG:3857",
        "gcj02",
        "EPSG:9999",
        "",
    ]);
    (
        vec(feature, 0..7),
        prop::option::weighted(0.2, crs_name),
        select(vec![
            "FeatureCollection",
            "FeatureCollection",
            "FeatureCollection",
            "Feature",
            "featurecollection",
            "Topology",
        ]),
    )
        .prop_map(|(features, crs, kind)| {
            let mut members = vec![("type", Json::str(kind)), ("features", Json::Arr(features))];
            if let Some(name) = crs {
                members.push((
                    "crs",
                    Json::obj(vec![
                        ("type", Json::str("name")),
                        ("properties", Json::obj(vec![("name", Json::str(name))])),
                    ]),
                ));
            }
            Json::obj(members).text()
        })
        .boxed()
}

fn grid_cell() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(CODES).prop_map(String::from),
        2 => select(LEVEL_WORDS).prop_map(String::from),
        4 => wkt_text(),
        1 => number_text(),
        1 => text(),
    ]
    .boxed()
}

/// Whole shapefiles with a few byte edits in their parts, parts left out,
/// or another `.prj` / `.cpg`; and random `.shp` bytes beside valid parts.
fn shapefile_cases(seeds: &[Vec<NamedFile>]) -> BoxedStrategy<Vec<NamedFile>> {
    let seeds = Arc::new(seeds.to_vec());
    let count = seeds.len();
    let prj = prop_oneof![
        2 => (select(vec!["GEOGCS", "PROJCS", "GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",", "PROJCS[\"CGCS2000_3_Degree_GK_CM_120E\","]), wkt_body()).prop_map(|(k, b)| format!("{k}{b}")),
        1 => wkt_text(),
        1 => (1usize..5000).prop_map(|n| format!("GEOGCS{}", "[".repeat(n))),
        1 => text(),
    ];
    let cpg = select(vec![
        "GBK",
        "936",
        "UTF-8",
        "utf8",
        "65001",
        "CP936",
        "GB18030",
        "latin1",
        "",
        "\u{feff}UTF-8",
        "x",
    ]);
    let edited = (
        0..count,
        vec((any::<Index>(), vec(byte_edit(), 1..4)), 1..3),
        prop::option::weighted(0.15, select(vec!["shx", "dbf", "prj", "cpg"])),
        prop::option::weighted(0.15, prj),
        prop::option::weighted(0.1, cpg),
    )
        .prop_map({
            let seeds = seeds.clone();
            move |(i, edits, dropped, prj, cpg)| {
                let mut files = seeds[i].clone();
                for (which, e) in edits {
                    let which = which.index(files.len());
                    let f = &mut files[which];
                    f.bytes = apply_byte_edits(std::mem::take(&mut f.bytes), &e);
                }
                let set = |files: &mut Vec<NamedFile>, ext: &str, bytes: Vec<u8>| {
                    files.retain(|f| !f.name.ends_with(&format!(".{ext}")));
                    files.push(NamedFile::new(&format!("grids.{ext}"), bytes));
                };
                if let Some(prj) = prj {
                    set(&mut files, "prj", prj.into_bytes());
                }
                if let Some(cpg) = cpg {
                    set(&mut files, "cpg", cpg.as_bytes().to_vec());
                }
                if let Some(ext) = dropped {
                    files.retain(|f| !f.name.ends_with(&format!(".{ext}")));
                }
                files
            }
        });
    let random_shp = (0..count, random_bytes()).prop_map(move |(i, bytes)| {
        let mut files = seeds[i].clone();
        files[0].bytes = bytes;
        files
    });
    prop_oneof![8 => edited, 1 => random_shp].boxed()
}

// --- workers ---

#[derive(Debug, Clone)]
struct WorkersCase {
    file: NamedFile,
    system: &'static str,
}

/// A workers CSV judged by `prepare_worker_import` against the fixture store.
struct WorkersTarget {
    world: Arc<FileWorld>,
    dir: PathBuf,
}

impl WorkersTarget {
    fn new(world: &Arc<FileWorld>) -> Self {
        Self {
            world: world.clone(),
            dir: world.dir("workers_csv"),
        }
    }
}

/// A `grids` cell: `code[:share];…` with odd codes and shares.
fn worker_grids_cell() -> BoxedStrategy<String> {
    let share = prop_oneof![
        3 => select(vec!["0.5", "1", "0", "-1", "NaN", "inf", "1e-400", "2", "0.3333", "", "1.0000001", "5e-324"]).prop_map(String::from),
        1 => number_text(),
    ];
    let item = (
        prop_oneof![4 => select(CODES).prop_map(String::from), 1 => text()],
        prop::option::weighted(0.5, share),
    )
        .prop_map(|(code, share)| match share {
            Some(s) => format!("{code}:{s}"),
            None => code,
        });
    (vec(item, 0..5), select(vec![";", "; ", ";;", ",", "；"]))
        .prop_map(|(items, sep)| items.join(sep))
        .boxed()
}

fn worker_cell() -> BoxedStrategy<String> {
    prop_oneof![
        4 => worker_grids_cell(),
        2 => select(WORKER_IDS).prop_map(String::from),
        2 => text(),
        1 => number_text(),
    ]
    .boxed()
}

impl Target for WorkersTarget {
    type Input = WorkersCase;

    fn name(&self) -> &'static str {
        "workers_csv"
    }

    fn inputs(&self) -> BoxedStrategy<WorkersCase> {
        let seeds = &self.world.seeds.workers;
        let header = || {
            prop_oneof![3 => select(vec!["id", "name", "phone", "role", "photo", "duties", "grids", "ID", " grids ", "姓名"]).prop_map(String::from), 1 => text()].boxed()
        };
        let bytes = prop_oneof![
            4 => csv_mutants(seeds, worker_cell(), header()),
            3 => generated_csv(&["id", "name", "phone", "role", "photo", "duties", "grids"], header(), worker_cell()),
            2 => byte_mutants(seeds.clone()),
            1 => random_bytes(),
        ];
        (bytes, select(vec![SYSTEM, SYSTEM, SYSTEM, "nope"]))
            .prop_map(|(bytes, system)| WorkersCase {
                file: NamedFile::new("workers.csv", bytes),
                system,
            })
            .boxed()
    }

    fn run(&self, case: &WorkersCase) -> Result<Outcome, Broken> {
        let paths = write_files(&self.dir, std::slice::from_ref(&case.file))
            .expect("the case's file written");
        judged(
            prepare_worker_import(&self.world.store, &paths[0], case.system),
            |(_, report)| report.to_string(),
        )
    }

    fn save(&self, case: &WorkersCase, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = write_files(dir, std::slice::from_ref(&case.file))?;
        paths.push(write_note(
            dir,
            &format!(
                "gridmap import workers --system {:?} workers.csv\n",
                case.system
            ),
        )?);
        Ok(paths)
    }

    fn bytes(&self, case: &WorkersCase) -> Option<Vec<u8>> {
        Some(case.file.bytes.clone())
    }
}

// --- sites ---

#[derive(Debug, Clone)]
struct SitesCase {
    file: NamedFile,
    kind: String,
    crs: Option<Crs>,
    replace: bool,
    system: Option<&'static str>,
}

/// A site file (CSV with lon/lat or WKT, GeoJSON, the `points` form) judged
/// by `prepare_site_import` against the fixture store.
struct SitesTarget {
    world: Arc<FileWorld>,
    dir: PathBuf,
}

impl SitesTarget {
    fn new(world: &Arc<FileWorld>) -> Self {
        Self {
            world: world.clone(),
            dir: world.dir("sites"),
        }
    }
}

fn site_cell() -> BoxedStrategy<String> {
    prop_oneof![
        3 => coordinate_text(120.09..120.15),
        3 => coordinate_text(30.25..30.31),
        // Gauss-Krüger eastings and northings where degrees belong.
        1 => (40_400_000.0f64..40_600_000.0).prop_map(|v| format!("{v:.2}")),
        1 => (3_340_000.0f64..3_360_000.0).prop_map(|v| format!("{v:.2}")),
        2 => select(SITE_IDS).prop_map(String::from),
        1 => select(vec!["12", "-1", "1.5", "4294967296", "", "十", "0"]).prop_map(String::from),
        1 => wkt_text(),
        2 => text(),
    ]
    .boxed()
}

fn site_feature() -> BoxedStrategy<Json> {
    let point = prop_oneof![
        6 => position().prop_map(|c| Json::obj(vec![("type", Json::str("Point")), ("coordinates", c)])),
        1 => vec(position(), 0..3).prop_map(|c| Json::obj(vec![("type", Json::str("MultiPoint")), ("coordinates", Json::Arr(c))])),
        1 => geometry(),
    ];
    (
        prop_oneof![5 => select(SITE_IDS).prop_map(Json::str), 1 => json_value()],
        prop_oneof![3 => vec(select(CHINESE), 0..8).prop_map(|v| Json::Str(v.concat())), 1 => json_value()],
        prop_oneof![3 => (0u32..500).prop_map(|h| Json::Raw(h.to_string())), 1 => json_scalar()],
        point,
    )
        .prop_map(|(id, name, households, geometry)| {
            Json::obj(vec![
                ("type", Json::str("Feature")),
                ("properties", Json::obj(vec![("id", id), ("name", name), ("households", households)])),
                ("geometry", geometry),
            ])
        })
        .boxed()
}

/// `{"points":[{"id":…,"lon":…,"lat":…},…]}` with odd members.
fn points_document() -> BoxedStrategy<Vec<u8>> {
    let coordinate = |range: std::ops::Range<f64>| {
        prop_oneof![
            3 => coordinate_text(range.clone()).prop_map(Json::Raw),
            1 => coordinate_text(range).prop_map(Json::Str),
            1 => json_value(),
        ]
    };
    let point = (
        prop_oneof![4 => select(SITE_IDS).prop_map(Json::str), 1 => json_value()],
        select(vec!["lon", "lng", "x", "longitude", "LON", "经度"]),
        coordinate(120.09..120.15),
        select(vec!["lat", "y", "latitude", "Lat", "纬度"]),
        coordinate(30.25..30.31),
    )
        .prop_map(|(id, lon_key, lon, lat_key, lat)| {
            Json::obj(vec![("id", id), (lon_key, lon), (lat_key, lat)])
        });
    vec(point, 0..6)
        .prop_map(|points| Json::obj(vec![("points", Json::Arr(points))]).text())
        .boxed()
}

impl Target for SitesTarget {
    type Input = SitesCase;

    fn name(&self) -> &'static str {
        "sites"
    }

    fn inputs(&self) -> BoxedStrategy<SitesCase> {
        let seeds = &self.world.seeds;
        let header = || {
            prop_oneof![
                3 => select(vec!["id", "name", "address", "households", "lon", "lat", "x", "y", "lng", "longitude", "latitude", "LON", "wkt", "geometry", "经度"]).prop_map(String::from),
                1 => text(),
            ]
            .boxed()
        };
        let csv = prop_oneof![
            4 => csv_mutants(&seeds.sites_csv, site_cell(), header()),
            3 => generated_csv(&["id", "name", "households", "lon", "lat"], header(), site_cell()),
            2 => byte_mutants(seeds.sites_csv.clone()),
            1 => random_bytes(),
        ]
        .prop_map(|b| NamedFile::new("sites.csv", b));
        let json = (
            prop_oneof![
                4 => json_mutants(&seeds.sites_json),
                2 => feature_collection(site_feature()),
                2 => points_document(),
                2 => byte_mutants(seeds.sites_json.clone()),
                1 => random_bytes(),
            ],
            select(vec!["sites.geojson", "sites.json"]),
        )
            .prop_map(|(b, name)| NamedFile::new(name, b));
        (
            prop_oneof![csv, json],
            prop_oneof![6 => Just("address".to_string()), 1 => Just("school".to_string()), 1 => select(vec!["", "Bad Kind", "a-b", "学校"]).prop_map(String::from), 1 => Just("x".repeat(300))],
            prop::option::weighted(0.3, crs_choice()),
            prop::bool::weighted(0.2),
            prop::option::weighted(0.3, select(vec![SYSTEM, "nope"])),
        )
            .prop_map(|(file, kind, crs, replace, system)| SitesCase {
                file,
                kind,
                crs,
                replace,
                system,
            })
            .boxed()
    }

    fn run(&self, case: &SitesCase) -> Result<Outcome, Broken> {
        let paths = write_files(&self.dir, std::slice::from_ref(&case.file))
            .expect("the case's file written");
        let mut opts = SiteImportOptions::new(case.kind.clone());
        opts.crs = case.crs;
        opts.replace = case.replace;
        opts.system = case.system.map(String::from);
        judged(
            prepare_site_import(&self.world.store, &paths[0], &opts, &NoProgress),
            |(_, report)| report.to_string(),
        )
    }

    fn save(&self, case: &SitesCase, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut paths = write_files(dir, std::slice::from_ref(&case.file))?;
        paths.push(write_note(
            dir,
            &format!(
                "gridmap import sites {} --kind {:?} crs {:?} replace {} system {:?}\n",
                case.file.name, case.kind, case.crs, case.replace, case.system
            ),
        )?);
        Ok(paths)
    }

    fn bytes(&self, case: &SitesCase) -> Option<Vec<u8>> {
        Some(case.file.bytes.clone())
    }
}

// ---------------------------------------------------------------------------
// HTTP: the whole application over the demo city
// ---------------------------------------------------------------------------

const DEMO_SYSTEM: &str = "default";

/// The demo city served in-process, with one published change (so `?at=`
/// has history) and one draft (so `?proposal=` has a view), and the values
/// a plausible request names.
struct HttpWorld {
    editors: Editors,
    runtime: tokio::runtime::Runtime,
    version: u64,
    draft: u64,
    published: u64,
    collections: Vec<String>,
    codes: Vec<String>,
    levels: Vec<String>,
    /// Tiles over the city, z0–z18: (z, x, y).
    tiles: Vec<(u8, u32, u32)>,
    /// The city's bounding box.
    bbox: Rect<f64>,
    /// Names and addresses of registered sites: the search box's material.
    phrases: Vec<String>,
}

impl HttpWorld {
    fn new(root: &Path) -> Self {
        let dir = root.join("http");
        std::fs::create_dir_all(&dir).expect("a directory");
        let city = generate(
            &DemoOptions {
                blocks: 200,
                seed: 1,
            },
            &NoProgress,
        )
        .expect("the demo city");
        let store = GpkgStore::open(dir.join("demo.gpkg")).expect("a new store");
        store.apply(&city).expect("the demo city is written");
        let editors = Editors::new(store, DEMO_SYSTEM, None);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let catalog = editors.state.catalog();
        let system = catalog.system(DEMO_SYSTEM).expect("the demo system");
        let grids = system.grids();
        let bbox = grids
            .iter()
            .filter_map(|g| g.geometry.bounding_rect())
            .reduce(|a, b| {
                Rect::new(
                    Coord {
                        x: a.min().x.min(b.min().x),
                        y: a.min().y.min(b.min().y),
                    },
                    Coord {
                        x: a.max().x.max(b.max().x),
                        y: a.max().y.max(b.max().y),
                    },
                )
            })
            .expect("the city has an extent");
        let vertices: Vec<Coord<f64>> = grids
            .iter()
            .filter(|g| g.level == "block")
            .take(20)
            .filter_map(|g| g.geometry.0.first().map(|p| p.exterior().0[1]))
            .collect();
        let (published, draft) = runtime.block_on(async {
            let published = editors.proposal("fuzz: published").await;
            move_a_vertex(&editors, published, &vertices).await;
            let r = editors.publish(published).await;
            assert_eq!(r.status.as_u16(), 200, "publish: {}", r.json());
            let draft = editors.proposal("fuzz: draft").await;
            move_a_vertex(&editors, draft, &vertices[1..]).await;
            (published, draft)
        });
        let version = editors.state.catalog().version();
        let collections = runtime.block_on(async {
            let r = get_with(&editors.state, "/ogc/collections", &[]).await;
            r.json()["collections"]
                .as_array()
                .expect("collections")
                .iter()
                .map(|c| c["id"].as_str().expect("an id").to_string())
                .collect()
        });
        let mut codes: Vec<String> = grids.iter().step_by(7).map(|g| g.code.clone()).collect();
        codes.truncate(40);
        let levels = system.system().levels.clone();
        let center = bbox.center();
        let mut tiles = Vec::new();
        for z in 0..=18u8 {
            for (lon, lat) in [
                (center.x, center.y),
                (bbox.min().x, bbox.min().y),
                (bbox.max().x, bbox.max().y),
                (bbox.min().x, bbox.max().y),
            ] {
                let t =
                    gridmap_tiles::tile::tile_for_lonlat(lon, lat, z).expect("a lon/lat in range");
                tiles.push((z, t.x, t.y));
            }
        }
        let phrases = city
            .sites
            .iter()
            .step_by(11)
            .take(60)
            .flat_map(|s| [s.name.clone()].into_iter().chain(s.address.clone()))
            .collect();
        Self {
            editors,
            runtime,
            version,
            draft,
            published,
            collections,
            codes,
            levels,
            tiles,
            bbox,
            phrases,
        }
    }
}

/// Moves one of `vertices` (in every grid holding it) by a hair, the first
/// the rules accept.
async fn move_a_vertex(editors: &Editors, proposal: u64, vertices: &[Coord<f64>]) {
    for v in vertices {
        let r = editors
            .edit(
                proposal,
                json!({"op": "move_vertex", "from": [v.x, v.y], "to": [v.x + 1e-6, v.y]}),
            )
            .await;
        if r.status.as_u16() == 200 {
            return;
        }
    }
    panic!("no vertex of the demo city could be moved");
}

/// Bytes a URL keeps as they are; everything else is percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pieces of query strings that are valid in a URL and odd to a decoder.
const RAW_QUERY: &[&str] = &[
    "%",
    "%zz",
    "%FF",
    "%C0%AF",
    "%00",
    "%E4%B8",
    "+",
    "%2B",
    "a+b",
    "%20",
    "%2C",
    ",",
    ";",
    "==",
    "&&",
    "=",
    "%26",
    "%3D",
    "..",
    "%2e%2e%2f",
    "%EF%BB%BF",
    "%F0%9F%98%80",
];

#[derive(Debug, Clone, Copy)]
enum Auth {
    Anonymous,
    As(Role),
    /// A token no account has.
    Forged,
}

#[derive(Debug, Clone)]
struct HttpCase {
    endpoint: &'static str,
    path: String,
    /// `name=value` pairs, already encoded; `None`: the name alone.
    query: Vec<(String, Option<String>)>,
    auth: Auth,
    gzip: bool,
    if_none_match: Option<String>,
}

impl HttpCase {
    fn uri(&self) -> String {
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect();
        let uri = if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, query.join("&"))
        };
        // The raw pieces are all valid URL bytes; were one not, the request
        // could not be sent at all, which tests nothing: encode it then.
        if uri.parse::<Uri>().is_ok() {
            uri
        } else {
            format!("{}?{}", encode(&self.path), encode(&query.join("&")))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum HttpKind {
    /// `/tiles/{system}/{z}/{x}/{y}.mvt` with odd segments, `?v=`, `?at=`, `?proposal=`.
    Tiles,
    /// Query strings of lookup, grid list, search, OGC items and coverage.
    Queries,
}

struct HttpTarget {
    world: Arc<HttpWorld>,
    kind: HttpKind,
}

/// A value: mostly one of `plausible`, sometimes anything.
fn value_of(plausible: BoxedStrategy<String>) -> BoxedStrategy<Option<String>> {
    prop_oneof![
        12 => plausible.prop_map(|v| Some(encode(&v))),
        2 => number_text().prop_map(|v| Some(encode(&v))),
        2 => text().prop_map(|v| Some(encode(&v))),
        1 => select(RAW_QUERY).prop_map(|v| Some(v.to_string())),
        1 => Just(None),
        1 => Just(Some(String::new())),
    ]
    .boxed()
}

type Params = BoxedStrategy<Vec<(String, Option<String>)>>;

impl HttpWorld {
    fn pick(items: &[String]) -> BoxedStrategy<String> {
        select(items.to_vec()).boxed()
    }

    fn lon(&self) -> BoxedStrategy<String> {
        let (a, b) = (self.bbox.min().x - 0.01, self.bbox.max().x + 0.01);
        (a..b).prop_map(|v| v.to_string()).boxed()
    }

    fn lat(&self) -> BoxedStrategy<String> {
        let (a, b) = (self.bbox.min().y - 0.01, self.bbox.max().y + 0.01);
        (a..b).prop_map(|v| v.to_string()).boxed()
    }

    fn system(&self) -> BoxedStrategy<String> {
        prop_oneof![8 => Just(DEMO_SYSTEM.to_string()), 1 => Just(String::new()), 1 => text()]
            .boxed()
    }

    fn version_param(&self) -> BoxedStrategy<String> {
        select(vec![
            self.version.to_string(),
            (self.version - 1).to_string(),
            (self.version + 1).to_string(),
            "0".into(),
            "1".into(),
            u64::MAX.to_string(),
            "-1".into(),
            "1.0".into(),
        ])
        .boxed()
    }

    fn proposal_param(&self) -> BoxedStrategy<String> {
        select(vec![
            self.draft.to_string(),
            self.published.to_string(),
            "0".into(),
            "999999".into(),
            u64::MAX.to_string(),
            "x".into(),
        ])
        .boxed()
    }

    fn count(&self) -> BoxedStrategy<String> {
        prop_oneof![
            3 => (0u32..200).prop_map(|n| n.to_string()),
            1 => select(vec!["-1", "0", "1e3", "18446744073709551616", "abc", "10000000"]).prop_map(String::from),
            1 => any::<u64>().prop_map(|n| n.to_string()),
        ]
        .boxed()
    }

    fn bbox_param(&self) -> BoxedStrategy<String> {
        let (lon, lat) = (self.lon(), self.lat());
        prop_oneof![
            3 => (lon.clone(), lat.clone(), lon, lat).prop_map(|(a, b, c, d)| format!("{a},{b},{c},{d}")),
            1 => vec(number_text(), 0..8).prop_map(|v| v.join(",")),
            1 => select(vec!["170,-10,-170,10", "-180,-90,180,90", "0,0,0,0", "120,30,121,31,0,10", "1,2,3", ",,,"]).prop_map(String::from),
        ]
        .boxed()
    }

    /// Extra parameters: known names of this endpoint and a few others.
    fn extras(&self, names: &[&'static str], value: BoxedStrategy<String>) -> Params {
        let mut all: Vec<&'static str> = names.to_vec();
        all.extend(["at", "proposal", "system", "f", "x", "limit"]);
        vec(
            (
                prop_oneof![5 => select(all).prop_map(String::from), 1 => text().prop_map(|t| encode(&t))],
                value_of(value),
            ),
            0..3,
        )
        .boxed()
    }

    /// A parameter `name` with its plausible values, present most of the time.
    fn param(name: &'static str, plausible: BoxedStrategy<String>, present: f64) -> Params {
        prop::option::weighted(present, value_of(plausible))
            .prop_map(move |v| v.map(|v| vec![(name.to_string(), v)]).unwrap_or_default())
            .boxed()
    }

    fn anything(&self) -> BoxedStrategy<String> {
        prop_oneof![
            self.version_param(),
            self.proposal_param(),
            self.count(),
            self.system(),
            Self::pick(&self.codes),
            Self::pick(&self.levels),
        ]
        .boxed()
    }

    fn lookup(&self) -> (String, Params) {
        let crs = select(vec![
            "EPSG:4326",
            "4490",
            "EPSG:4549",
            "EPSG:4526",
            "gcj02",
            "bd09",
            "EPSG:3857",
            "EPSG:900913",
            "EPSG:9999",
            "wgs84",
            "",
        ])
        .prop_map(String::from)
        .boxed();
        let parts = vec![
            Self::param("lon", self.lon(), 0.95),
            Self::param("lat", self.lat(), 0.95),
            Self::param("crs", crs, 0.2),
            Self::param("system", self.system(), 0.3),
            Self::param("at", self.version_param(), 0.15),
            self.extras(&["lon", "lat", "crs"], self.anything()),
        ];
        ("/api/v1/lookup".into(), concat(parts))
    }

    fn grids(&self) -> (String, Params) {
        let parts = vec![
            Self::param("system", self.system(), 0.4),
            Self::param("level", Self::pick(&self.levels), 0.5),
            Self::param("parent", Self::pick(&self.codes), 0.3),
            Self::param("bbox", self.bbox_param(), 0.4),
            Self::param("limit", self.count(), 0.3),
            Self::param("offset", self.count(), 0.3),
            Self::param("at", self.version_param(), 0.1),
            Self::param("proposal", self.proposal_param(), 0.1),
            self.extras(&["level", "parent", "bbox", "offset"], self.anything()),
        ];
        ("/api/v1/grids".into(), concat(parts))
    }

    fn search(&self) -> (String, Params) {
        let phrases = Arc::new(self.phrases.clone());
        let q = prop_oneof![
            // A piece of a real address, sometimes with a typo.
            4 => (any::<Index>(), any::<Index>(), any::<Index>(), prop::option::weighted(0.3, select(CHINESE))).prop_map(move |(which, a, b, typo)| {
                let chars: Vec<char> = phrases[which.index(phrases.len())].chars().collect();
                let (a, b) = (a.index(chars.len() + 1), b.index(chars.len() + 1));
                let mut piece: Vec<char> = chars[a.min(b)..a.max(b)].to_vec();
                if let Some(t) = typo {
                    piece.splice(piece.len() / 2..piece.len() / 2, t.chars());
                }
                piece.into_iter().collect::<String>()
            }),
            2 => text(),
            1 => (select(CHINESE), 1usize..2000).prop_map(|(c, n)| c.repeat(n)),
            1 => select(vec!["", " ", "号", "1", "１号楼", "%", "\u{0}", "3幢2单元101室", "浙江省杭州市"]).prop_map(String::from),
        ]
        .boxed();
        let parts = vec![
            Self::param("q", q, 0.95),
            Self::param("limit", self.count(), 0.3),
            Self::param("system", self.system(), 0.2),
            self.extras(&["q"], self.anything()),
        ];
        ("/api/v1/search".into(), concat(parts))
    }

    fn ogc_items(&self) -> (BoxedStrategy<String>, Params) {
        let id = prop_oneof![
            6 => Self::pick(&self.collections),
            1 => text().prop_map(|t| encode(&t)),
            1 => select(vec!["", "sites", "default", "default.", ".block", "default.block.x", "%2e"]).prop_map(String::from),
        ]
        .prop_map(|id| format!("/ogc/collections/{id}/items"))
        .boxed();
        let datetime = select(vec![
            "2024-01-01T00:00:00Z",
            "../2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z/..",
            "..",
            "2024-13-45",
            "2024-01-01T00:00:00Z/2023-01-01T00:00:00Z",
            "/",
            "2024-01-01",
        ])
        .prop_map(String::from)
        .boxed();
        let crs = select(vec![
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "http://www.opengis.net/def/crs/EPSG/0/4326",
            "EPSG:4326",
            "x",
        ])
        .prop_map(String::from)
        .boxed();
        let parts = vec![
            Self::param("bbox", self.bbox_param(), 0.4),
            Self::param("bbox-crs", crs.clone(), 0.1),
            Self::param("limit", self.count(), 0.3),
            Self::param("offset", self.count(), 0.3),
            Self::param("datetime", datetime, 0.1),
            Self::param("crs", crs, 0.1),
            Self::param("code", Self::pick(&self.codes), 0.15),
            Self::param("parent", Self::pick(&self.codes), 0.15),
            Self::param("name", text(), 0.1),
            Self::param(
                "f",
                select(vec!["json", "html", "geojson", "xml"])
                    .prop_map(String::from)
                    .boxed(),
                0.1,
            ),
            self.extras(
                &["id", "address", "name", "bbox", "offset"],
                self.anything(),
            ),
        ];
        (id, concat(parts))
    }

    fn coverage(&self) -> (String, Params) {
        let households = prop_oneof![
            2 => select(vec!["10-100", "100-10", "-5", "5-", "a-b", "1e309-2", "0-0", "1-1e20", "-", "NaN-NaN"]).prop_map(String::from),
            1 => (number_text(), number_text()).prop_map(|(a, b)| format!("{a}-{b}")),
        ]
        .boxed();
        let metres =
            prop_oneof![3 => (0.0f64..5000.0).prop_map(|v| v.to_string()), 1 => number_text()]
                .boxed();
        let parts = vec![
            Self::param("system", self.system(), 0.3),
            Self::param(
                "format",
                select(vec!["json", "geojson", "text", "csv", "JSON"])
                    .prop_map(String::from)
                    .boxed(),
                0.4,
            ),
            Self::param("sliver_m2", metres.clone(), 0.3),
            Self::param("households", households, 0.3),
            Self::param("proximity_m", metres.clone(), 0.3),
            Self::param("max_shares", metres, 0.3),
            Self::param("at", self.version_param(), 0.1),
            self.extras(&["format", "households"], self.anything()),
        ];
        ("/api/v1/coverage".into(), concat(parts))
    }

    fn tile(&self) -> BoxedStrategy<HttpCase> {
        let segment = |plausible: BoxedStrategy<String>| {
            prop_oneof![
                10 => plausible,
                1 => number_text().prop_map(|n| encode(&n)),
                1 => text().prop_map(|t| encode(&t)),
                1 => select(vec!["", "-1", "01", "+1", "0x1", "1.5", "4294967296", "%31", "%00", " 1", "..", "31", "255"]).prop_map(encode),
            ]
            .boxed()
        };
        let tiles = Arc::new(self.tiles.clone());
        let zxy = prop_oneof![
            6 => any::<Index>().prop_map(move |i| tiles[i.index(tiles.len())]),
            1 => (0u8..=31, any::<u32>(), any::<u32>()),
            1 => (0u8..=20).prop_flat_map(|z| (Just(z), 0..(1u32 << z), 0..(1u32 << z))),
        ];
        let system = prop_oneof![
            8 => Just(DEMO_SYSTEM.to_string()),
            1 => text().prop_map(|t| encode(&t)),
            1 => select(vec!["", "DEFAULT", "default.json", "%64efault", "..", "default%00"]).prop_map(String::from),
        ];
        let ext = prop_oneof![8 => Just(".mvt"), 1 => select(vec![".pbf", "", ".MVT", ".mvt.gz", ".json", ".png", ".mvt.", "..mvt"])];
        let query = concat(vec![
            Self::param("v", self.version_param(), 0.4),
            Self::param("at", self.version_param(), 0.15),
            Self::param("proposal", self.proposal_param(), 0.15),
            self.extras(&["v", "at", "proposal"], self.anything()),
        ]);
        let version = self.version;
        (
            (system, zxy, ext),
            (
                prop::option::weighted(0.2, segment(Just(String::new()).boxed())),
                prop::option::weighted(0.2, segment(Just(String::new()).boxed())),
                prop::option::weighted(0.2, segment(Just(String::new()).boxed())),
            ),
            query,
            auth(),
            any::<bool>(),
            prop::option::weighted(
                0.1,
                select(vec!["exact", "*", "W/\"x\"", "\"1-default-0-0-0\""]),
            ),
        )
            .prop_map(
                move |((system, (z, x, y), ext), (oz, ox, oy), query, auth, gzip, etag)| {
                    let (z, x, y) = (
                        oz.unwrap_or(z.to_string()),
                        ox.unwrap_or(x.to_string()),
                        oy.unwrap_or(y.to_string()),
                    );
                    let if_none_match = etag.map(|e| {
                        if e == "exact" {
                            format!("\"{version}-{system}-{z}-{x}-{y}\"")
                        } else {
                            e.to_string()
                        }
                    });
                    HttpCase {
                        endpoint: "tiles",
                        path: format!("/tiles/{system}/{z}/{x}/{y}{ext}"),
                        query,
                        auth,
                        gzip,
                        if_none_match,
                    }
                },
            )
            .boxed()
    }

    fn query(&self) -> BoxedStrategy<HttpCase> {
        let fixed = |endpoint: &'static str, (path, params): (String, Params)| {
            (params, auth()).prop_map(move |(query, auth)| HttpCase {
                endpoint,
                path: path.clone(),
                query,
                auth,
                gzip: false,
                if_none_match: None,
            })
        };
        let (items_path, items_params) = self.ogc_items();
        let items = (items_path, items_params, auth()).prop_map(|(path, query, auth)| HttpCase {
            endpoint: "ogc items",
            path,
            query,
            auth,
            gzip: false,
            if_none_match: None,
        });
        prop_oneof![
            3 => fixed("lookup", self.lookup()),
            2 => fixed("grids", self.grids()),
            3 => fixed("search", self.search()),
            2 => items,
            1 => fixed("coverage", self.coverage()),
        ]
        .boxed()
    }
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        6 => Just(Auth::Anonymous),
        1 => Just(Auth::As(Role::Viewer)),
        1 => Just(Auth::As(Role::Editor)),
        1 => Just(Auth::Forged),
    ]
}

/// The parameters of every part, in order.
fn concat(parts: Vec<Params>) -> Params {
    parts.into_iter().fold(Just(vec![]).boxed(), |all, part| {
        (all, part)
            .prop_map(|(mut a, b)| {
                a.extend(b);
                a
            })
            .boxed()
    })
}

impl Target for HttpTarget {
    type Input = HttpCase;

    fn name(&self) -> &'static str {
        match self.kind {
            HttpKind::Tiles => "http_tiles",
            HttpKind::Queries => "http_queries",
        }
    }

    fn inputs(&self) -> BoxedStrategy<HttpCase> {
        match self.kind {
            HttpKind::Tiles => self.world.tile(),
            HttpKind::Queries => self.world.query(),
        }
    }

    fn run(&self, case: &HttpCase) -> Result<Outcome, Broken> {
        let world = &self.world;
        let uri = case.uri();
        let authorization = match case.auth {
            Auth::Anonymous => None,
            Auth::As(role) => Some(format!("Bearer {}", world.editors.token(role))),
            Auth::Forged => Some("Bearer gm_0000000000000000".to_string()),
        };
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &authorization {
            headers.push(("authorization", a));
        }
        if case.gzip {
            headers.push(("accept-encoding", "gzip"));
        }
        if let Some(etag) = &case.if_none_match {
            headers.push(("if-none-match", etag));
        }
        let reply = world
            .runtime
            .block_on(get_with(&world.editors.state, &uri, &headers));
        let status = reply.status.as_u16();
        // `accept-encoding: gzip` gets error bodies compressed too.
        let body = if reply
            .headers
            .get("content-encoding")
            .is_some_and(|e| e == "gzip")
        {
            let mut text = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&reply.body[..]),
                &mut text,
            )
            .map(|_| text)
            .unwrap_or_default()
        } else {
            reply.body.clone()
        };
        let excerpt = || String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
        if status >= 500 {
            return Err(Broken {
                signature: format!("{status} from {}", case.endpoint),
                detail: format!("GET {uri} answered {status}: {}", excerpt()),
            });
        }
        if status >= 400 {
            let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let error = &answer["error"];
            let said = |key: &str| error[key].as_str().is_some_and(|s| !s.trim().is_empty());
            if !(said("code") && said("message")) {
                return Err(Broken {
                    signature: format!("{status} without a JSON error from {}", case.endpoint),
                    detail: format!("GET {uri} answered {status}: {}", excerpt()),
                });
            }
            return Ok(Outcome::Refused);
        }
        Ok(Outcome::Accepted)
    }

    fn save(&self, case: &HttpCase, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut request = format!("GET {} HTTP/1.1\n", case.uri());
        match case.auth {
            Auth::Anonymous => {}
            Auth::As(role) => {
                request.push_str(&format!("authorization: Bearer <a {role} token>\n"));
            }
            Auth::Forged => request.push_str("authorization: Bearer gm_0000000000000000\n"),
        }
        if case.gzip {
            request.push_str("accept-encoding: gzip\n");
        }
        if let Some(etag) = &case.if_none_match {
            request.push_str(&format!("if-none-match: {etag}\n"));
        }
        request.push_str("\n(against the 200-block demo city, seed 1, with one published change and one draft)\n");
        Ok(vec![write_note(dir, &request)?])
    }

    fn bytes(&self, case: &HttpCase) -> Option<Vec<u8>> {
        Some(case.uri().into_bytes())
    }

    fn stack_size(&self) -> usize {
        // Handlers run on the runtime's worker threads.
        2 << 20
    }
}
