#!/usr/bin/env python3
"""Load and abuse tests of `gridmap serve` on loopback, bounded.

Usage:
    python3 scripts/abuse.py --gridmap target/release/gridmap [--blocks 1200]
        [--seconds 20] [--scale 1] [--work DIR] [--no-tiles]

Builds the demo city, starts `gridmap serve` on a free loopback port with
modest limits (so the protections act within a few seconds), measures a
baseline, then runs the attacks one after another:

  1. slowloris: K×300 connections sending one header byte a second;
  2. idle: K×400 connections opened and left silent;
  3. stalled bodies: K×30 `POST /api/v1/assign` declaring 16,000,000 bytes
     that send 1 KB and stop;
  4. coverage: K×32 concurrent `GET /api/v1/coverage` with option values
     never asked before, repeated;
  5. burst: bursts of K×2000 lookups from one client, one after another
     (the rate limit answers 429);
  6. tiles: uncached z14–z16 tiles over the city from K×16 clients
     (skip with --no-tiles);
  7. with --over-cap only: 1.25 × --max-connections idle connections from
     one client (not scaled).

The connection attacks (1–3) keep their number of connections open for the
whole attack, opening a new one whenever the server closes one. Every
attack runs in a process of its own, so it cannot slow the probe down
through the interpreter lock. The probe sends `/health` and a lookup every
20 ms each, on fresh connections; its lookups come from loopback addresses
of their own (127.0.1.x), as distinct clients would, so the burst's rate
limit is not theirs.

The run fails (exit 1) when the server dies, when a probe request fails
during an attack or in the 5 s after it, when the probe's p99 for `/health`
or lookups reaches 100 ms during an attack, or when the server's RSS 5 s
after an attack exceeds 1.5 × baseline + 50 MB. It warns (without failing)
when the server closes attack connections later than the timeout meant for
them, or counts fewer of them in `gridmap_rejected_total` than it closed.
Python 3 standard library
only; Linux (reads /proc/PID/status, binds 127.0.1.x).
"""

import argparse
import collections
import errno
import http.client
import json
import math
import multiprocessing
import os
import random
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROBE_PERIOD_S = 0.020
PROBE_TIMEOUT_S = 5.0
P99_LIMIT_MS = 100.0
AFTER_S = 5.0
LOOKUP_SOURCES = [f"127.0.1.{i}" for i in range(1, 51)]
HEALTH_SOURCE = "127.0.2.1"
ATTACK_SOURCE = "127.0.0.1"

# Modest limits: the watchdog and the slots act within seconds.
HEADER_TIMEOUT_S, IDLE_TIMEOUT_S, BODY_TIMEOUT_S = 2, 3, 2
MAX_CONNECTIONS = 512
CLOSE_SLACK_S = 0.5
SERVER_LIMITS = [
    "--max-connections", str(MAX_CONNECTIONS),
    "--header-timeout", str(HEADER_TIMEOUT_S),
    "--idle-timeout", str(IDLE_TIMEOUT_S),
    "--body-timeout", str(BODY_TIMEOUT_S),
    "--request-timeout", "10",
    "--busy-wait", "2",
    "--tile-cache-mb", "64",
]


# ---------------------------------------------------------------- helpers

def now():
    return time.monotonic()


def percentile(values, q):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def fmt_ms(v):
    return "-" if v is None else f"{v:.1f}"


