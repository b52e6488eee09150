//! Helpers shared by the binary's end-to-end tests (`mod common;` in each).
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `gridmap` binary with quiet logs and no store from the environment.
pub fn gridmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("GRIDMAP_DB")
        .output()
        .expect("run gridmap")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Asserts that a run succeeded, showing its stderr when it did not.
pub fn assert_success(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn gridmap_then(args: &[&str], extra: &[&str]) -> Output {
    let all: Vec<&str> = args.iter().chain(extra).copied().collect();
    gridmap(&all)
}

/// `gridmap import grids FILE --db DB`, then the `extra` flags.
pub fn import_grids(file: &Path, db: &Path, extra: &[&str]) -> Output {
    gridmap_then(&["import", "grids", arg(file), "--db", arg(db)], extra)
}

/// `gridmap import workers FILE --db DB`.
pub fn import_workers(file: &Path, db: &Path) -> Output {
    gridmap(&["import", "workers", arg(file), "--db", arg(db)])
}

/// `gridmap assign INPUT --db DB --out OUT`, then the `extra` flags.
pub fn assign(input: &Path, db: &Path, out: &Path, extra: &[&str]) -> Output {
    gridmap_then(
        &["assign", arg(input), "--db", arg(db), "--out", arg(out)],
        extra,
    )
}

/// `gridmap check --db DB`, then the `extra` flags.
pub fn check(db: &Path, extra: &[&str]) -> Output {
    gridmap_then(&["check", "--db", arg(db)], extra)
}

/// [`SQUARES`] written to `dir/grids.geojson` and imported (with the
/// `extra` flags) into a new store `dir/s.gpkg`, whose path is returned.
pub fn squares_store(dir: &Path, extra: &[&str]) -> PathBuf {
    let grids = dir.join("grids.geojson");
    write(&grids, SQUARES);
    let db = dir.join("s.gpkg");
    assert_success(&import_grids(&grids, &db, extra));
    db
}

/// A street split into a west and an east community along x = 120.1.
pub const SQUARES: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"330106001","name":"文新街道","level":"street","parent":null},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.2,30.0],[120.2,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"330106001001","name":"西社区","level":"community","parent":"330106001"},
  "geometry":{"type":"Polygon","coordinates":[[[120.0,30.0],[120.1,30.0],[120.1,30.1],[120.0,30.1],[120.0,30.0]]]}},
 {"type":"Feature","properties":{"code":"330106001002","name":"东社区","level":"community","parent":"330106001"},
  "geometry":{"type":"Polygon","coordinates":[[[120.1,30.0],[120.2,30.0],[120.2,30.1],[120.1,30.1],[120.1,30.0]]]}}
]}"#;

/// A `gridmap serve` process on a free loopback port, killed when dropped.
pub struct Server {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
    /// Every line the server logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Serves `db` with the `extra` flags (e.g. small timeouts).
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_gridmap"))
            .args(["serve", "--db", arg(db), "--listen", "127.0.0.1:0"])
            .args(["--reload-interval", "60", "--rate-limit", "0"])
            .args(extra)
            .env("RUST_LOG", "info")
            .env_remove("GRIDMAP_DB")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start gridmap serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        // Drains the log for the whole run, so the server never blocks on it.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(at) = line.find("gridmap serving on http://") {
                    let addr = line[at + "gridmap serving on http://".len()..]
                        .trim()
                        .to_string();
                    let _ = tx.send(addr);
                }
                lines.lock().expect("log lock").push(line);
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(a) => a.parse().expect("a socket address in the log"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start: {:?}",
                    log.lock().expect("log lock")
                );
            }
        };
        Server { child, addr, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        self.child.wait().expect("wait for the server")
    }

    /// Whether the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("poll the server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                text(&self.body)
            )
        })
    }

    /// A response header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `request` as it is to a new connection and reads the answer to
/// the end of the connection (send `Connection: close`).
pub fn raw(addr: std::net::SocketAddr, request: &[u8]) -> RawReply {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("set a read timeout");
    s.write_all(request).expect("send the request");
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    parse_reply(&all)
}

/// The status, head and (de-chunked) body of one HTTP/1.1 response.
pub fn parse_reply(all: &[u8]) -> RawReply {
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", text(all)));
    let head = text(&all[..split]);
    let mut body = all[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    let reply = RawReply {
        status,
        head,
        body: Vec::new(),
    };
    if reply
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(text(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = out;
    }
    RawReply { body, ..reply }
}
