#!/usr/bin/env python3
"""Freshness of several servers on one PostGIS database.

Starts two `gridmap serve` instances on one database and a writer that
imports a changed grid ROUNDS times (`gridmap import grids`, another
process, as an operator would); after each import it polls both instances'
`/health` every 5 ms until both serve the new data version, and prints the
propagation time per instance: median, p99 and worst, measured from the
moment the writer's process exited (its transaction had committed).

    scripts/bench/pg_sync.py --gridmap target/release/gridmap [--db URL] [--rounds 20]

Without --db it starts a throwaway cluster with scripts/pg-cluster.sh and
stops it at the end. The instances poll the version only every 30 s
(--reload-interval), so what is measured is the LISTEN/NOTIFY path.
Everything runs on the loopback interface and stops by itself.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def version(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
        return json.load(r)["data_version"]


def grid_file(path, round_no):
    feature = {
        "type": "Feature",
        "properties": {"code": "1", "level": "block", "name": f"round {round_no}"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.0]]],
        },
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": [feature]}, f)


def write(cmd, env):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"writer failed: {' '.join(cmd)}\n{r.stderr.strip()}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gridmap", required=True)
    ap.add_argument("--db", help="postgres:// URL of an empty database (default: a throwaway cluster)")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    cluster = None
    servers = []
    try:
        url = args.db
        if not url:
            cluster = os.path.join(tmp, "pg")
            url = subprocess.run(
                [os.path.join(ROOT, "scripts", "pg-cluster.sh"), "start", cluster],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
        env = dict(os.environ, GRIDMAP_DB=url)
        grids = os.path.join(tmp, "grid.geojson")
        writer = [args.gridmap, "import", "grids", grids, "--system", "sync", "--levels", "block"]
        grid_file(grids, 0)
        write(writer, env)
        ports = [free_port(), free_port()]
        for port in ports:
            log = open(os.path.join(tmp, f"serve-{port}.log"), "w")
            servers.append(subprocess.Popen(
                [args.gridmap, "serve", "--listen", f"127.0.0.1:{port}", "--reload-interval", "30"],
                env=env, stdout=log, stderr=log,
            ))
        deadline = time.time() + 60
        for port in ports:
            while True:
                try:
                    version(port)
                    break
                except OSError:
                    if time.time() > deadline:
                        sys.exit(f"instance on port {port} did not start")
                    time.sleep(0.1)
        time.sleep(1)  # both listeners connected
        delays = {p: [] for p in ports}
        for r in range(1, args.rounds + 1):
            grid_file(grids, r)
            base = max(version(p) for p in ports)
            write(writer, env)
            committed = time.monotonic()
            pending = set(ports)
            while pending:
                for port in list(pending):
                    if version(port) > base:
                        delays[port].append(time.monotonic() - committed)
                        pending.discard(port)
                if time.monotonic() - committed > 30:
                    sys.exit(f"round {r}: {sorted(pending)} still not past version {base} after 30 s")
                time.sleep(0.005)
        every = [d for ds in delays.values() for d in ds]
        for port, ds in delays.items():
            print(f"instance :{port}: median {statistics.median(ds) * 1000:.0f} ms, "
                  f"p99 {percentile(ds, 0.99) * 1000:.0f} ms, worst {max(ds) * 1000:.0f} ms")
        print(f"all {len(every)} propagations: median {statistics.median(every) * 1000:.0f} ms, "
              f"p99 {percentile(every, 0.99) * 1000:.0f} ms, worst {max(every) * 1000:.0f} ms "
              f"({args.rounds} rounds, 2 instances)")
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            try:
                s.wait(timeout=10)
            except subprocess.TimeoutExpired:
                s.kill()
        if cluster:
            subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop", cluster], check=False)


if __name__ == "__main__":
    main()