def fmt_s(v):
    return "-" if v is None else f"{v:.2f}"


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def request(addr, method, path, body=None, headers=None, source=None,
            timeout=PROBE_TIMEOUT_S, conn=None):
    """One request; returns (status, headers dict, body bytes). A given
    `conn` is reused (keep-alive), else a fresh connection is made and closed."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(
            addr[0], addr[1], timeout=timeout,
            source_address=(source, 0) if source else None)
    h = {"Connection": "close"} if own else {}
    h.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            conn.close()


def get_json(addr, path):
    status, _, body = request(addr, "GET", path, timeout=30)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


def scrape(addr):
    """From /metrics (OpenMetrics text): gridmap_rejected_total by reason,
    and the bytes the tile cache holds (None when not reported)."""
    status, _, body = request(addr, "GET", "/metrics", timeout=10)
    rejected, tile_cache = {}, None
    if status != 200:
        return rejected, tile_cache
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("gridmap_rejected_total{"):
            labels, _, value = line.rpartition(" ")
            reason = labels.split('reason="', 1)[1].split('"', 1)[0]
            rejected[reason] = rejected.get(reason, 0) + float(value)
        elif line.startswith("gridmap_tile_cache_bytes "):
            tile_cache = float(line.split()[1])
    return rejected, tile_cache


def tiles_over(bbox, zooms):
    def xy(lon, lat, z):
        n = 2 ** z
        lat = max(min(lat, 85.05), -85.05)
        x = int((lon + 180.0) / 360.0 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
    out = []
    for z in zooms:
        x0, y0 = xy(bbox[0], bbox[3], z)
        x1, y1 = xy(bbox[2], bbox[1], z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


# ------------------------------------------------------------------ probe

class Probe:
    """`/health` and lookups every 20 ms on fresh connections, and the
    server's RSS every 100 ms, for the whole run."""

    def __init__(self, addr, pid, lookup_paths):
        self.addr, self.pid, self.lookup_paths = addr, pid, lookup_paths
        self.lock = threading.Lock()
        self.samples = {"health": [], "lookup": []}  # (t, ms, error or None)
        self.rss = []  # (t, kB)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=("health",), daemon=True),
            threading.Thread(target=self._loop, args=("lookup",), daemon=True),
            threading.Thread(target=self._rss, daemon=True),
        ]

    def start(self):
        for t in self.threads:
            t.start()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=PROBE_TIMEOUT_S + 1)

    def _loop(self, what):
        i = 0
        nxt = now()
        while not self.stop.is_set():
            if what == "health":
                path, source = "/health", HEALTH_SOURCE
            else:
                path = self.lookup_paths[i % len(self.lookup_paths)]
                source = LOOKUP_SOURCES[i % len(LOOKUP_SOURCES)]
            i += 1
            t0 = now()
            err = None
            try:
                status, _, _ = request(self.addr, "GET", path, source=source)
                if status != 200:
                    err = f"status {status}"
            except Exception as e:  # noqa: BLE001 — every failure counts
                err = f"{type(e).__name__}: {e}"
            ms = (now() - t0) * 1000.0
            with self.lock:
                self.samples[what].append((t0, ms, err))
            nxt += PROBE_PERIOD_S
            delay = nxt - now()
            if delay > 0:
                self.stop.wait(delay)
            else:
                nxt = now()  # late: skip the missed ticks, never pile up

    def _rss(self):
        while not self.stop.is_set():
            kb = rss_kb(self.pid)
            if kb is not None:
                with self.lock:
                    self.rss.append((now(), kb))
            self.stop.wait(0.1)

    def window(self, t0, t1):
        """Probe figures for requests started in [t0, t1]."""
        with self.lock:
            out = {}
            for what, samples in self.samples.items():
                got = [s for s in samples if t0 <= s[0] <= t1]
                ms_all = [ms for _, ms, _ in got]
                errors = [e for _, _, e in got if e is not None]
                out[what] = {
                    "n": len(got),
                    "p50": percentile(ms_all, 50),
                    "p99": percentile(ms_all, 99),
                    "max": max(ms_all, default=None),
                    "failures": len(errors),
                    "errors": collections.Counter(errors).most_common(3),
                }
            rss = [kb for t, kb in self.rss if t0 <= t <= t1]
            out["rss_peak_kb"] = max(rss, default=None)
            return out


# ---------------------------------------------------------------- attacks
# Each runs in a child process and returns a dict of what it saw.

SLOW_HEAD = (b"GET /health HTTP/1.1\r\nHost: gridmap\r\nUser-Agent: slowloris\r\n"
             + b"".join(b"X-Slow-%d: %s\r\n" % (i, b"a" * 40) for i in range(200)))


def _status_of(data):
    if data.startswith(b"HTTP/1.") and len(data) >= 12:
        try:
            return int(data[9:12])
        except ValueError:
            return None
    return None


