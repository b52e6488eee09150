#!/usr/bin/env python3
"""GEOS oracle for `--repair` (gridmap_data::geometry::make_valid).

Writes two fixtures under data/fixtures/repair/:

cases.json -- invalid polygons and what GEOS `make_valid` (shapely 2, method
  "linework", its default) makes of them, polygonal part only (GEOS also returns
  the lines a ring collapses to; a grid has no use for them). Synthetic cases
  (bow-ties, loops, self-touching rings, holes outside or crossing the shell,
  overlapping parts, repeated points, spikes, degenerate rings, random
  self-crossing rings) and defects planted in real Zhejiang district borders:
  whole small districts, and windows of larger ones clipped to a 0.02 degree
  box around a border vertex (to keep the fixture small). Coordinates are
  written with Python's shortest round-trip repr, so the Rust test reads the
  very same doubles.

planted-bowties.json -- the end-to-end recipe: 8 districts of
  zhejiang-admin-gcj02.geojson, each with two consecutive vertices of a border
  it shares with a sibling district swapped (a bow-tie on the shared border),
  and the coverage problems GEOS finds after repairing them with make_valid:
  every connected part of at least SLIVER_M2 m² of

    gap      = parent − union(children)
    overlap  = child_a ∩ child_b (siblings)
    overhang = child − parent

  with its geodesic area (pyproj Geod, WGS84, each ring absolute, holes
  subtracted, as gridmap_data::geometry::area_m2 measures) and a point in it.

Usage: python3 -m venv target/venv && target/venv/bin/pip install shapely==2.2.0 pyproj
       target/venv/bin/python scripts/oracles/make_repair_oracle.py
"""

import json
import math
import pathlib
import random

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data/fixtures/zhejiang-admin-gcj02.geojson"
OUT_DIR = ROOT / "data/fixtures/repair"
SLIVER_M2 = 0.01
PLANTED_DISTRICTS = 8
GEOD = Geod(ellps="WGS84")


def polygonal(geom):
    """The polygonal part of a GEOS result, as a MultiPolygon."""
    if geom.is_empty:
        return MultiPolygon()
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    if not hasattr(geom, "geoms"):
        return MultiPolygon()  # a line or point a ring collapsed to
    parts = [p for g in geom.geoms for p in polygonal(g).geoms]
    return MultiPolygon(parts)


def multipolygon_json(geom):
    """GeoJSON of a (Multi)Polygon without closing or orienting anything."""
    polys = [geom] if isinstance(geom, Polygon) else list(geom.geoms)
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[list(c) for c in p.exterior.coords]] + [[list(c) for c in r.coords] for r in p.interiors]
            for p in polys
        ],
    }


def raw_polygon(shell, holes=()):
    """A possibly invalid polygon, taken as given (shapely closes the rings)."""
    return Polygon(shell, holes)


def synthetic_cases():
    cases = []

    def add(name, geom):
        cases.append((name, geom))

    add("bow-tie", raw_polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    add("bow-tie off-centre", raw_polygon([(0.1, 0.3), (3.7, 2.9), (3.1, 0.2), (0.3, 2.2)]))
    add("figure of three lobes", raw_polygon([(0, 0), (1, 1), (2, 0), (3, 1), (3, 0), (2, 1), (1, 0), (0, 1)]))
    add(
        "ring looping twice",
        raw_polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]),
    )
    add(
        "ring looping over itself, opposite way",
        raw_polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0), (1, 1), (1, 3), (3, 3), (3, 1), (1, 1), (0, 0)]),
    )
    add(
        "self-touching ring, lobe in the notch",
        raw_polygon([(0, 0), (4, 0), (4, 4), (2, 2), (3, 3.5), (1, 3.5), (2, 2), (0, 4)]),
    )
    add(
        "self-touching ring, inverted hole",
        raw_polygon([(0, 0), (4, 0), (4, 4), (2, 4), (2.5, 2), (1.5, 2), (2, 4), (0, 4)]),
    )
    add(
        "ring touching itself on an edge",
        raw_polygon([(0, 0), (4, 0), (4, 4), (2, 0), (0, 4)]),
    )
    add("pentagram", raw_polygon([(math.cos(t), math.sin(t)) for t in [math.pi / 2 + k * 4 * math.pi / 5 for k in range(5)]]))
    add(
        "hole outside the shell",
        raw_polygon([(0, 0), (1, 0), (1, 1), (0, 1)], [[(2, 2), (3, 2), (3, 3), (2, 3)]]),
    )
    add(
        "hole crossing the shell",
        raw_polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(2, 1), (6, 1), (6, 2), (2, 2)]]),
    )
    add(
        "hole sharing an edge with the shell",
        raw_polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(0, 1), (2, 1), (2, 2), (0, 2)]]),
    )
    add(
        "holes overlapping",
        raw_polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)], [(1.5, 1.5), (3, 1.5), (3, 3), (1.5, 3)]]),
    )
    add(
        "hole inside a hole",
        raw_polygon([(0, 0), (6, 0), (6, 6), (0, 6)], [[(1, 1), (5, 1), (5, 5), (1, 5)], [(2, 2), (4, 2), (4, 4), (2, 4)]]),
    )
    add(
        "hole equal to the shell",
        raw_polygon([(0, 0), (1, 0), (1, 1), (0, 1)], [[(0, 0), (1, 0), (1, 1), (0, 1)]]),
    )
    add(
        "overlapping parts",
        MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)]),
    )
    add(
        "part inside another",
        MultiPolygon([box(0, 0, 4, 4), box(1, 1, 2, 2)]),
    )
    add(
        "parts sharing an edge",
        MultiPolygon([box(0, 0, 1, 1), box(1, 0, 2, 1)]),
    )
    add(
        "parts sharing part of an edge",
        MultiPolygon([box(0, 0, 1, 1), box(1, 0.5, 2, 2)]),
    )
    add(
        "repeated points",
        raw_polygon([(0, 0), (0, 0), (1, 0), (1, 0), (1, 0), (1, 1), (0, 1), (0, 1)]),
    )
    add("spike", raw_polygon([(0, 0), (1, 0), (1, 3), (1, 1), (0, 1)]))
    add("spike inwards", raw_polygon([(0, 0), (2, 0), (2, 2), (1, 2), (1, 0.5), (1, 2), (0, 2)]))
    add("collinear ring", raw_polygon([(0, 0), (1, 0), (2, 0)]))
    add(
        "zero-area part beside a good one",
        MultiPolygon([box(0, 0, 1, 1), raw_polygon([(2, 2), (3, 3), (4, 4)])]),
    )
    add(
        "bow-tie with a hole in one lobe",
        raw_polygon([(0, 0), (4, 4), (4, 0), (0, 4)], [[(0.5, 1.5), (1, 1.5), (1, 2.5), (0.5, 2.5)]]),
    )
    rng = random.Random(20261201)
    for k in range(8):
        n = rng.randint(6, 25)
        pts = [(round(rng.uniform(100, 101), 6), round(rng.uniform(20, 21), 6)) for _ in range(n)]
        add(f"random self-crossing ring {k} ({n} vertices)", raw_polygon(pts))
    return cases


