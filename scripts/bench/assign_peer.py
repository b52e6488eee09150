#!/usr/bin/env python3
"""Peer benchmark for `gridmap assign`: shapely 2 (GEOS) STRtree on the same points.

Subcommands (run by scripts/bench/assign.sh inside its venv):

  bbox SOURCE                       print minlon,minlat,maxlon,maxlat of the finest level
  gen --bbox B --n N --seed S OUT   write N uniform random points in B as CSV id,lon,lat
  compare SOURCE POINTS --gridmap BIN --db DB --system S --out OUT
                                    time `gridmap assign` and shapely's
                                    STRtree.query(points, predicate="within") on the finest
                                    level, check they agree, print both rates and the ratio

SOURCE is a GeoJSON file (features with properties code/level) with --level, or a
gridmap GeoPackage store (table `grids`), whose system with most grids and deepest
level are used.
"""

import argparse
import csv
import json
import re
import sqlite3
import subprocess
import sys
import time

import numpy as np
import shapely
from shapely import STRtree

# GeoPackage binary header: "GP", version, flags, srs_id (4 bytes), then an envelope
# whose size depends on flags bits 1-3, then standard WKB.
ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def gpkg_wkb(blob: bytes) -> bytes:
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    envelope = (blob[3] >> 1) & 0x07
    return blob[8 + ENVELOPE_BYTES[envelope]:]


def finest_polygons(source: str, level: str | None):
    """(codes, polygons, system, level) of the finest level of SOURCE."""
    if source.endswith(".gpkg"):
        db = sqlite3.connect(source)
        (system,) = db.execute(
            "SELECT system FROM grids GROUP BY system ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
        depth, lvl = db.execute(
            "SELECT depth, level FROM grids WHERE system = ? ORDER BY depth DESC LIMIT 1",
            (system,)).fetchone()
        rows = db.execute("SELECT code, geom FROM grids WHERE system = ? AND depth = ?",
                          (system, depth)).fetchall()
        codes = [r[0] for r in rows]
        polys = shapely.from_wkb([gpkg_wkb(r[1]) for r in rows])
        return codes, polys, system, lvl
    with open(source, encoding="utf-8") as f:
        fc = json.load(f)
    feats = [ft for ft in fc["features"] if ft["properties"]["level"] == level]
    codes = [ft["properties"]["code"] for ft in feats]
    polys = shapely.from_geojson([json.dumps(ft["geometry"]) for ft in feats])
    return codes, polys, None, level


def cmd_bbox(args):
    _, polys, _, _ = finest_polygons(args.source, args.level)
    b = shapely.total_bounds(polys)
    print(",".join(f"{v:.6f}" for v in b))


def cmd_gen(args):
    x0, y0, x1, y1 = (float(v) for v in args.bbox.split(","))
    rng = np.random.default_rng(args.seed)
    lon = rng.uniform(x0, x1, args.n)
    lat = rng.uniform(y0, y1, args.n)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("id,lon,lat\n")
        ids = np.arange(args.n)
        np.savetxt(f, np.column_stack([ids, lon, lat]), fmt=["%d", "%.7f", "%.7f"], delimiter=",")


def cmd_compare(args):
    codes, polys, system, level = finest_polygons(args.source, args.level)
    system = args.system or system

    # gridmap: the whole command (store load, index build, CSV in and out, every level).
    cmd = [args.gridmap, "assign", args.points, "--db", args.db, "--out", args.out]
    if system:
        cmd += ["--system", system]
    t = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env={"RUST_LOG": "warn", "PATH": ""})
    gm_wall = time.perf_counter() - t
    if run.returncode != 0:
        sys.exit(f"gridmap assign failed:\n{run.stderr}")
    m = re.search(r"(\d+) rows: .*; ([0-9.]+) s, ([0-9]+) rows/s", run.stdout)
    if not m:
        sys.exit(f"cannot read the gridmap summary from: {run.stdout!r}")
    n, gm_pipeline_s, gm_rate = int(m[1]), float(m[2]), float(m[3])

    # shapely: points from the same CSV (parsing not timed), tree built (timed apart).
    data = np.loadtxt(args.points, delimiter=",", skiprows=1, usecols=(1, 2))
    points = shapely.points(data)
    t = time.perf_counter()
    tree = STRtree(polys)
    build_s = time.perf_counter() - t
    # query(geom, predicate) tests predicate(geom, tree_geom): "within" = point within polygon.
    t = time.perf_counter()
    pt_idx, poly_idx = tree.query(points, predicate="within")
    query_s = time.perf_counter() - t
    sh_rate = len(points) / query_s

    # Agreement on the finest level (random points are never exactly on a border).
    geos = [""] * len(points)
    for p, g in zip(pt_idx.tolist(), poly_idx.tolist()):
        geos[p] = codes[g]
    col = f"{level}_code"
    disagree = 0
    with open(args.out, encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if row[col] != geos[i]:
                disagree += 1
                if disagree <= 5:
                    print(f"  disagreement row {i}: gridmap `{row[col]}`, shapely `{geos[i]}`")

    print(f"{args.name}: {n} points, {len(polys)} polygons at level `{level}`")
    print(f"  gridmap assign : {gm_rate:12,.0f} points/s (pipeline {gm_pipeline_s:.2f} s; "
          f"whole command {gm_wall:.2f} s incl. store load + index, every level, CSV in/out)")
    print(f"  shapely STRtree: {sh_rate:12,.0f} points/s (query {query_s:.2f} s, finest level only, "
          f"tree build {build_s:.2f} s not counted)")
    print(f"  ratio          : {gm_rate / sh_rate:12.1f}x  (goal >= 100x)")
    print(f"  agreement      : {n - disagree}/{n} rows identical at `{level}`")
    if disagree:
        sys.exit(f"{disagree} rows disagree")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bbox")
    b.add_argument("source")
    b.add_argument("--level")
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("--bbox", required=True)
    g.add_argument("--n", type=int, required=True)
    g.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("compare")
    c.add_argument("source")
    c.add_argument("points")
    c.add_argument("--level")
    c.add_argument("--name", default="benchmark")
    c.add_argument("--gridmap", required=True)
    c.add_argument("--db", required=True)
    c.add_argument("--system")
    c.add_argument("--out", required=True)
    args = ap.parse_args()
    {"bbox": cmd_bbox, "gen": cmd_gen, "compare": cmd_compare}[args.cmd](args)


if __name__ == "__main__":
    main()
