#!/usr/bin/env python3
"""The polygon work of `gridmap check` done with shapely 2 (GEOS), for timing.

For every parent: union_all(children), parent − union (gaps), union − parent
(overhangs); for every family (and the top-level grids): sibling pairs whose
bounding boxes meet (STRtree) are intersected (overlaps). Results are split
into parts and measured (planar area: the geodesic area is not the point here).

Usage: coverage.py STORE.gpkg SYSTEM  -> prints JSON {"grids", "load_s", "ops_s", "gaps", "overlaps", "overhangs"}
       coverage.py compare NAME GRIDMAP_SECONDS SHAPELY_JSON < gridmap-report.json  -> prints the comparison
"""

import json
import sqlite3
import struct
import sys
import time
from collections import defaultdict

import numpy as np
import shapely

ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def wkb_of(blob):
    flags = blob[3]
    return blob[8 + 8 * ENVELOPE_DOUBLES[(flags >> 1) & 0b111]:]


def load(db, system):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT code, parent, depth, geom FROM grids WHERE system = ? ORDER BY depth, code", (system,)).fetchall()
    codes = [r[0] for r in rows]
    parents = [r[1] for r in rows]
    depths = [r[2] for r in rows]
    geoms = shapely.from_wkb([wkb_of(r[3]) for r in rows])
    return codes, parents, depths, geoms


def parts_count(geoms):
    geoms = geoms[~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        return 0
    exploded = shapely.get_parts(geoms)
    polys = exploded[shapely.get_type_id(exploded) == 3]
    return int(np.count_nonzero(shapely.area(polys) > 0))


def main(db, system):
    t0 = time.perf_counter()
    codes, parents, depths, geoms = load(db, system)
    t1 = time.perf_counter()
    index = {c: i for i, c in enumerate(codes)}
    max_depth = max(depths)
    children = defaultdict(list)
    roots = []
    for i, p in enumerate(parents):
        if p is not None and p in index:
            children[index[p]].append(i)
        else:
            roots.append(i)
    families = [(None, roots)] + [(i, children.get(i, [])) for i in range(len(codes)) if depths[i] < max_depth]
    gaps = overlaps = overhangs = 0
    for parent, kids in families:
        kid_geoms = geoms[kids]
        if len(kids) > 1:
            tree = shapely.STRtree(kid_geoms)
            a, b = tree.query(kid_geoms)
            keep = a < b
            overlaps += parts_count(shapely.intersection(kid_geoms[a[keep]], kid_geoms[b[keep]]))
        if parent is not None:
            union = shapely.union_all(kid_geoms) if len(kids) else shapely.Polygon()
            gaps += parts_count(np.array([shapely.difference(geoms[parent], union)]))
            overhangs += parts_count(np.array([shapely.difference(union, geoms[parent])]))
    t2 = time.perf_counter()
    print(json.dumps({"grids": len(codes), "load_s": t1 - t0, "ops_s": t2 - t1, "gaps": gaps, "overlaps": overlaps, "overhangs": overhangs}))


def compare(name, ours, py):
    ours = float(ours)
    py = json.loads(py)
    counts = json.load(sys.stdin)["summary"]["counts"]
    total_py = py["load_s"] + py["ops_s"]
    print(f"{name}: {py['grids']} grids")
    print(
        f"  gridmap check (load, index and every check): {ours:8.2f} s"
        f"  gaps {counts['gap']}, overlaps {counts['overlap']}, overhangs {counts['overhang']} (parts >= 1 m2)"
    )
    print(
        f"  shapely (load {py['load_s']:.2f} s + polygon ops {py['ops_s']:.2f} s): {total_py:8.2f} s"
        f"  gaps {py['gaps']}, overlaps {py['overlaps']}, overhangs {py['overhangs']} (parts > 0)"
    )
    print(f"  ratio gridmap / shapely: {ours / total_py:.2f} (against the polygon ops alone: {ours / py['ops_s']:.2f})")


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        compare(*sys.argv[2:5])
    else:
        main(sys.argv[1], sys.argv[2])