def swap(coords, i):
    c = list(coords)
    c[i], c[i + 1] = c[i + 1], c[i]
    return c


def plant(kind, coords, i, rng):
    """A defect at vertex i of an open ring (closing vertex excluded)."""
    c = list(coords)
    if kind == "bow-tie":
        return swap(c, i)
    if kind == "repeated point and bow-tie":
        c = swap(c, i)
        return c[: i + 2] + [c[i + 1]] + c[i + 2 :]
    if kind == "loop":
        # Jump two vertices ahead and come back: the ring crosses itself twice.
        return c[:i] + [c[i + 2], c[i + 1], c[i], c[i + 3]] + c[i + 4 :]
    if kind == "spike":
        (x0, y0), (x1, y1) = c[i], c[i + 1]
        tip = (x0 + (x0 - x1) * 3, y0 + (y0 - y1) * 3)
        return c[: i + 1] + [tip, c[i]] + c[i + 1 :]
    raise ValueError(kind)


def real_cases():
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    districts = [f for f in data["features"] if f["properties"]["level"] == "district"]
    rng = random.Random(330000)
    cases = []
    kinds = ["bow-tie", "loop", "repeated point and bow-tie", "spike"]
    by_size = sorted(districts, key=lambda f: shapely.get_num_coordinates(shape(f["geometry"])))
    # Whole small districts, one defect each in the largest part's exterior.
    for f, kind in zip(by_size[:4], kinds):
        geom = shape(f["geometry"])
        parts = sorted(geom.geoms, key=lambda p: -p.area)
        main = parts[0]
        ring = list(main.exterior.coords)[:-1]
        i = len(ring) // 3
        bad = raw_polygon(plant(kind, ring, i, rng), [list(r.coords) for r in main.interiors])
        geom = MultiPolygon([bad] + parts[1:])
        cases.append((f"{f['properties']['code']} whole district, {kind}", geom))
    # Windows of larger districts around a border vertex, several defects.
    picked = rng.sample(by_size[4:], 30)
    for n, f in enumerate(picked):
        geom = shape(f["geometry"])
        main = max(geom.geoms, key=lambda p: p.area)
        ring = list(main.exterior.coords)[:-1]
        centre = ring[rng.randrange(len(ring))]
        window = box(centre[0] - 0.01, centre[1] - 0.01, centre[0] + 0.01, centre[1] + 0.01)
        clipped = polygonal(geom.intersection(window))
        piece = max(clipped.geoms, key=lambda p: len(p.exterior.coords))
        coords = list(piece.exterior.coords)[:-1]
        if len(coords) < 12:
            continue
        kind = kinds[n % len(kinds)]
        planted = coords
        for _ in range(1 + n % 3):
            i = rng.randrange(1, len(planted) - 5)
            planted = plant(kind, planted, i, rng)
        bad = raw_polygon(planted, [list(r.coords) for r in piece.interiors])
        others = [p for p in clipped.geoms if p is not piece]
        cases.append((f"{f['properties']['code']} window, {kind} x{1 + n % 3}", MultiPolygon([bad] + others)))
    return cases


