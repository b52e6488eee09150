#!/usr/bin/env python3
"""Vector-tile conformance check of a running gridmap server.

Reads the system's TileJSON (first zoom of every level from
`vector_layers[].minzoom`, never assumed) and its grids from the HTTP API (the
reference: code, level, parent, lon/lat geometry), then decodes every tile
from --zmin to --zmax over the system's bounds, plus optionally a
deterministic sample of tiles along shared borders (--border-zooms), with the
reference decoder (PyPI mapbox-vector-tile), and checks with GEOS (shapely):
  * the tile decodes, layers are MVT version 2 with extent 4096, and it is at
    most --max-gzip-bytes gzipped;
  * every polygon is valid, exterior rings wound clockwise in tile coordinates
    (positive surveyor area, y down), holes counter-clockwise, and no ring has
    zero area;
  * every feature has an id, distinct within its layer, and a grid keeps the
    same id in every tile and zoom (the numeric code for codes of up to 15
    digits);
  * a level drawn at the tile's zoom whose grids cover part of the tile has
    its layer there, and every ring of a grid's clipped reference geometry
    larger than --min-ring-area appears (the grid's feature comes within
    --ring-distance of it, the simplification tolerance);
  * a feature's `parent` names its reference parent, a grid of the level
    above that contains it; where the parent level is drawn, the parent is in
    the tile too;
  * within each tile, the children of a grid cover it: gap and overhang at
    most --tolerance + --relative-tolerance × the parent's area, children
    overlapping at most --overlap-tolerance (square tile units).
Fails, too, when every tile checked is empty. Exits non-zero listing the
failures. Prints a summary line "conformance: N passed, M failed" (tiles).
"""
import argparse
import gzip
import json
import math
import sys
import urllib.parse
import urllib.request
from collections import defaultdict

import mapbox_vector_tile
from mapbox_vector_tile.Mapbox import vector_tile_pb2
import numpy as np
import shapely
from shapely.geometry import box, shape
from shapely.ops import unary_union
from shapely.validation import explain_validity

EXTENT = 4096
EARTH_RADIUS = 6378137.0
MERCATOR_MAX = math.pi * EARTH_RADIUS
# Layers of the tiles that are not grid levels.
NON_LEVEL_LAYERS = ("labels", "sites", "coverage", "coverage_points")


def lonlat_to_mercator(coords):
    """Vectorised spherical Web Mercator of an (n, 2) lon/lat array."""
    lat = coords[:, 1].clip(-85.0511287798, 85.0511287798)
    x = EARTH_RADIUS * np.radians(coords[:, 0])
    y = EARTH_RADIUS * np.log(np.tan(math.pi / 4.0 + np.radians(lat) / 2.0))
    return np.column_stack([x, y])


def tile_bounds(z, x, y):
    """Web Mercator bounds (min x, min y, max x, max y) of a tile."""
    w = 2.0 * MERCATOR_MAX / (1 << z)
    return (-MERCATOR_MAX + x * w, MERCATOR_MAX - (y + 1) * w,
            -MERCATOR_MAX + (x + 1) * w, MERCATOR_MAX - y * w)


