#!/usr/bin/env python3
"""Vector-tile conformance check of a running gridmap server.

Decodes every tile of a grid system from --zmin to --zmax over its bounds with
the reference decoder (PyPI mapbox-vector-tile) and checks, with GEOS
(shapely), that:
  * every tile decodes, layers are MVT version 2 with extent 4096;
  * every polygon is valid, exterior rings wound clockwise in tile coordinates
    (positive surveyor area, y down) and holes counter-clockwise;
  * every feature has an id, and a grid keeps the same id in every tile and
    zoom (the numeric code for codes of up to 15 digits);
  * within each tile, the children of a grid drawn in the tile cover the
    parent's clipped area with no gap, overlap or overhang larger than
    --tolerance square tile units (rounding at the tile's integer grid).
Exits non-zero listing the failures. Prints a summary line "N passed, M failed".
"""
import argparse
import math
import sys
import urllib.request
from collections import defaultdict

import mapbox_vector_tile
from shapely.geometry import shape
from shapely.ops import unary_union
from shapely.validation import explain_validity


def get(url):
    req = urllib.request.Request(url)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


def tile_range(bounds, z):
    def xy(lon, lat):
        n = 2 ** z
        x = int((lon + 180.0) / 360.0 * n)
        lat_r = math.radians(max(min(lat, 85.0511), -85.0511))
        y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
        return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

    x0, y0 = xy(bounds[0], bounds[3])
    x1, y1 = xy(bounds[2], bounds[1])
    return range(x0, x1 + 1), range(y0, y1 + 1)


def ring_area2(ring):
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))


def polygons_of(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--system", default="default")
    ap.add_argument("--zmin", type=int, default=8)
    ap.add_argument("--zmax", type=int, default=16)
    ap.add_argument("--tolerance", type=float, default=0.0,
                    help="largest gap/overlap/overhang area per grid per tile, in square tile units")
    args = ap.parse_args()

    _, body = get(f"{args.base}/tiles/{args.system}.json")
    import json
    tj = json.loads(body)
    bounds = tj["bounds"]
    levels = [l["id"] for l in tj["vector_layers"] if l["id"] not in ("labels", "sites", "coverage")]
    failures = []
    ids_by_code = {}
    stats = defaultdict(int)
    worst = defaultdict(float)

    def fail(msg):
        failures.append(msg)
        if len(failures) <= 30:
            print("FAIL", msg, file=sys.stderr)

    tile_url = tj["tiles"][0]
    for z in range(args.zmin, args.zmax + 1):
        xs, ys = tile_range(bounds, z)
        for x in xs:
            for y in ys:
                where = f"{z}/{x}/{y}"
                status, data = get(tile_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))
                stats["tiles"] += 1
                if status == 204:
                    stats["empty"] += 1
                    continue
                try:
                    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
                except Exception as e:  # noqa: BLE001
                    fail(f"{where}: does not decode: {e}")
                    continue
                shapes = {}
                for name, layer in tile.items():
                    if layer["version"] != 2 or layer["extent"] != 4096:
                        fail(f"{where} {name}: version {layer['version']} extent {layer['extent']}")
                    for f in layer["features"]:
                        code = f["properties"].get("code")
                        fid = f.get("id")
                        if fid is None or fid == 0:
                            fail(f"{where} {name}: feature {code} has no id")
                        key = (name if name != "labels" else f["properties"].get("level"), code)
                        if code is not None:
                            prev = ids_by_code.setdefault(key, fid)
                            if prev != fid:
                                fail(f"{where} {name}: {code} has id {fid}, elsewhere {prev}")
                            if code.isdigit() and len(code) <= 15 and fid != int(code):
                                fail(f"{where} {name}: {code} has id {fid}, not its code")
                        if name not in levels:
                            continue
                        stats["polygon_features"] += 1
                        for poly in polygons_of(f["geometry"]):
                            if ring_area2(poly[0]) <= 0:
                                fail(f"{where} {name} {code}: exterior ring not clockwise (area {ring_area2(poly[0])})")
                            for hole in poly[1:]:
                                if ring_area2(hole) >= 0:
                                    fail(f"{where} {name} {code}: hole not counter-clockwise")
                        geom = shape(f["geometry"])
                        if not geom.is_valid:
                            fail(f"{where} {name} {code}: invalid polygon: {explain_validity(geom)}")
                            continue
                        shapes.setdefault(name, {})[code] = (geom, f["properties"].get("parent"))
                # Children cover their parent exactly within the tile.
                for upper, lower in zip(levels, levels[1:]):
                    if upper not in shapes or lower not in shapes:
                        continue
                    children = defaultdict(list)
                    for code, (g, parent) in shapes[lower].items():
                        children[parent].append(g)
                    for pcode, (pg, _) in shapes[upper].items():
                        kids = children.get(pcode)
                        if not kids:
                            continue
                        stats["parent_checks"] += 1
                        union = unary_union(kids)
                        overlap = sum(k.area for k in kids) - union.area
                        gap = pg.difference(union).area
                        overhang = union.difference(pg).area
                        for kind, a in (("gap", gap), ("overlap", overlap), ("overhang", overhang)):
                            worst[kind] = max(worst[kind], a)
                            if a > args.tolerance:
                                fail(f"{where}: {lower} children of {pcode}: {kind} of {a:.1f} square tile units")
                # Siblings of one level never overlap, whatever their parent.
                for name in levels:
                    if name in shapes and len(shapes[name]) > 1:
                        gs = [g for g, _ in shapes[name].values()]
                        over = sum(g.area for g in gs) - unary_union(gs).area
                        worst["sibling_overlap"] = max(worst["sibling_overlap"], over)
                        if over > args.tolerance:
                            fail(f"{where} {name}: siblings overlap by {over:.1f} square tile units")
        print(f"z{z}: {stats['tiles']} tiles so far", file=sys.stderr)
    print(f"tiles={stats['tiles']} empty={stats['empty']} polygon_features={stats['polygon_features']} "
          f"parent_checks={stats['parent_checks']} worst={dict(worst)}")
    passed = stats["tiles"] - len({f.split(':')[0].split(' ')[0] for f in failures})
    print(f"conformance: {passed} passed, {len({f.split(':')[0].split(' ')[0] for f in failures})} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