def write_cases():
    out = []
    for name, geom in synthetic_cases() + real_cases():
        geom = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
        if geom.is_valid:
            continue  # a planted defect that happened not to break anything
        fixed = polygonal(shapely.make_valid(geom))
        assert fixed.is_valid, name
        out.append(
            {
                "name": name,
                "input": multipolygon_json(geom),
                "geos": multipolygon_json(fixed),
                "geos_area": fixed.area,
            }
        )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "cases.json").write_text(
        json.dumps({"shapely": shapely.__version__, "geos": shapely.geos_version_string, "cases": out}, separators=(",", ":"))
        + "\n",
        encoding="utf-8",
    )
    return out


# ---- planted bow-ties on shared borders, and the GEOS coverage report ----


def ring_area(coords):
    lons, lats = zip(*coords)
    area, _ = GEOD.polygon_area_perimeter(lons, lats)
    return abs(area)


def area_m2(geom):
    total = 0.0
    for p in polygonal(geom).geoms:
        total += ring_area(p.exterior.coords) - sum(ring_area(r.coords) for r in p.interiors)
    return total


def choose_swaps(data):
    """Per district, a swap of two consecutive vertices both shared, bit for
    bit, with one sibling and with no other grid, so the bow-tie sits on a
    border between two districts of one city."""
    feats = data["features"]
    districts = [f for f in feats if f["properties"]["level"] == "district"]
    owners = {}
    for f in feats:
        for pi, poly in enumerate(f["geometry"]["coordinates"]):
            for ring in poly:
                for c in ring[:-1]:
                    owners.setdefault(tuple(c), set()).add(f["properties"]["code"])
    rng = random.Random(8)
    rng.shuffle(districts)
    swaps = []
    for f in districts:
        code, parent = f["properties"]["code"], f["properties"]["parent"]
        ring = f["geometry"]["coordinates"][0][0]
        candidates = []
        for i in range(1, len(ring) - 3):
            a, b = owners[tuple(ring[i])], owners[tuple(ring[i + 1])]
            pre, post = owners[tuple(ring[i - 1])], owners[tuple(ring[i + 2])]
            if a == b == pre == post and len(a) == 2 and code in a:
                neighbour = next(iter(a - {code}))
                if next(g for g in feats if g["properties"]["code"] == neighbour)["properties"]["parent"] == parent:
                    candidates.append((i, neighbour))
        rng.shuffle(candidates)
        for i, neighbour in candidates:
            planted = swap(ring, i)
            if not Polygon(planted).is_valid:
                swaps.append({"code": code, "polygon": 0, "ring": 0, "vertex": i, "neighbour": neighbour})
                break
        if len(swaps) == PLANTED_DISTRICTS:
            return swaps
    raise RuntimeError("not enough shared borders to plant bow-ties on")


def coverage_problems(data):
    feats = {f["properties"]["code"]: f for f in data["features"]}
    geoms = {}
    for code, f in feats.items():
        g = shape(f["geometry"])
        geoms[code] = g if g.is_valid else polygonal(shapely.make_valid(g))
    children = {}
    for code, f in feats.items():
        children.setdefault(f["properties"]["parent"], []).append(code)
    found = []

    def add(kind, grids, geom):
        for p in polygonal(geom).geoms:
            a = area_m2(p)
            if a >= SLIVER_M2:
                pt = p.representative_point()
                found.append({"kind": kind, "grids": grids, "area_m2": a, "point": [pt.x, pt.y]})

    for parent, kids in children.items():
        if parent is None:
            continue
        kids = sorted(kids)
        add("gap", [parent], geoms[parent].difference(shapely.union_all([geoms[k] for k in kids])))
        for i, a in enumerate(kids):
            for b in kids[i + 1 :]:
                if geoms[a].intersects(geoms[b]):
                    add("overlap", [a, b], geoms[a].intersection(geoms[b]))
            add("overhang", [a, parent], geoms[a].difference(geoms[parent]))
    found.sort(key=lambda r: (r["kind"], r["grids"], -r["area_m2"]))
    return found


def write_planted():
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    swaps = choose_swaps(data)
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    for s in swaps:
        ring = by_code[s["code"]]["geometry"]["coordinates"][s["polygon"]][s["ring"]]
        ring[:] = swap(ring, s["vertex"])
    result = {
        "source": SOURCE.name,
        "levels": ["province", "city", "district"],
        "sliver_m2": SLIVER_M2,
        "swaps": swaps,
        "problems": coverage_problems(data),
    }
    (OUT_DIR / "planted-bowties.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    cases = write_cases()
    print(len(cases), "repair cases")
    planted = write_planted()
    for p in planted["problems"]:
        print(p["kind"], ",".join(p["grids"]), round(p["area_m2"], 4))
    print(len(planted["problems"]), "GEOS problems of at least", SLIVER_M2, "m² with", len(planted["swaps"]), "bow-ties")