def attack_hold(addr, kind, n, seconds):
    """Keeps `n` connections of `kind` (slowloris, idle, stalled) open for
    `seconds`, replacing each one the server closes."""
    sel = selectors.DefaultSelector()
    conns = {}
    st = {
        "opened": 0, "closed_by_server": 0, "close_after_s": [],
        "answered_after_s": [], "statuses": collections.Counter(),
        "connect_errors": collections.Counter(), "still_open_at_end": 0,
        "max_open": 0,
    }
    stalled_head = (
        "POST /api/v1/assign HTTP/1.1\r\nHost: gridmap\r\n"
        "Content-Type: text/csv\r\nContent-Length: 16000000\r\n\r\n"
    ).encode()
    stalled_body = b"id,lon,lat\r\n" + b"x" * (1024 - 12)

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((ATTACK_SOURCE, 0))
        s.settimeout(2.0)
        try:
            s.connect(addr)
        except OSError as e:
            st["connect_errors"][errno.errorcode.get(e.errno, str(e))] += 1
            s.close()
            return
        t = now()
        c = {"opened": t, "sent": 0, "next": t, "answered": None, "buf": b""}
        try:
            if kind == "stalled":
                s.sendall(stalled_head + stalled_body)
        except OSError:
            s.close()
            st["connect_errors"]["send"] += 1
            return
        s.setblocking(False)
        conns[s] = c
        sel.register(s, selectors.EVENT_READ)
        st["opened"] += 1

    def closed(s, t):
        c = conns.pop(s)
        sel.unregister(s)
        s.close()
        st["closed_by_server"] += 1
        st["close_after_s"].append(t - c["opened"])
        if c["answered"] is not None:
            st["answered_after_s"].append(c["answered"] - c["opened"])
        st["statuses"][_status_of(c["buf"]) or "none"] += 1

    t_start = now()
    end = t_start + seconds
    while True:
        t = now()
        if t >= end:
            break
        # Top up, at most n new connections per round.
        for _ in range(n - len(conns)):
            open_one()
        st["max_open"] = max(st["max_open"], len(conns))
        if kind == "slowloris":
            for s, c in list(conns.items()):
                if c["next"] <= t and c["sent"] < len(SLOW_HEAD):
                    try:
                        s.send(SLOW_HEAD[c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                        c["next"] = t + 1.0
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        closed(s, t)
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            c = conns.get(s)
            if c is None:
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            t = now()
            if data:
                if c["answered"] is None:
                    c["answered"] = t
                c["buf"] = (c["buf"] + data)[:4096]
            else:
                closed(s, t)
    st["still_open_at_end"] = len(conns)
    for s in list(conns):
        sel.unregister(s)
        s.close()
    conns.clear()
    st["t_start"], st["t_end"] = t_start, now()
    st["statuses"] = dict(st["statuses"])
    st["connect_errors"] = dict(st["connect_errors"])
    return st


def _clients(n, seconds, work):
    """Runs `work(i, deadline)` on n threads until the deadline; each returns
    a list of (status, retry_after or None, ms) it saw."""
    results = []
    lock = threading.Lock()
    t_start = now()
    deadline = t_start + seconds

    def run(i):
        got = work(i, deadline)
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, t_start, now()


def _summarise(results, t_start, t_end):
    statuses = collections.Counter(str(s) for s, _, _ in results)
    retry = collections.Counter(str(s) for s, ra, _ in results if ra is not None)
    ms = [m for _, _, m in results]
    return {
        "requests": len(results), "statuses": dict(statuses),
        "with_retry_after": dict(retry),
        "latency_ms_p50": percentile(ms, 50), "latency_ms_max": max(ms, default=None),
        "t_start": t_start, "t_end": t_end,
    }


def attack_coverage(addr, n, seconds):
    counter = iter(range(10 ** 9))
    lock = threading.Lock()

    def work(i, deadline):
        got = []
        while now() < deadline:
            with lock:
                k = next(counter)
            # Every request asks for option values never asked before.
            path = (f"/api/v1/coverage?sliver_m2={1 + k * 0.001:.3f}"
                    f"&proximity_m={150 + k % 97}&max_shares={1.2 + (k % 7) * 0.1:.1f}")
            t0 = now()
            try:
                status, h, _ = request(addr, "GET", path, source=ATTACK_SOURCE, timeout=60)
                got.append((status, h.get("retry-after"), (now() - t0) * 1000))
            except Exception as e:  # noqa: BLE001
                got.append((type(e).__name__, None, (now() - t0) * 1000))
        return got

    return _summarise(*_clients(n, seconds, work))


def attack_burst(addr, total, seconds, lookup_paths, threads=8):
    """Bursts of `total` lookups as fast as `threads` keep-alive connections
    send them, one burst after another until `seconds` have passed."""
    counter = iter(range(10 ** 9))
    lock = threading.Lock()
    bursts, stop = [0], [False]
    t_start = now()

    def work(i, deadline):
        got = []
        conn = None
        while True:
            with lock:
                k = next(counter)
                if k % total == 0:
                    if now() >= deadline:
                        stop[0] = True
                    else:
                        bursts[0] += 1
                if stop[0]:
                    break
            conn = timed_get(addr, conn, lookup_paths[k % len(lookup_paths)], got, timeout=30)
        if conn is not None:
            conn.close()
        return got

    out = _summarise(*_clients(threads, seconds, work))
    out["bursts"] = bursts[0]
    out["t_start"] = t_start
    return out


def timed_get(addr, conn, path, got, timeout):
    """GET `path` on the attacker's keep-alive connection (opened when None):
    appends (status or error name, Retry-After, ms) to `got` and returns the
    connection to reuse, or None when it was closed."""
    if conn is None:
        conn = http.client.HTTPConnection(
            addr[0], addr[1], timeout=timeout, source_address=(ATTACK_SOURCE, 0))
    t0 = now()
    try:
        status, h, _ = request(addr, "GET", path, conn=conn)
        got.append((status, h.get("retry-after"), (now() - t0) * 1000))
        if h.get("connection", "").lower() == "close":
            conn.close()
            return None
        return conn
    except Exception as e:  # noqa: BLE001
        got.append((type(e).__name__, None, (now() - t0) * 1000))
        conn.close()
        return None


def attack_tiles(addr, n, seconds, tiles):
    counter = iter(range(len(tiles)))
    lock = threading.Lock()

    def work(i, deadline):
        got = []
        conn = None
        while now() < deadline:
            with lock:
                k = next(counter, None)
            if k is None:
                break
            z, x, y = tiles[k]
            conn = timed_get(addr, conn, f"/tiles/default/{z}/{x}/{y}.mvt", got, timeout=60)
        if conn is not None:
            conn.close()
        return got

    out = _summarise(*_clients(n, seconds, work))
    out["distinct_tiles"] = len(tiles)
    return out


def _child(conn, name, args):
    try:
        fn = {"hold": attack_hold, "coverage": attack_coverage,
              "burst": attack_burst, "tiles": attack_tiles}[name]
        conn.send(("ok", fn(*args)))
    except Exception as e:  # noqa: BLE001
        conn.send(("error", f"{type(e).__name__}: {e}"))
    conn.close()


def run_in_child(name, args, timeout):
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, name, args))
    p.start()
    child.close()
    result = None
    if parent.poll(timeout):
        result = parent.recv()
    p.join(5)
    if p.is_alive():
        p.kill()
        p.join()
    if result is None:
        return {"error": "the attack process gave no result"}
    kind, value = result
    return value if kind == "ok" else {"error": value}


