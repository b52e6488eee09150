#!/usr/bin/env python3
"""Crash loop: SIGKILL `gridmap import` and a publish at random moments and
check that the store stays whole and all-or-nothing.

Usage:
    python3 scripts/crash_loop.py --gridmap target/release/gridmap
        [--runs 50] [--seed 1] [--work DIR] [--blocks 2000]
        [--loops import,publish] [--first 0] [--keep]

Builds nothing: --gridmap is the binary to test. Everything happens in
--work (default: a new temporary folder, removed afterwards unless a run
failed or --keep is given).

Setup: `gridmap demo --blocks B` makes the base store; from it come three
imports, each measured once by an uninterrupted run that also makes its
reference store:

  grids  every block exported (`gridmap export grids`), renamed and given a
         new attribute, imported back into `default` (merge by code);
  sites  every address exported (`gridmap export sites`), renamed with
         households changed, imported back (`import sites`, upsert by id);
  admin  the Zhejiang fixture imported into a new system `admin`.

Import loop, --runs times: copy the base store, start one of the imports
(in turn) into it, SIGKILL it after a random delay between 0 and that
import's measured duration — every other run between the start and the
end of its writing stage (the one transaction, as the measured run logged
it), so that many kills land around the commit — then check:

  * `PRAGMA integrity_check` is ok, `PRAGMA foreign_key_check` is empty,
    and each R-tree index passes `rtreecheck` and indexes exactly the
    table's rows with a geometry;
  * the store is exactly the base (same data_version, same content of
    gridmap_meta, grid_systems, grids, workers, worker_grids, sites,
    gridmap_history, gpkg_contents and gridmap_accounts, timestamps aside)
    or exactly the reference after the import — nothing in between; an
    import that exited by itself before the kill must have landed;
  * `gridmap check --fail-on-problems --format json` exits 0 or 2 (1 is an
    error) with the very report the matching reference gets;
  * `gridmap serve` opens the store: `/health` answers 200, status ok, the
    data version found; `/api/v1/grids?limit=1&system=S` answers each
    system's grid count; it stops on SIGTERM; and the content is still
    the same afterwards.

The checks of the file itself run on a copy taken before gridmap opens
it, so it is gridmap that recovers the store as the crash left it.

Publish loop, --runs times: the setup makes an editor and an approver
(`gridmap user add`), starts `gridmap serve`, drafts a proposal renaming
some blocks and moving a vertex shared by several blocks (found from
`GET /api/v1/grids/{code}`), submits it and stops the server; that store
is the state before, and one uninterrupted publish (timed) gives the
state after. Each run copies the submitted store, starts `serve`, sends
the publish and SIGKILLs the server at a random moment within the measured
duration (every other run within twice the time the server took to commit,
as the measured publish answered it), then checks the file as above (before or after, and
`gridmap_history` has a row for the new version iff the change is there),
`gridmap check`, restarts `serve`: `/health`, and `GET /api/v1/history`
lists the change iff it landed. Then it publishes again: where the change
had not landed it must land now (200, the reference state after); where it
had, the retry must be refused (409) and change nothing — a change never
lands twice. A change that landed while its proposal stayed `submitted`
(the kill came between the change's transaction and the proposal's) is
counted and reported, not failed: the data and history are whole.

Each run draws from its own generator (seed, loop, run number), so
`--seed S --loops import --first 17 --runs 1` makes run 17's choices again
(the moment it hits depends on the machine's speed, so the delay in ms is
printed too). The summary lists the runs, how many were found before and
after per loop, and every failure with its seed; the exit status is 1 when
any run failed.

Python 3 standard library only; POSIX (signals).
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

SYSTEM = "default"
FIXTURE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "fixtures", "zhejiang-admin-gcj02.geojson"
)

# The content a change may touch, one query per table, ordered by natural
# keys (not fids) and without write timestamps.
CONTENT = {
    "gridmap_meta": "SELECT key, value FROM gridmap_meta ORDER BY key",
    "grid_systems": "SELECT name, levels FROM grid_systems ORDER BY name",
    "grids": "SELECT system, code, name, level, depth, parent, attributes, geom FROM grids ORDER BY system, code",
    "workers": "SELECT id, name, phone, role, photo, duties FROM workers ORDER BY id",
    "worker_grids": "SELECT worker_id, system, code, share FROM worker_grids ORDER BY worker_id, system, code",
    "sites": "SELECT kind, site_id, name, address, households, attributes, geom FROM sites ORDER BY kind, site_id",
    "gridmap_history": "SELECT version, author, title, kind, systems, record FROM gridmap_history ORDER BY version",
    "gpkg_contents": "SELECT table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id "
    "FROM gpkg_contents ORDER BY table_name",
    "gridmap_accounts": "SELECT name, role, token_hash, revoked FROM gridmap_accounts ORDER BY name",
}
INDEXED = ("grids", "sites")
# The import's log lines around its one write transaction.
WRITING = ('started stage="writing"', "finished stage=writing")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Failure(Exception):
    """A broken expectation of one run."""


# --- processes -------------------------------------------------------------

CHILDREN = set()


def start(cmd, log):
    out = open(log, "ab")
    try:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        out.close()
    CHILDREN.add(p)
    return p


def reap(p, timeout):
    try:
        rc = p.wait(timeout)
    finally:
        if p.poll() is not None:
            CHILDREN.discard(p)
    return rc


def sigkill(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    reap(p, 30)


def kill_children():
    for p in list(CHILDREN):
        if p.poll() is None:
            p.kill()
            p.wait()
    CHILDREN.clear()


def timed(cmd, log, marks, timeout=300):
    """Runs cmd to completion, noting when each line containing one of marks
    first appears on its stderr. Returns (exit status, seconds, {mark: seconds})."""
    seen = {}
    t0 = time.monotonic()
    with open(log, "ab") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        CHILDREN.add(p)
        for line in p.stderr:
            at = time.monotonic() - t0
            out.write(line)
            text = ANSI.sub("", line.decode("utf-8", "replace"))
            for m in marks:
                if m in text and m not in seen:
                    seen[m] = at
        rc = reap(p, timeout)
    return rc, time.monotonic() - t0, seen


def run(cmd, log, timeout=300):
    """Runs cmd to completion; returns (exit status, stdout); stderr goes to log."""
    with open(log, "ab") as err:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def must(cmd, log, timeout=300):
    rc, out = run(cmd, log, timeout)
    if rc != 0:
        raise Failure(f"`{' '.join(cmd)}` exited {rc} (see {log})")
    return out


# --- files -----------------------------------------------------------------

SIDE = ("", "-wal", "-shm", "-journal")


def remove_store(path):
    for s in SIDE:
        if os.path.exists(path + s):
            os.remove(path + s)


def copy_store(src, dst):
    """Copies a store file with its WAL and shared-memory files, as they are."""
    remove_store(dst)
    for s in SIDE:
        if os.path.exists(src + s):
            shutil.copyfile(src + s, dst + s)


def inspect(path, scratch, verify=True):
    """The state of the store at path, read from a copy (scratch).

    Returns {"version", "content" (table → sha256), "counts" (system → grids),
    "history" (versions), "proposals" (id → state)}; raises Failure when the
    file is damaged."""
    copy_store(path, scratch)
    con = sqlite3.connect(scratch, isolation_level=None)
    try:
        problems = []
        rows = con.execute("PRAGMA integrity_check").fetchall() if verify else [("ok",)]
        if rows != [("ok",)]:
            problems.append("integrity_check: " + "; ".join(r[0] for r in rows[:5]))
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {len(fk)} rows, first {fk[0]}")
        for table in INDEXED if verify else ():
            check = con.execute(f"SELECT rtreecheck('rtree_{table}_geom')").fetchone()[0]
            if check != "ok":
                problems.append(f"rtreecheck rtree_{table}_geom: {check[:200]}")
            indexed = {r[0] for r in con.execute(f"SELECT id FROM rtree_{table}_geom")}
            rows_with_geom = {r[0] for r in con.execute(f"SELECT fid FROM {table} WHERE geom IS NOT NULL")}
            if indexed != rows_with_geom:
                problems.append(
                    f"rtree_{table}_geom indexes {len(indexed)} rows, {table} has {len(rows_with_geom)} with a "
                    f"geometry ({len(indexed - rows_with_geom)} stale, {len(rows_with_geom - indexed)} missing)"
                )
        if problems:
            raise Failure("damaged store: " + " | ".join(problems))
        meta = dict(con.execute("SELECT key, value FROM gridmap_meta"))
        content = {}
        for table, sql in CONTENT.items():
            h = hashlib.sha256()
            for row in con.execute(sql):
                h.update(repr(row).encode())
                h.update(b"\n")
            content[table] = h.hexdigest()
        return {
            "version": int(meta["data_version"]),
            "content": content,
            "counts": dict(con.execute("SELECT system, count(*) FROM grids GROUP BY system")),
            "history": [r[0] for r in con.execute("SELECT version FROM gridmap_history ORDER BY version")],
            "proposals": dict(con.execute("SELECT id, state FROM gridmap_proposals")),
        }
    finally:
        con.close()
        remove_store(scratch)


def same(a, b):
    return a["version"] == b["version"] and a["content"] == b["content"]


def classify(state, before, after):
    """"before" or "after", or Failure naming what lies in between."""
    if same(state, before):
        return "before"
    if same(state, after):
        return "after"
    diff_b = sorted(t for t in CONTENT if state["content"][t] != before["content"][t])
    diff_a = sorted(t for t in CONTENT if state["content"][t] != after["content"][t])
    raise Failure(
        f"neither before nor after: data_version {state['version']} (before {before['version']}, "
        f"after {after['version']}); differs from before in {diff_b or 'nothing'}, "
        f"from after in {diff_a or 'nothing'}"
    )


# --- HTTP ------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, token=None, timeout=60):
    """(status, JSON body or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, None
    finally:
        conn.close()


class Server:
    """`gridmap serve` on a free loopback port."""

    def __init__(self, gridmap, db, log):
        self.port = free_port()
        self.log = log
        self.proc = start([gridmap, "serve", "--db", db, "--listen", f"127.0.0.1:{self.port}"], log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                CHILDREN.discard(self.proc)
                raise Failure(f"serve exited {self.proc.returncode} before answering (see {log})")
            try:
                status, body = request(self.port, "GET", "/health", timeout=5)
                if status == 200:
                    self.health = body
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                sigkill(self.proc)
                raise Failure(f"serve did not answer /health within 60 s (see {log})")
            time.sleep(0.05)

    def get(self, path):
        return request(self.port, "GET", path)

    def post(self, path, body, token):
        return request(self.port, "POST", path, body, token)

    def stop(self):
        """SIGTERM; the server must exit 0 within 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = reap(self.proc, 20)
        except subprocess.TimeoutExpired:
            sigkill(self.proc)
            raise Failure(f"serve did not stop within 20 s of SIGTERM (see {self.log})")
        if rc != 0:
            raise Failure(f"serve exited {rc} on SIGTERM (see {self.log})")

    def kill(self):
        sigkill(self.proc)


def check_served(srv, state):
    """/health and one page of grids of every system, as the state has them."""
    h = srv.health
    if h.get("status") != "ok" or h.get("data_version") != state["version"]:
        raise Failure(f"/health answered {h}, expected status ok at data version {state['version']}")
    for system, count in sorted(state["counts"].items()):
        status, body = srv.get(f"/api/v1/grids?limit=1&system={system}")
        if status != 200 or body.get("total") != count or len(body.get("grids", [])) != 1:
            raise Failure(f"/api/v1/grids?limit=1&system={system} answered {status} {str(body)[:300]}, "
                          f"expected {count} grids")


# --- the loops -------------------------------------------------------------


class Loop:
    def __init__(self, name):
        self.name = name
        self.runs = 0
        self.found = {"before": 0, "after": 0}
        self.exited = 0  # the import exited, or the publish answered, before the kill
        self.lagging = []  # publish: landed, proposal left submitted
        self.failures = []


class CrashLoop:
    def __init__(self, args, work):
        self.args = args
        self.gridmap = os.path.abspath(args.gridmap)
        self.work = work
        self.scratch = os.path.join(work, "inspect.gpkg")
        self.log = os.path.join(work, "setup.log")

    def path(self, name):
        return os.path.join(self.work, name)

    def rng(self, loop, i):
        return random.Random(f"{self.args.seed}:{loop}:{i}")

    def check_report(self, db, system):
        """(exit status, report) of `gridmap check`; 0 or 2, never an error."""
        rc, out = run([self.gridmap, "check", "--db", db, "--system", system, "--fail-on-problems",
                       "--format", "json"], self.path("check.log"))
        if rc not in (0, 2):
            raise Failure(f"gridmap check --system {system} exited {rc} (an error; see {self.path('check.log')})")
        return rc, out

    def keep_failed(self, loop, i):
        """Keeps the crashed store of a failed run for a look."""
        src = self.path("run.gpkg")
        dst = self.path(f"failed-{loop}-{i}.gpkg")
        if os.path.exists(self.path("crashed.gpkg")):
            copy_store(self.path("crashed.gpkg"), dst)
        elif os.path.exists(src):
            copy_store(src, dst)
        return dst

    # --- setup ---

    def setup_base(self):
        base = self.path("base.gpkg")
        remove_store(base)
        must([self.gridmap, "demo", "--out", base, "--blocks", str(self.args.blocks)], self.log)
        self.base = base
        self.base_state = inspect(base, self.scratch)

    def setup_imports(self):
        blocks = self.path("blocks.geojson")
        must([self.gridmap, "export", "grids", "--db", self.base, "--system", SYSTEM, "--level", "block",
              "--format", "geojson", "--out", blocks], self.log)
        with open(blocks, encoding="utf-8") as f:
            fc = json.load(f)
        for i, feat in enumerate(fc["features"]):
            props = feat["properties"]
            props["name"] = props["name"] + "（复核）"
            props["crash_loop"] = i
        changed = self.path("blocks-changed.geojson")
        with open(changed, "w", encoding="utf-8") as f:
            json.dump(fc, f, ensure_ascii=False)
        addresses = self.path("addresses.geojson")
        must([self.gridmap, "export", "sites", "--db", self.base, "--kind", "address", "--format", "geojson",
              "--out", addresses], self.log)
        with open(addresses, encoding="utf-8") as f:
            fc = json.load(f)
        for feat in fc["features"]:
            props = feat["properties"]
            props.pop("grid", None)  # where the export placed it; not a site attribute
            props["name"] = props["name"] + "（核）"
            props["households"] = (props.get("households") or 0) + 1
        changed_sites = self.path("addresses-changed.geojson")
        with open(changed_sites, "w", encoding="utf-8") as f:
            json.dump(fc, f, ensure_ascii=False)
        self.imports = {
            "grids": (["import", "grids", changed, "--system", SYSTEM], SYSTEM),
            "sites": (["import", "sites", changed_sites, "--kind", "address"], SYSTEM),
            "admin": (["import", "grids", os.path.abspath(FIXTURE), "--system", "admin",
                       "--levels", "province,city,district", "--crs", "gcj02"], "admin"),
        }
        self.import_ref = {}
        base_reports = {SYSTEM: self.check_report(self.base, SYSTEM)}
        for name, (cmd, system) in self.imports.items():
            ref = self.path(f"ref-{name}.gpkg")
            copy_store(self.base, ref)
            rc, duration, marks = timed([self.gridmap] + cmd + ["--db", ref], self.log, WRITING)
            if rc != 0:
                raise Failure(f"the uninterrupted {name} import exited {rc} (see {self.log})")
            if len(marks) != 2:
                raise Failure(f"the {name} import logged no writing stage (see {self.log})")
            writing = (marks[WRITING[0]], marks[WRITING[1]])
            after = inspect(ref, self.scratch)
            if after["version"] != self.base_state["version"] + 1 or same(after, self.base_state):
                raise Failure(f"the {name} import did not make one new version")
            # What `gridmap check` reports on each state, of the import's system (the
            # default one before an import that makes a new system).
            before_system = system if system in self.base_state["counts"] else SYSTEM
            if before_system not in base_reports:
                base_reports[before_system] = self.check_report(self.base, before_system)
            reports = {"before": (before_system, base_reports[before_system]),
                       "after": (system, self.check_report(ref, system))}
            self.import_ref[name] = (after, duration, writing, reports)
            print(f"  {name} import: {duration * 1e3:.0f} ms uninterrupted, writing from "
                  f"{writing[0] * 1e3:.0f} to {writing[1] * 1e3:.0f} ms, data version "
                  f"{self.base_state['version']} → {after['version']}", flush=True)

    def setup_publish(self):
        base = self.path("publish-base.gpkg")
        copy_store(self.base, base)
        self.editor = must([self.gridmap, "user", "add", "editor", "--role", "editor", "--db", base],
                           self.log).strip().splitlines()[-1].strip()
        self.approver = must([self.gridmap, "user", "add", "approver", "--role", "approver", "--db", base],
                             self.log).strip().splitlines()[-1].strip()
        srv = Server(self.gridmap, base, self.path("serve-setup.log"))
        try:
            status, body = srv.get(f"/api/v1/grids?system={SYSTEM}&level=block&limit=10000")
            if status != 200:
                raise Failure(f"listing blocks answered {status}")
            by_parent = {}
            for g in body["grids"]:
                by_parent.setdefault(g["parent"], []).append(g)
            parent = sorted((p for p, gs in by_parent.items() if len(gs) >= 4), key=lambda p: (-len(by_parent[p]), p))[0]
            family = sorted(by_parent[parent], key=lambda g: g["code"])
            holders = {}
            for g in family:
                status, feat = srv.get(f"/api/v1/grids/{g['code']}?system={SYSTEM}")
                if status != 200:
                    raise Failure(f"GET /api/v1/grids/{g['code']} answered {status}")
                seen = set()
                for polygon in feat["geometry"]["coordinates"]:
                    for ring in polygon:
                        for x, y in ring:
                            seen.add((x, y))
                for v in seen:
                    holders[v] = holders.get(v, 0) + 1
            # Vertices where three or more blocks of one community meet.
            junctions = sorted((v for v, n in holders.items() if n >= 3), key=lambda v: (-holders[v], v))
            status, body = srv.post("/api/v1/proposals", {"system": SYSTEM, "title": "crash loop: publish"},
                                    self.editor)
            if status != 201:
                raise Failure(f"creating a proposal answered {status} {body}")
            pid = body["id"]
            edits = [{"op": "update", "grid": g["code"], "name": g["name"] + "（调整）"} for g in family[:5]]
            for e in edits:
                status, body = srv.post(f"/api/v1/proposals/{pid}/edits", e, self.editor)
                if status != 200:
                    raise Failure(f"edit {e} answered {status} {body}")
            moved = None
            for x, y in junctions[:10]:
                e = {"op": "move_vertex", "from": [x, y], "to": [x + 1e-6, y + 1e-6]}
                status, body = srv.post(f"/api/v1/proposals/{pid}/edits", e, self.editor)
                if status == 200:
                    moved = e
                    break
            status, body = srv.post(f"/api/v1/proposals/{pid}/submit", {}, self.editor)
            if status != 200:
                raise Failure(f"submitting answered {status} {body}")
            changed = len(body.get("grids") or [])
        finally:
            srv.stop()
        self.proposal = pid
        self.publish_before = base
        self.pub_before = inspect(base, self.scratch)
        if self.pub_before["proposals"].get(pid) != "submitted":
            raise Failure(f"proposal {pid} is {self.pub_before['proposals'].get(pid)} after submitting")
        print(f"  publish: proposal {pid} renames {len(edits)} blocks of {parent}"
              + (f", moves the vertex {moved['from']} shared by {holders[tuple(moved['from'])]} of them"
                 if moved else ", no vertex move accepted")
              + f"; changes {changed} grids", flush=True)
        # One uninterrupted publish: the state after and the duration.
        ref = self.path("ref-publish.gpkg")
        copy_store(base, ref)
        srv = Server(self.gridmap, ref, self.path("serve-setup.log"))
        try:
            t0 = time.monotonic()
            status, body = srv.post(f"/api/v1/proposals/{pid}/publish", {}, self.approver)
            duration = time.monotonic() - t0
            if status != 200:
                raise Failure(f"the uninterrupted publish answered {status} {body}")
        finally:
            srv.stop()
        self.pub_after = inspect(ref, self.scratch)
        self.pub_duration = duration
        committed = body.get("committed_ms")
        self.pub_window = min(duration, 2 * committed / 1e3) if isinstance(committed, (int, float)) else duration
        v = self.pub_after["version"]
        if v != self.pub_before["version"] + 1 or v not in self.pub_after["history"]:
            raise Failure(f"the uninterrupted publish made version {v} with history {self.pub_after['history']}")
        self.pub_reports = {"before": self.check_report(base, SYSTEM), "after": self.check_report(ref, SYSTEM)}
        print(f"  publish: {duration * 1e3:.0f} ms uninterrupted (committed after {body.get('committed_ms')} ms, "
              f"served after {body.get('served_ms')} ms by the server's clock), data version "
              f"{self.pub_before['version']} → {v}", flush=True)

    # --- import loop ---

    def import_run(self, loop, i):
        rng = self.rng("import", i)
        names = list(self.imports)
        name = names[i % len(names)]
        cmd, system = self.imports[name]
        after, duration, writing, reports = self.import_ref[name]
        # Every other run aims at the transaction (the writing stage as measured).
        delay = rng.uniform(*writing) if i % 2 else rng.uniform(0, duration)
        db = self.path("run.gpkg")
        copy_store(self.base, db)
        remove_store(self.path("crashed.gpkg"))
        log = self.path("import-run.log")
        if os.path.exists(log):
            os.remove(log)
        p = start([self.gridmap] + cmd + ["--db", db], log)
        time.sleep(delay)
        exited = p.poll()
        sigkill(p)
        if exited is not None:
            loop.exited += 1
            if exited != 0:
                raise Failure(f"the import exited {exited} by itself before the kill (see {log})")
        desc = f"{name}, kill after {delay * 1e3:.0f} of {duration * 1e3:.0f} ms"
        if exited is not None:
            desc += ", exited before it"
        # Keep the file as the crash left it (for a failure report), then read a copy.
        copy_store(db, self.path("crashed.gpkg"))
        state = inspect(db, self.scratch)
        found = classify(state, self.base_state, after)
        if exited is not None and found != "after":
            raise Failure(f"the import finished before the kill but the store is as before ({desc})")
        check_system, expected = reports[found]
        if self.check_report(db, check_system) != expected:
            raise Failure(f"gridmap check --system {check_system} reports otherwise than on the reference "
                          f"store {found} the import")
        srv = Server(self.gridmap, db, self.path("serve-run.log"))
        try:
            check_served(srv, state)
        except BaseException:
            srv.kill()
            raise
        srv.stop()
        if not same(inspect(db, self.scratch, verify=False), state):
            raise Failure("the content changed while check and serve had the store open")
        return found, desc

    # --- publish loop ---

    def publish_run(self, loop, i):
        rng = self.rng("publish", i)
        # Every other run aims at the first twice the time to the commit.
        delay = rng.uniform(0, self.pub_window if i % 2 else self.pub_duration)
        pid = self.proposal
        db = self.path("run.gpkg")
        copy_store(self.publish_before, db)
        remove_store(self.path("crashed.gpkg"))
        log = self.path("serve-run.log")
        if os.path.exists(log):
            os.remove(log)
        srv = Server(self.gridmap, db, log)
        answer = {}

        def send():
            try:
                answer["status"], answer["body"] = srv.post(f"/api/v1/proposals/{pid}/publish", {}, self.approver)
            except (OSError, http.client.HTTPException) as e:
                answer["error"] = e

        t = threading.Thread(target=send, daemon=True)
        t0 = time.monotonic()
        t.start()
        time.sleep(max(0.0, t0 + delay - time.monotonic()))
        srv.kill()
        t.join(30)
        desc = f"kill after {delay * 1e3:.0f} of {self.pub_duration * 1e3:.0f} ms"
        if "status" in answer:
            desc += ", answered before it"
            loop.exited += 1
            if answer["status"] != 200:
                raise Failure(f"publish answered {answer['status']} {str(answer['body'])[:300]} before the kill")
        copy_store(db, self.path("crashed.gpkg"))
        state = inspect(db, self.scratch)
        found = classify(state, self.pub_before, self.pub_after)
        new = self.pub_after["version"]
        if (new in state["history"]) != (found == "after"):
            raise Failure(f"gridmap_history {'has' if new in state['history'] else 'lacks'} version {new} "
                          f"while the store is {found} the publish")
        if answer.get("status") == 200 and found != "after":
            raise Failure(f"publish answered 200 but the store is as before ({desc})")
        proposal_state = state["proposals"].get(pid)
        if found == "before" and proposal_state != "submitted":
            raise Failure(f"the change did not land but proposal {pid} is {proposal_state}")
        if found == "after" and proposal_state not in ("submitted", "published"):
            raise Failure(f"the change landed and proposal {pid} is {proposal_state}")
        lagging = found == "after" and proposal_state == "submitted"
        if self.check_report(db, SYSTEM) != self.pub_reports[found]:
            raise Failure(f"gridmap check reports otherwise than on the reference store {found} the publish")
        srv = Server(self.gridmap, db, log)
        try:
            check_served(srv, state)
            status, body = srv.get(f"/api/v1/history?system={SYSTEM}")
            if status != 200:
                raise Failure(f"/api/v1/history answered {status}")
            listed = [e for e in body["history"] if e.get("proposal") == pid]
            if bool(listed) != (found == "after") or (listed and listed[0]["version"] != new):
                raise Failure(f"/api/v1/history lists {[e['version'] for e in listed]} for proposal {pid} while "
                              f"the store is {found} the publish")
            # Publishing again lands a change exactly once.
            status, body = srv.post(f"/api/v1/proposals/{pid}/publish", {}, self.approver)
            if found == "before" and (status != 200 or body.get("data_version") != new):
                raise Failure(f"publishing again after the crash answered {status} {str(body)[:300]}")
            if found == "after" and status != 409:
                raise Failure(f"publishing again a change that had landed answered {status} {str(body)[:300]}")
        except BaseException:
            srv.kill()
            raise
        srv.stop()
        again = inspect(db, self.scratch)
        if not same(again, self.pub_after):
            raise Failure(f"after publishing again the store is not the reference state after "
                          f"(data_version {again['version']})")
        if lagging:
            loop.lagging.append((i, self.args.seed))
            desc += f"; proposal {pid} left submitted"
        return found, desc

    def loop(self, name, body):
        loop = Loop(name)
        for i in range(self.args.first, self.args.first + self.args.runs):
            loop.runs += 1
            t0 = time.monotonic()
            try:
                found, desc = body(loop, i)
                loop.found[found] += 1
                print(f"  {name} run {i}: {found} ({desc}; {time.monotonic() - t0:.1f} s)", flush=True)
            except Failure as e:
                kept = self.keep_failed(name, i)
                loop.failures.append((i, str(e), kept))
                print(f"  {name} run {i}: FAILED: {e} (store kept: {os.path.basename(kept)})", flush=True)
            finally:
                kill_children()
        return loop


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gridmap", required=True, help="the gridmap binary to test (built beforehand)")
    ap.add_argument("--runs", type=int, default=50, help="runs of each loop (default 50)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the random delays (default 1)")
    ap.add_argument("--work", help="folder for the stores and logs (default: a new temporary one)")
    ap.add_argument("--blocks", type=int, default=2000, help="blocks of the demo city (default 2000)")
    ap.add_argument("--loops", default="import,publish", help="which loops to run (default import,publish)")
    ap.add_argument("--first", type=int, default=0, help="number of the first run (to repeat one run)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    loops = [s.strip() for s in args.loops.split(",") if s.strip()]
    for s in loops:
        if s not in ("import", "publish"):
            ap.error(f"unknown loop `{s}` (import, publish)")
    if not os.access(args.gridmap, os.X_OK):
        ap.error(f"--gridmap {args.gridmap} is not an executable")
    if args.work:
        work = os.path.abspath(args.work)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="gridmap-crash-loop-")
    started = time.monotonic()
    cl = CrashLoop(args, work)
    results = []
    try:
        print(f"== crash loop: seed {args.seed}, {args.runs} runs per loop, demo city of {args.blocks} blocks",
              flush=True)
        try:
            cl.setup_base()
            if "import" in loops:
                cl.setup_imports()
            if "publish" in loops:
                cl.setup_publish()
        except Failure as e:
            print(f"setup failed: {e}", file=sys.stderr)
            args.keep = True
            return 1
        finally:
            kill_children()
        if "import" in loops:
            results.append(cl.loop("import", cl.import_run))
        if "publish" in loops:
            results.append(cl.loop("publish", cl.publish_run))
    finally:
        kill_children()
        failed = any(r.failures for r in results)
        if args.keep or failed or args.work:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"== crash loop summary (seed {args.seed}, {time.monotonic() - started:.0f} s)")
    for r in results:
        what = "answered" if r.name == "publish" else "exited"
        extra = f" ({r.exited} {what} before the kill)" if r.exited else ""
        print(f"  {r.name}: {r.runs} runs, {r.found['before']} as before, {r.found['after']} as after{extra}, "
              f"{len(r.failures)} failed")
        if r.lagging:
            print(f"    {len(r.lagging)} landed with the proposal left `submitted` (runs "
                  f"{', '.join(str(i) for i, _ in r.lagging)}): publishing it again is refused with 409")
        for i, msg, kept in r.failures:
            print(f"    FAILED run {i}: {msg}\n      repeat: --seed {args.seed} --loops {r.name} --first {i} "
                  f"--runs 1 (store kept: {kept})")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        kill_children()
