#!/usr/bin/env python3
"""Bounding-box reads of a gridmap store through GDAL, with and without the
GeoPackage R-tree spatial index the store keeps.

The same 20 boxes (seeded, each a few blocks wide inside the grids' extent)
are read from the store as it is and from a copy whose index GDAL dropped
(`DisableSpatialIndex`), the way QGIS reads a layer while panning. Every
answer is compared between the two: the same grid codes.

Usage: /usr/bin/python3 scripts/bench/gpkg_bbox.py STORE.gpkg   (python3-gdal)
"""
import random
import shutil
import sys
import tempfile
import time

from osgeo import gdal, ogr

gdal.UseExceptions()


def boxes(path, n=20, seed=7):
    ds = ogr.Open(path)
    layer = ds.GetLayerByName("grids")
    minx, maxx, miny, maxy = layer.GetExtent()
    rng = random.Random(seed)
    w, h = (maxx - minx) / 40, (maxy - miny) / 40
    out = []
    for _ in range(n):
        x = rng.uniform(minx, maxx - w)
        y = rng.uniform(miny, maxy - h)
        out.append((x, y, x + w, y + h))
    return out


def read(path, queries):
    ds = ogr.Open(path)
    layer = ds.GetLayerByName("grids")
    answers = []
    t0 = time.perf_counter()
    for (a, b, c, d) in queries:
        layer.SetSpatialFilterRect(a, b, c, d)
        answers.append(sorted(f.GetField("code") for f in layer))
    elapsed = time.perf_counter() - t0
    return elapsed, answers


def main():
    store = sys.argv[1]
    queries = boxes(store)
    with tempfile.TemporaryDirectory() as tmp:
        plain = f"{tmp}/no-index.gpkg"
        shutil.copy(store, plain)
        ds = ogr.Open(plain, update=1)
        ds.ExecuteSQL("SELECT DisableSpatialIndex('grids', 'geom')")
        ds = None
        opened = ogr.Open(store)  # a layer dies with its dataset: keep both
        count = opened.GetLayerByName("grids").GetFeatureCount()
        opened = None
        read(store, queries[:2])  # warm the page cache of both files
        read(plain, queries[:2])
        with_index, a = read(store, queries)
        without, b = read(plain, queries)
    assert a == b, "the index changed an answer"
    found = sum(len(x) for x in a)
    print(f"{count} grids, {len(queries)} bbox reads, {found} features found (identical answers)")
    print(f"with the R-tree index:    {with_index:.3f} s")
    print(f"without (DisableSpatialIndex): {without:.3f} s")
    print(f"ratio: {without / with_index:.1f}x")


if __name__ == "__main__":
    main()