def tile_of(mx, my, z):
    w = 2.0 * MERCATOR_MAX / (1 << z)
    n = (1 << z) - 1
    return (min(max(int((mx + MERCATOR_MAX) // w), 0), n),
            min(max(int((MERCATOR_MAX - my) // w), 0), n))


def tile_range(bounds, z):
    """Columns and rows of the tiles covering lon/lat bounds at zoom z."""
    m = lonlat_to_mercator(np.array([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], dtype=float))
    x0, y1 = tile_of(m[0, 0], m[0, 1], z)
    x1, y0 = tile_of(m[1, 0], m[1, 1], z)
    return range(x0, x1 + 1), range(y0, y1 + 1)


def ring_area2(ring):
    """Twice the surveyor area of a closed ring; positive is clockwise with y down."""
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))


def polygons_of(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return geom["coordinates"]
    return []


def rings_of_commands(cmds):
    """Rings (lists of integer points) of MVT polygon geometry commands."""
    rings, ring, cur, i = [], [], [0, 0], 0
    unzig = lambda n: (n >> 1) ^ -(n & 1)  # noqa: E731
    while i < len(cmds):
        cid, count = cmds[i] & 7, cmds[i] >> 3
        i += 1
        if cid == 7:
            rings.append(ring)
            ring = []
            continue
        for _ in range(count):
            cur = [cur[0] + unzig(cmds[i]), cur[1] + unzig(cmds[i + 1])]
            i += 2
            if cid == 1 and ring:
                rings.append(ring)
                ring = []
            ring.append(tuple(cur))
    if ring:
        rings.append(ring)
    return [r for r in rings if r]


class Reference:
    """What the tiles must show: the levels in order with their first zoom,
    and every grid's level, parent and geometry (projected to Web Mercator
    once, indexed per level)."""

    def __init__(self, levels, min_zoom, grids):
        """levels: names top-down; min_zoom: level -> first zoom drawn;
        grids: code -> (level, parent code or None, lon/lat shapely geometry)."""
        self.levels = list(levels)
        self.min_zoom = dict(min_zoom)
        self.grids = {}
        self.level_codes = defaultdict(list)
        for code, (level, parent, geom) in grids.items():
            merc = shapely.transform(geom, lonlat_to_mercator)
            self.grids[code] = (level, parent or None, geom, merc)
            self.level_codes[level].append(code)
        self.trees = {
            level: shapely.STRtree([self.grids[c][3] for c in codes])
            for level, codes in self.level_codes.items()
        }
        self._contains = {}

    def bounds(self):
        b = shapely.total_bounds([g[2] for g in self.grids.values()])
        return [float(v) for v in b]

    def parent_level(self, level):
        i = self.levels.index(level)
        return self.levels[i - 1] if i > 0 else None

    def grids_in(self, level, mbounds):
        """Codes of the level's grids whose geometry intersects the Mercator box."""
        if level not in self.trees:
            return []
        idx = self.trees[level].query(box(*mbounds), predicate="intersects")
        return [self.level_codes[level][i] for i in sorted(idx)]

    def contains(self, parent, child):
        """True if the parent grid's geometry contains the child's (up to 0.1 % of its area)."""
        key = (parent, child)
        if key not in self._contains:
            p, c = self.grids[parent][3], self.grids[child][3]
            self._contains[key] = c.difference(p).area <= 1e-3 * c.area
        return self._contains[key]

    def shared_border_vertices(self):
        """Mercator positions of the vertices used by two or more grids of the
        finest level (where neighbours meet), sorted."""
        count = defaultdict(int)
        for code in self.level_codes.get(self.levels[-1], []):
            seen = set()
            for part in getattr(self.grids[code][2], "geoms", [self.grids[code][2]]):
                for ring in [part.exterior, *part.interiors]:
                    seen.update(ring.coords[:-1])
            for v in seen:
                count[v] += 1
        shared = sorted(v for v, n in count.items() if n >= 2)
        if not shared:
            return np.zeros((0, 2))
        return lonlat_to_mercator(np.array(shared, dtype=float))


def border_sample(reference, zooms, per_zoom):
    """A deterministic sample of `per_zoom` tiles per zoom among the tiles
    holding a vertex of a shared border (all of them when there are fewer),
    spread evenly over the sorted list."""
    verts = reference.shared_border_vertices()
    out = []
    for z in zooms:
        tiles = sorted({tile_of(mx, my, z) for mx, my in verts})
        if len(tiles) > per_zoom:
            step = len(tiles) / per_zoom
            tiles = [tiles[int(i * step)] for i in range(per_zoom)]
        out.extend((z, x, y) for x, y in tiles)
    return out


class TileChecker:
    """Checks decoded tiles against a Reference, collecting failures."""

    def __init__(self, reference, tolerance=8.0, relative_tolerance=0.002, overlap_tolerance=2.0,
                 min_ring_area=4.0, max_gzip_bytes=500_000, ring_distance=8.0, quiet=False):
        self.ref = reference
        self.tolerance = tolerance
        self.relative_tolerance = relative_tolerance
        self.overlap_tolerance = overlap_tolerance
        self.min_ring_area = min_ring_area
        self.max_gzip_bytes = max_gzip_bytes
        self.ring_distance = ring_distance
        self.quiet = quiet
        self.failures = []
        self.failed_tiles = set()
        self.kinds = defaultdict(int)
        self.ids_by_code = {}
        self.stats = defaultdict(int)
        self.worst = defaultdict(float)
        self.largest = (0, None)

    def fail(self, where, kind, msg):
        self.failures.append(f"{where} [{kind}] {msg}")
        self.failed_tiles.add(where)
        self.kinds[kind] += 1
        if not self.quiet and len(self.failures) <= 40:
            print("FAIL", self.failures[-1], file=sys.stderr)

    def drawn(self, z):
        return [level for level in self.ref.levels if self.ref.min_zoom.get(level, 0) <= z]

    def check(self, z, x, y, raw, gzipped_size=None):
        """Checks one tile given its uncompressed MVT bytes (empty for a 204)."""
        where = f"{z}/{x}/{y}"
        self.stats["tiles"] += 1
        size = gzipped_size if gzipped_size is not None else len(gzip.compress(raw)) if raw else 0
        if size > self.largest[0]:
            self.largest = (size, where)
        if size > self.max_gzip_bytes:
            self.fail(where, "too_large", f"{size} bytes gzipped, limit {self.max_gzip_bytes}")
        if not raw:
            self.stats["empty"] += 1
            tile = {}
        else:
            try:
                tile = mapbox_vector_tile.decode(raw, default_options={"y_coord_down": True})
            except Exception as e:  # noqa: BLE001
                self.fail(where, "decode", f"does not decode: {e}")
                return
        mb = tile_bounds(z, x, y)
        scale = EXTENT / (mb[2] - mb[0])

        def to_tile(g):
            return shapely.transform(g, lambda c: _affine(c, mb, scale))

        self._raw_rings(where, raw)
        shapes = self._features(where, tile)
        drawn = self.drawn(z)
        tile_box = box(0, 0, EXTENT, EXTENT)
        for level in self.ref.levels:
            expected = self.ref.grids_in(level, mb) if level in drawn else []
            layer = shapes.get(level, {})
            # Rings of the reference, clipped to the tile, that must show.
            missing_layer_reported = False
            for code in expected:
                clipped = to_tile(shapely.clip_by_rect(self.ref.grids[code][3], *mb))
                big = [p for p in getattr(clipped, "geoms", [clipped])
                       if p.geom_type == "Polygon" and p.area > self.min_ring_area]
                if not big:
                    continue
                if level not in tile and not missing_layer_reported:
                    self.fail(where, "layer_missing",
                              f"layer {level} (drawn from z{self.ref.min_zoom.get(level, 0)}) is missing, "
                              f"its grid {code} covers {clipped.area:.0f} units² of the tile")
                    missing_layer_reported = True
                got = layer.get(code)
                if got is None:
                    if level in tile:
                        self.fail(where, "feature_missing",
                                  f"{level} {code} is missing, it covers {clipped.area:.0f} units² of the tile")
                    continue
                for p in big:
                    if got[0].distance(p) > self.ring_distance:
                        self.fail(where, "ring_dropped",
                                  f"{level} {code}: a ring of {p.area:.0f} units² at "
                                  f"{p.representative_point().coords[0]} is not drawn")
                        break
        # Parents: right, and present where their level is drawn.
        for level, feats in shapes.items():
            upper = self.ref.parent_level(level)
            for code, (g, parent) in feats.items():
                ref = self.ref.grids.get(code)
                if ref is None:
                    self.fail(where, "unknown_grid", f"{level} feature {code} is no grid of the reference")
                    continue
                if upper is None:
                    continue
                if parent not in self.ref.grids or self.ref.grids[parent][0] != upper:
                    self.fail(where, "parent_wrong", f"{level} {code}: parent {parent!r} is no {upper} grid")
                    continue
                if parent != ref[1] or not self.ref.contains(parent, code):
                    self.fail(where, "parent_wrong",
                              f"{level} {code}: parent {parent!r} does not contain it (its parent is {ref[1]!r})")
                    continue
                if upper in drawn and parent not in shapes.get(upper, {}):
                    self.fail(where, "parent_missing", f"{level} {code} is drawn without its parent {parent}")
        # Children cover their parent exactly within the tile.
        for upper, lower in zip(self.ref.levels, self.ref.levels[1:]):
            if upper not in drawn or lower not in drawn or upper not in shapes:
                continue
            children = defaultdict(list)
            for code, (g, parent) in shapes.get(lower, {}).items():
                children[parent].append(g)
            for pcode, (pg, _) in shapes[upper].items():
                kids = children.get(pcode, [])
                self.stats["parent_checks"] += 1
                pg_in = pg.intersection(tile_box)
                union = unary_union(kids).intersection(tile_box) if kids else shapely.Polygon()
                overlap = sum(k.intersection(tile_box).area for k in kids) - union.area
                limit = self.tolerance + self.relative_tolerance * pg_in.area
                for kind, a, lim in (("gap", pg_in.difference(union).area, limit),
                                     ("overhang", union.difference(pg_in).area, limit),
                                     ("overlap", overlap, self.overlap_tolerance)):
                    self.worst[kind] = max(self.worst[kind], a)
                    if a > lim:
                        self.fail(where, kind, f"{lower} children of {pcode}: {kind} of {a:.1f} units² "
                                               f"(parent {pg_in.area:.0f} units², limit {lim:.1f})")
        # Siblings of one level never overlap, whatever their parent.
        for name, feats in shapes.items():
            if len(feats) > 1:
                gs = [g for g, _ in feats.values()]
                over = sum(g.area for g in gs) - unary_union(gs).area
                self.worst["sibling_overlap"] = max(self.worst["sibling_overlap"], over)
                if over > self.overlap_tolerance:
                    self.fail(where, "overlap", f"{name}: siblings overlap by {over:.1f} units²")

    def _raw_rings(self, where, raw):
        """Zero-area rings, read from the geometry commands themselves: the
        reference decoder silently drops them."""
        if not raw:
            return
        tile = vector_tile_pb2.tile()
        tile.ParseFromString(raw)
        for layer in tile.layers:
            for f in layer.features:
                if f.type != 3:
                    continue
                for ring in rings_of_commands(f.geometry):
                    if ring_area2(ring + ring[:1]) == 0:
                        self.fail(where, "zero_area_ring", f"{layer.name} feature id {f.id}: ring of zero area "
                                                           f"starting at {ring[0]}")

    def _features(self, where, tile):
        """Per-feature checks; returns level -> code -> (geometry, parent) of the valid ones."""
        shapes = {}
        for name, layer in tile.items():
            if layer["version"] != 2 or layer["extent"] != EXTENT:
                self.fail(where, "layer_header", f"{name}: version {layer['version']} extent {layer['extent']}")
            ids_here = {}
            for f in layer["features"]:
                props = f["properties"]
                code = props.get("code")
                fid = f.get("id")
                if fid is None or fid == 0:
                    self.fail(where, "no_id", f"{name}: feature {code} has no id")
                elif fid in ids_here:
                    self.fail(where, "duplicate_id", f"{name}: id {fid} used by {ids_here[fid]!r} and {code!r}")
                else:
                    ids_here[fid] = code
                key = (name if name != "labels" else props.get("level"), code)
                if code is not None and fid is not None:
                    prev = self.ids_by_code.setdefault(key, fid)
                    if prev != fid:
                        self.fail(where, "unstable_id", f"{name}: {code} has id {fid}, elsewhere {prev}")
                    if code.isdigit() and len(code) <= 15 and fid != int(code):
                        self.fail(where, "unstable_id", f"{name}: {code} has id {fid}, not its code")
                if name not in self.ref.levels:
                    continue
                self.stats["polygon_features"] += 1
                ok = True
                for poly in polygons_of(f["geometry"]):
                    for k, ring in enumerate(poly):
                        a2 = ring_area2(ring)
                        if a2 == 0:
                            ok = False  # reported from the raw commands
                        elif (a2 < 0) == (k == 0):
                            self.fail(where, "winding", f"{name} {code}: {'exterior' if k == 0 else 'hole'} "
                                                        f"wound the wrong way (area2 {a2})")
                            ok = False
                if f["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
                    self.fail(where, "geometry_type", f"{name} {code}: {f['geometry']['type']}")
                    continue
                geom = shape(f["geometry"])
                if not geom.is_valid:
                    self.fail(where, "invalid", f"{name} {code}: {explain_validity(geom)}")
                    ok = False
                if ok:
                    shapes.setdefault(name, {})[code] = (geom, props.get("parent") or None)
        return shapes

    def finish(self):
        """Prints the summary; returns the exit status."""
        if self.stats["tiles"] and self.stats["empty"] == self.stats["tiles"]:
            self.fail("all", "all_empty", f"every one of the {self.stats['tiles']} tiles checked is empty")
        print(f"tiles={self.stats['tiles']} empty={self.stats['empty']} "
              f"polygon_features={self.stats['polygon_features']} parent_checks={self.stats['parent_checks']} "
              f"largest_gzip={self.largest[0]} ({self.largest[1]}) worst={dict(self.worst)}")
        if self.kinds:
            print("failures by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(self.kinds.items())))
        failed = len(self.failed_tiles)
        print(f"conformance: {self.stats['tiles'] - failed} passed, {failed} failed")
        return 1 if self.failures else 0


def _affine(c, mb, scale):
    return np.column_stack([(c[:, 0] - mb[0]) * scale, (mb[3] - c[:, 1]) * scale])


def get(url, accept_gzip=False):
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if accept_gzip else {})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.headers.get("Content-Encoding"), r.read()


def load_reference(base, system):
    """TileJSON and every grid of the system from the HTTP API."""
    _, _, body = get(f"{base}/tiles/{system}.json")
    tj = json.loads(body)
    layers = [l for l in tj["vector_layers"] if l["id"] not in NON_LEVEL_LAYERS]
    levels = [l["id"] for l in layers]
    min_zoom = {l["id"]: int(l["minzoom"]) for l in layers}
    listed, offset = [], 0
    while True:
        q = urllib.parse.urlencode({"system": system, "limit": 10000, "offset": offset})
        _, _, body = get(f"{base}/api/v1/grids?{q}")
        page = json.loads(body)
        listed.extend(page["grids"])
        offset += len(page["grids"])
        if not page["grids"] or offset >= page["total"]:
            break
    grids = {}
    for g in listed:
        q = urllib.parse.urlencode({"system": system})
        _, _, body = get(f"{base}/api/v1/grids/{urllib.parse.quote(g['code'])}?{q}")
        feature = json.loads(body)
        grids[g["code"]] = (g["level"], g.get("parent"), shape(feature["geometry"]))
    return tj, Reference(levels, min_zoom, grids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--system", default="default")
    ap.add_argument("--zmin", type=int, default=8)
    ap.add_argument("--zmax", type=int, default=16)
    ap.add_argument("--border-zooms", default="", help="zooms of the shared-border sample, e.g. 13,14")
    ap.add_argument("--border-tiles", type=int, default=1000, help="tiles sampled per border zoom")
    ap.add_argument("--tolerance", type=float, default=8.0,
                    help="largest gap/overhang between a parent and its children per tile, square tile units")
    ap.add_argument("--relative-tolerance", type=float, default=0.002,
                    help="added to --tolerance as a fraction of the parent's area in the tile")
    ap.add_argument("--overlap-tolerance", type=float, default=2.0, help="largest overlap, square tile units")
    ap.add_argument("--min-ring-area", type=float, default=4.0,
                    help="reference rings larger than this (square tile units, clipped) must be drawn")
    ap.add_argument("--ring-distance", type=float, default=8.0,
                    help="how far (tile units) a drawn ring may lie from its reference ring: the "
                         "simplification tolerance, 0.5 px = 8 units")
    ap.add_argument("--max-gzip-bytes", type=int, default=500_000)
    args = ap.parse_args()

    tj, ref = load_reference(args.base, args.system)
    checker = TileChecker(ref, args.tolerance, args.relative_tolerance, args.overlap_tolerance,
                          args.min_ring_area, args.max_gzip_bytes, args.ring_distance)
    tiles = []
    for z in range(args.zmin, args.zmax + 1):
        xs, ys = tile_range(tj["bounds"], z)
        tiles.extend((z, x, y) for x in xs for y in ys)
    zooms = [int(z) for z in args.border_zooms.split(",") if z.strip()]
    sample = border_sample(ref, zooms, args.border_tiles) if zooms else []
    full = set(tiles)
    tiles.extend(t for t in sample if t not in full)
    tile_url = tj["tiles"][0]
    last_z = None
    for z, x, y in tiles:
        if z != last_z and last_z is not None:
            print(f"z{last_z} done: {checker.stats['tiles']} tiles so far", file=sys.stderr)
        last_z = z
        status, encoding, data = get(tile_url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)),
                                     accept_gzip=True)
        if status == 204:
            data = b""
        gz = len(data) if encoding == "gzip" else None
        raw = gzip.decompress(data) if encoding == "gzip" else data
        checker.check(z, x, y, raw, gz)
    print(f"checked {len(tiles)} tiles ({len(sample)} in the border sample at z{args.border_zooms})")
    return checker.finish()


if __name__ == "__main__":
    sys.exit(main())
