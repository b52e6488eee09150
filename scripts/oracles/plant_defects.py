#!/usr/bin/env python3
"""Builds the planted-defect fixture for `gridmap check` and its GEOS oracle.

From data/fixtures/zhejiang-admin-gcj02.geojson it keeps Hangzhou (杭州市 330100,
as the top level, parent null) and its 13 districts (levels city,district), then
plants three defects:

  (a) removes 滨江区 330108                          -> a gap in 330100;
  (b) shifts 临平区 330113 0.003° east, 0.002° north -> overlaps with its
      neighbours, an overhang out of the city, and a gap where it was;
  (c) cuts a square hole (0.01° side) into 西湖区 330106 -> a gap in 330100.

It writes data/fixtures/defects/zhejiang-defects.geojson and, computed with
GEOS (shapely 2) on the coordinates exactly as written, data/fixtures/defects/
oracle.json: every connected part of

  gap      = city − union(districts)            grids [city]
  overlap  = district_a ∩ district_b (siblings)  grids [a, b] (sorted)
  overhang = district − city                     grids [district, city]

with its geodesic area in m² (WGS84, pyproj.Geod = Karney, the algorithm of geo's
GeodesicArea that gridmap uses; each ring measured and taken absolute, holes
subtracted, like gridmap_data::geometry::area_m2) and a point inside it. Parts
below 1 m² (the default sliver threshold) are left out.

Usage: python3 -m venv /tmp/venv && /tmp/venv/bin/pip install shapely pyproj
       /tmp/venv/bin/python scripts/oracles/plant_defects.py
"""

import json
import pathlib

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data/fixtures/zhejiang-admin-gcj02.geojson"
OUT_DIR = ROOT / "data/fixtures/defects"
CITY = "330100"
REMOVED = "330108"
SHIFTED = "330113"
SHIFT = (0.003, 0.002)
HOLED = "330106"
HOLE_CENTRE = (120.10, 30.25)
HOLE_SIDE = 0.01
SLIVER_M2 = 1.0

GEOD = Geod(ellps="WGS84")


def ring_area(coords):
    lons, lats = zip(*coords)
    area, _ = GEOD.polygon_area_perimeter(lons, lats)
    return abs(area)


def area_m2(geom):
    polys = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    total = 0.0
    for p in polys:
        if not isinstance(p, Polygon) or p.is_empty:
            continue
        total += ring_area(p.exterior.coords) - sum(ring_area(r.coords) for r in p.interiors)
    return total


def parts(geom):
    """Connected polygonal parts of a GEOS result (lines and points dropped)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [g for sub in getattr(geom, "geoms", []) for g in parts(sub)]


def as_multi(geom):
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def round7(geom):
    return shapely.transform(geom, lambda c: np.round(c, 7))


def build():
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    city = by_code[CITY]
    districts = [f for f in data["features"] if f["properties"]["parent"] == CITY]
    shifted_geom = shape(by_code[SHIFTED]["geometry"])
    removed_geom = shape(by_code[REMOVED]["geometry"])
    # Keep the planted gaps apart so each shows as its own part.
    assert shifted_geom.distance(removed_geom) > 0.01, "shifted and removed districts must not touch"
    features = [
        {
            "type": "Feature",
            "properties": {"code": CITY, "name": city["properties"]["name"], "level": "city", "parent": None},
            "geometry": city["geometry"],
        }
    ]
    for f in districts:
        code = f["properties"]["code"]
        if code == REMOVED:
            continue
        geom = shape(f["geometry"])
        if code == SHIFTED:
            geom = round7(shapely.affinity.translate(geom, *SHIFT))
        if code == HOLED:
            cx, cy = HOLE_CENTRE
            hole = box(cx - HOLE_SIDE / 2, cy - HOLE_SIDE / 2, cx + HOLE_SIDE / 2, cy + HOLE_SIDE / 2)
            assert geom.buffer(-0.002).contains(hole), "the hole must lie well inside the district"
            geom = round7(as_multi(geom.difference(hole)))
        assert geom.is_valid, code
        props = dict(f["properties"])
        features.append({"type": "Feature", "properties": props, "geometry": mapping(as_multi(geom))})
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "zhejiang-defects.geojson"
    out.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")),
        encoding="utf-8",
    )
    return out


def oracle(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    feats = {f["properties"]["code"]: shape(f["geometry"]) for f in data["features"]}
    city = feats[CITY]
    kids = sorted(c for c, f in zip(feats, data["features"]) if f["properties"]["parent"] == CITY)
    found = []

    def add(kind, grids, geom):
        for p in parts(geom):
            a = area_m2(p)
            if a >= SLIVER_M2:
                pt = p.representative_point()
                found.append({"kind": kind, "grids": grids, "area_m2": round(a, 3), "point": [pt.x, pt.y]})

    add("gap", [CITY], city.difference(shapely.union_all([feats[k] for k in kids])))
    for i, a in enumerate(kids):
        for b in kids[i + 1 :]:
            if feats[a].intersects(feats[b]):
                add("overlap", [a, b], feats[a].intersection(feats[b]))
        add("overhang", [a, CITY], feats[a].difference(city))
    found.sort(key=lambda r: (r["kind"], r["grids"], -r["area_m2"]))
    planted = {
        "removed": {"code": REMOVED, "kind": "gap", "grids": [CITY]},
        "shifted": {"code": SHIFTED, "shift_degrees": list(SHIFT), "kinds": ["overlap", "overhang", "gap"]},
        "hole": {"code": HOLED, "kind": "gap", "grids": [CITY], "centre": list(HOLE_CENTRE), "side_degrees": HOLE_SIDE},
    }
    result = {
        "source": "zhejiang-defects.geojson",
        "levels": ["city", "district"],
        "sliver_m2": SLIVER_M2,
        "planted": planted,
        "problems": found,
    }
    (OUT_DIR / "oracle.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    path = build()
    result = oracle(path)
    for r in result["problems"]:
        if r["area_m2"] >= 100:
            print(r["kind"], ",".join(r["grids"]), r["area_m2"])
    print(len(result["problems"]), "parts of at least", SLIVER_M2, "m²")