# ------------------------------------------------------------------- main

def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check_sources():
    for src in (LOOKUP_SOURCES[0], HEALTH_SOURCE):
        s = socket.socket()
        try:
            s.bind((src, 0))
        except OSError as e:
            sys.exit(f"cannot bind {src} ({e}): the probe needs the loopback "
                     "range 127.0.0.0/8 (Linux has it)")
        finally:
            s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gridmap", required=True, help="the gridmap binary (release build)")
    ap.add_argument("--blocks", type=int, default=1200, help="demo city size (default 1200)")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per attack (default 20)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplier of the attack sizes (default 1; past 1.28 the idle attack "
                         "exceeds --max-connections 512)")
    ap.add_argument("--work", help="working directory (default: a new temporary one, removed after)")
    ap.add_argument("--no-tiles", action="store_true", help="skip the uncached tile flood")
    ap.add_argument("--over-cap", action="store_true",
                    help="also hold 1.25 × --max-connections idle connections from one client "
                         "(shows what a connection cap without a per-client share allows)")
    a = ap.parse_args()

    K = a.scale
    size = lambda base: max(1, int(round(base * K)))  # noqa: E731
    plan = [
        ("slowloris", "hold", size(300), "slowloris"),
        ("idle", "hold", size(400), "idle"),
        ("stalled bodies", "hold", size(30), "stalled"),
        ("coverage options", "coverage", size(32), None),
        ("lookup burst", "burst", size(2000), None),
    ]
    if not a.no_tiles:
        plan.append(("tile flood", "tiles", size(16), None))
    if a.over_cap:
        plan.append(("idle over the cap", "hold", MAX_CONNECTIONS * 5 // 4, "idle"))

    check_sources()
    for name, kind, n, _ in plan:
        if kind == "hold" and n >= MAX_CONNECTIONS and name != "idle over the cap":
            print(f"note: {name} holds {n} connections, at or past --max-connections {MAX_CONNECTIONS}: "
                  "the probe then waits in the accept queue")
    need = max(n for _, _, n, _ in plan) + 1024
    soft, hard = raise_nofile(need)
    print(f"open files: soft {soft}, hard {hard} (the server inherits the soft limit; "
          f"it needs more than --max-connections 512)")
    if soft < need:
        print(f"warning: the soft limit is below the {need} this run wants; raise `ulimit -n`")

    work = a.work or tempfile.mkdtemp(prefix="gridmap-abuse-")
    os.makedirs(work, exist_ok=True)
    demo = os.path.join(work, "demo.gpkg")
    t_run = now()
    print(f"demo city: {a.blocks} blocks")
    subprocess.run([a.gridmap, "demo", "--out", demo, "--blocks", str(a.blocks), "--force"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    addr = ("127.0.0.1", port)
    cmd = [a.gridmap, "serve", "--db", demo, "--listen", f"127.0.0.1:{port}"] + SERVER_LIMITS
    print("server: gridmap serve --listen 127.0.0.1:PORT " + " ".join(SERVER_LIMITS))
    log = open(os.path.join(work, "serve.log"), "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=log)
    code = 1
    try:
        code = run(a, addr, server, plan)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"server log: {os.path.join(work, 'serve.log')}")
    print(f"total time {now() - t_run:.0f} s")
    sys.exit(code)


def run(a, addr, server, plan):
    deadline = now() + 60
    while True:
        if server.poll() is not None:
            print(f"FAIL: the server exited at start (status {server.returncode})")
            return 1
        try:
            if request(addr, "GET", "/health", timeout=1)[0] == 200:
                break
        except OSError:
            pass
        if now() > deadline:
            print("FAIL: /health did not answer within 60 s")
            return 1
        time.sleep(0.1)

    # Lookup points: centres of block bboxes that a lookup answers.
    grids = get_json(addr, "/api/v1/grids?level=block&limit=50")["grids"]
    lookup_paths = []
    for g in grids:
        b = g["bbox"]
        path = f"/api/v1/lookup?lon={(b[0] + b[2]) / 2:.6f}&lat={(b[1] + b[3]) / 2:.6f}"
        if request(addr, "GET", path, source=LOOKUP_SOURCES[len(lookup_paths) % 50])[0] == 200:
            lookup_paths.append(path)
    if not lookup_paths:
        print("FAIL: no lookup point inside the demo city answered")
        return 1
    try:
        city = get_json(addr, "/tiles/default.json")["bounds"]
    except Exception:  # noqa: BLE001
        bbs = [g["bbox"] for g in get_json(addr, "/api/v1/grids?level=street&limit=1000")["grids"]]
        city = [min(b[0] for b in bbs), min(b[1] for b in bbs),
                max(b[2] for b in bbs), max(b[3] for b in bbs)]

    probe = Probe(addr, server.pid, lookup_paths)
    probe.start()
    # Warm-up (indexes built on first use), then the baseline.
    time.sleep(1.0)
    t0 = now()
    time.sleep(min(a.seconds, 5.0))
    base = probe.window(t0, now())
    base_rss = percentile([kb for t, kb in probe.rss if t >= t0], 50)
    rows = [("baseline", "-", base, base_rss, base["rss_peak_kb"], base_rss, "")]
    failures, warnings = [], []
    rej_before, _ = scrape(addr)
    print(f"baseline: RSS {base_rss / 1024:.0f} MB; {len(lookup_paths)} lookup points; "
          f"city bbox {', '.join(f'{v:.3f}' for v in city)}")

    for name, kind, n, mode in plan:
        if kind == "hold":
            args = (addr, mode, n, a.seconds)
            what = f"{n} connections"
        elif kind == "coverage":
            args = (addr, n, a.seconds)
            what = f"{n} concurrent clients"
        elif kind == "burst":
            args = (addr, n, a.seconds, lookup_paths)
            what = f"bursts of {n} lookups from one client"
        else:
            tiles = tiles_over(city, (14, 15, 16))
            random.Random(1).shuffle(tiles)
            args = (addr, n, a.seconds, tiles)
            what = f"{n} clients over {len(tiles)} distinct tiles"
        print(f"\n== {name}: {what}, {a.seconds:g} s")
        t_launch = now()
        res = run_in_child(kind, args, timeout=a.seconds + 600)
        t1 = res.get("t_start", t_launch)
        t2 = res.get("t_end", now())
        during = probe.window(t1, t2)
        time.sleep(AFTER_S)
        after_w = probe.window(t2, now())
        after_rss = rss_kb(server.pid)
        alive = server.poll() is None
        rej_after, tile_cache = scrape(addr) if alive else (rej_before, None)
        delta = {k: int(v - rej_before.get(k, 0)) for k, v in rej_after.items()
                 if v - rej_before.get(k, 0)}
        rej_before = rej_after
        peak = max(filter(None, [during["rss_peak_kb"], after_w["rss_peak_kb"]]), default=None)

        # What the attack saw.
        notes = []
        closed = "-"
        if "error" in res:
            notes.append(f"attack error: {res['error']}")
        elif kind == "hold":
            ca = res["close_after_s"]
            closed = (f"{res['closed_by_server']} of {res['opened']} ({res['still_open_at_end']} open at end), "
                      f"after {fmt_s(percentile(ca, 50))} s (max {fmt_s(max(ca, default=None))})")
            print(f"   opened {res['opened']}, closed by the server {res['closed_by_server']} "
                  f"(after p50 {fmt_s(percentile(ca, 50))} s, min {fmt_s(min(ca, default=None))}, "
                  f"max {fmt_s(max(ca, default=None))}), still open at the end {res['still_open_at_end']}, "
                  f"most open at once {res['max_open']}")
            if res["answered_after_s"]:
                aa = res["answered_after_s"]
                print(f"   answered before closing: {len(aa)} (after p50 {fmt_s(percentile(aa, 50))} s, "
                      f"max {fmt_s(max(aa))})")
            print(f"   statuses received: {res['statuses']}; connect errors: {res['connect_errors'] or 'none'}")
            notes.append("statuses " + ", ".join(f"{k}×{v}" for k, v in sorted(res["statuses"].items(), key=str)))
            if res["connect_errors"]:
                notes.append(f"connect errors {res['connect_errors']}")
            # What the watchdog was to do: close within its timeout, counted by reason.
            limit_s, reason = {"slowloris": (HEADER_TIMEOUT_S, "header_timeout"),
                               "idle": (IDLE_TIMEOUT_S, "idle_timeout"),
                               "stalled": (BODY_TIMEOUT_S, "timeout")}[mode]
            late = [x for x in ca if x > limit_s + CLOSE_SLACK_S]
            if late:
                warnings.append(f"{name}: {len(late)} of {len(ca)} connections closed later than the "
                                f"{limit_s} s timeout (p50 {fmt_s(percentile(ca, 50))} s, max {fmt_s(max(ca))} s)")
                notes.append(f"{len(late)} closed after > {limit_s} s")
            if not ca and res["opened"]:
                warnings.append(f"{name}: the server closed none of {res['opened']} connections")
        else:
            dur = res["t_end"] - res["t_start"]
            print(f"   {res['requests']} requests in {dur:.1f} s; statuses {res['statuses']}; "
                  f"with Retry-After {res['with_retry_after'] or 'none'}; latency p50 "
                  f"{fmt_ms(res['latency_ms_p50'])} ms, max {fmt_ms(res['latency_ms_max'])} ms")
            notes.append(f"{res['requests']} req in {dur:.1f} s: " +
                         ", ".join(f"{k}×{v}" for k, v in sorted(res["statuses"].items())))
            ra = sum(res["with_retry_after"].values())
            if ra:
                notes.append(f"Retry-After on {ra}")
            if kind == "tiles":
                notes.append(f"of {res['distinct_tiles']} tiles"
                             + (", all asked" if res["requests"] >= res["distinct_tiles"] else ""))
            if kind == "burst":
                notes.append(f"{res['bursts']} bursts")
        print(f"   gridmap_rejected_total during the attack: {delta or 'none'}; "
              f"totals: { {k: int(v) for k, v in rej_after.items()} or 'none'}")
        if delta:
            notes.append("rejected " + ", ".join(f"{k}+{v}" for k, v in sorted(delta.items())))
        if kind == "hold" and "error" not in res and delta.get(reason, 0) < res["closed_by_server"]:
            warnings.append(f"{name}: the server closed {res['closed_by_server']} connections but "
                            f"gridmap_rejected_total{{reason=\"{reason}\"}} rose by {delta.get(reason, 0)}")

        # Judgement.
        for what in ("health", "lookup"):
            d = during[what]
            print(f"   probe {what}: {d['n']} requests, p50 {fmt_ms(d['p50'])} ms, p99 {fmt_ms(d['p99'])} ms, "
                  f"max {fmt_ms(d['max'])} ms, failures {d['failures']} {d['errors'] or ''}; "
                  f"after: failures {after_w[what]['failures']}, max {fmt_ms(after_w[what]['max'])} ms")
            if d["failures"]:
                failures.append(f"{name}: {d['failures']} {what} probe failures during the attack {d['errors']}")
                notes.append(f"{d['failures']} {what} probe failures")
            if after_w[what]["failures"]:
                failures.append(f"{name}: {after_w[what]['failures']} {what} probe failures after the attack "
                                f"{after_w[what]['errors']}")
                notes.append(f"{after_w[what]['failures']} {what} probe failures after")
            if d["p99"] is not None and d["p99"] >= P99_LIMIT_MS:
                failures.append(f"{name}: {what} probe p99 {d['p99']:.1f} ms ≥ {P99_LIMIT_MS:.0f} ms")
            if d["n"] == 0:
                notes.append(f"no {what} probe ran")
        limit_kb = 1.5 * base_rss + 50 * 1024
        print(f"   RSS: baseline {base_rss / 1024:.0f} MB, peak {(peak or 0) / 1024:.0f} MB, "
              f"{AFTER_S:g} s after {(after_rss or 0) / 1024:.0f} MB (limit {limit_kb / 1024:.0f} MB); "
              f"the tile cache holds {'-' if tile_cache is None else f'{tile_cache / 2**20:.1f}'} MB")
        if not alive:
            failures.append(f"{name}: the server died (status {server.returncode})")
            notes.append("SERVER DIED")
        elif after_rss is not None and after_rss > limit_kb:
            failures.append(f"{name}: RSS {after_rss / 1024:.0f} MB {AFTER_S:g} s after the attack "
                            f"> 1.5 × baseline + 50 MB = {limit_kb / 1024:.0f} MB")
        rows.append((name, closed, during, base_rss, peak, after_rss, "; ".join(notes)))
        if not alive:
            break

    probe.close()
    print_table(rows)
    if warnings:
        print("\nWARN (not failing the run):")
        for w in warnings:
            print(f"  - {w}")
    if failures:
        print("\nFAIL:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"\nPASS: every probe answered, p99 < {P99_LIMIT_MS:.0f} ms during every attack, "
          "memory back within 1.5 × baseline + 50 MB")
    return 0


def print_table(rows):
    mb = lambda kb: "-" if kb is None else f"{kb / 1024:.0f}"  # noqa: E731
    head = ["attack", "closed by server", "health p50/p99/max ms", "lookup p50/p99/max ms",
            "RSS MB base/peak/after", "notes"]
    lines = []
    for name, closed, w, base, peak, after, notes in rows:
        h, l = w["health"], w["lookup"]
        lines.append([
            name, closed,
            f"{fmt_ms(h['p50'])}/{fmt_ms(h['p99'])}/{fmt_ms(h['max'])}",
            f"{fmt_ms(l['p50'])}/{fmt_ms(l['p99'])}/{fmt_ms(l['max'])}",
            f"{mb(base)}/{mb(peak)}/{mb(after)}", notes,
        ])
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for line in lines:
        print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
