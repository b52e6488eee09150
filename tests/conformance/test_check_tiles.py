"""Tests of the conformance checker: a correct tile passes, and each kind of
broken tile (built with mapbox-vector-tile's encoder) fails with the right
kind. Run with `python -m unittest tests/conformance/test_check_tiles.py`."""
import math
import os
import sys
import unittest

import mapbox_vector_tile
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from shapely.geometry import MultiPolygon, Polygon, box

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tiles as ct  # noqa: E402

Z, X, Y = 10, 855, 420
MB = ct.tile_bounds(Z, X, Y)
SCALE = ct.EXTENT / (MB[2] - MB[0])


def lonlat(u, v):
    """Tile units of tile Z/X/Y (y down) to lon/lat."""
    mx, my = MB[0] + u / SCALE, MB[3] - v / SCALE
    lon = math.degrees(mx / ct.EARTH_RADIUS)
    lat = math.degrees(2.0 * math.atan(math.exp(my / ct.EARTH_RADIUS)) - math.pi / 2.0)
    return lon, lat


def ref_box(u0, v0, u1, v1):
    return Polygon([lonlat(u0, v0), lonlat(u1, v0), lonlat(u1, v1), lonlat(u0, v1)])


# The reference: a province of two cities on a coast at v = 3000 (sea below),
# the left city of two districts, the right one of one district with an
# island in the sea; the land reaches beyond the tile.
COAST = 3000
ISLAND = (3500, 3500, 3600, 3600)
GRIDS = {
    "1": ("province", None, MultiPolygon([ref_box(-1000, -1000, 5096, COAST), ref_box(*ISLAND)])),
    "11": ("city", "1", ref_box(-1000, -1000, 2048, COAST)),
    "12": ("city", "1", MultiPolygon([ref_box(2048, -1000, 5096, COAST), ref_box(*ISLAND)])),
    "111": ("district", "11", ref_box(-1000, -1000, 2048, 1000)),
    "112": ("district", "11", ref_box(-1000, 1000, 2048, COAST)),
    "121": ("district", "12", MultiPolygon([ref_box(2048, -1000, 5096, COAST), ref_box(*ISLAND)])),
}
LEVELS = ["province", "city", "district"]


def reference(min_zoom=None, grids=None):
    return ct.Reference(LEVELS, min_zoom or {level: 0 for level in LEVELS}, grids or GRIDS)


def tile_box(u0, v0, u1, v1):
    return box(u0, v0, u1, v1)


def good_layers():
    """The tile as the server should draw it (buffer 64)."""
    b = 64
    island = tile_box(*ISLAND)
    right = MultiPolygon([tile_box(2048, -b, 4096 + b, COAST), island])

    def feature(code, parent, geom):
        return {"id": int(code), "geometry": geom, "properties": {"code": code, "parent": parent or ""}}

    return {
        "province": [feature("1", None, MultiPolygon([tile_box(-b, -b, 4096 + b, COAST), island]))],
        "city": [feature("11", "1", tile_box(-b, -b, 2048, COAST)), feature("12", "1", right)],
        "district": [feature("111", "11", tile_box(-b, -b, 2048, 1000)),
                     feature("112", "11", tile_box(-b, 1000, 2048, COAST)),
                     feature("121", "12", right)],
    }


def encode(layers):
    return mapbox_vector_tile.encode(
        [{"name": name, "features": feats} for name, feats in layers.items()],
        default_options={"y_coord_down": True, "quantize_bounds": None, "extents": ct.EXTENT,
                         "on_invalid_geometry": None, "check_winding_order": False})


def with_rings(raw, layer, index, rings):
    """The tile `raw` with the geometry of one polygon feature replaced by
    `rings` exactly as given (the encoder would repair or drop bad ones)."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(raw)
    feature = next(l for l in tile.layers if l.name == layer).features[index]
    cmds, cur = [], (0, 0)
    zz = lambda n: (n << 1) ^ (n >> 31)  # noqa: E731
    for ring in rings:
        (x0, y0), rest = ring[0], ring[1:]
        cmds += [(1 & 7) | (1 << 3), zz(x0 - cur[0]), zz(y0 - cur[1])]
        cur = (x0, y0)
        cmds.append((2 & 7) | (len(rest) << 3))
        for x, y in rest:
            cmds += [zz(x - cur[0]), zz(y - cur[1])]
            cur = (x, y)
        cmds.append((7 & 7) | (1 << 3))
    del feature.geometry[:]
    feature.geometry.extend(cmds)
    return tile.SerializeToString()


def run(layers, ref=None, raw=None, **kw):
    """Checks one tile; returns the checker."""
    checker = ct.TileChecker(ref or reference(), quiet=True, **kw)
    checker.check(Z, X, Y, raw if raw is not None else encode(layers))
    return checker


class GoodTile(unittest.TestCase):
    def test_a_correct_tile_passes(self):
        layers = good_layers()
        checker = run(layers)
        self.assertEqual(checker.failures, [])
        self.assertEqual(checker.finish(), 0)
        self.assertEqual(checker.stats["parent_checks"], 3)

    def test_a_level_not_drawn_yet_may_be_absent(self):
        layers = good_layers()
        del layers["district"]
        checker = run(layers, reference({"province": 0, "city": 0, "district": Z + 1}))
        self.assertEqual(checker.failures, [])


class BrokenTiles(unittest.TestCase):
    def assertFails(self, checker, kind):
        status = checker.finish()
        self.assertIn(kind, checker.kinds, checker.failures)
        self.assertEqual(status, 1)

    def test_every_tile_empty(self):
        checker = ct.TileChecker(ct.Reference(LEVELS, {level: 30 for level in LEVELS}, GRIDS), quiet=True)
        for y in range(3):
            checker.check(Z, X, Y + y, b"")
        self.assertEqual(checker.failures, [])
        self.assertFails(checker, "all_empty")

    def test_layer_missing_where_drawn(self):
        layers = good_layers()
        del layers["district"]
        self.assertFails(run(layers), "layer_missing")

    def test_child_without_parent(self):
        layers = good_layers()
        del layers["province"]
        checker = run(layers)
        self.assertFails(checker, "parent_missing")
        self.assertIn("layer_missing", checker.kinds)

    def test_parent_property_wrong(self):
        for wrong in ("11", "999", "111", ""):
            layers = good_layers()
            layers["district"][2]["properties"]["parent"] = wrong
            with self.subTest(parent=wrong):
                self.assertFails(run(layers), "parent_wrong")

    def test_zero_area_ring(self):
        layers = good_layers()
        rings = [[(-64, -64), (2048, -64), (2048, 1000), (-64, 1000)], [(10, 10), (20, 10), (30, 10)]]
        self.assertFails(run(layers, raw=with_rings(encode(layers), "district", 0, rings)), "zero_area_ring")

    def test_duplicate_ids(self):
        layers = good_layers()
        layers["district"][1]["id"] = 111
        self.assertFails(run(layers), "duplicate_id")

    def test_tile_too_large(self):
        layers = good_layers()
        layers["district"][0]["properties"]["noise"] = os.urandom(700_000).hex()
        checker = run(layers)
        self.assertFails(checker, "too_large")
        self.assertGreater(checker.largest[0], 500_000)

    def test_invalid_polygon(self):
        layers = good_layers()
        bow_tie = [[(-64, -64), (2048, -64), (-64, 1000), (1000, 1000)]]
        self.assertFails(run(layers, raw=with_rings(encode(layers), "district", 0, bow_tie)), "invalid")

    def test_wrong_winding(self):
        layers = good_layers()
        backwards = [[(-64, -64), (-64, 1000), (2048, 1000), (2048, -64)]]
        self.assertFails(run(layers, raw=with_rings(encode(layers), "district", 0, backwards)), "winding")

    def test_child_missing_leaves_a_gap(self):
        layers = good_layers()
        del layers["district"][1]
        checker = run(layers)
        self.assertFails(checker, "gap")
        self.assertIn("feature_missing", checker.kinds)

    def test_children_overlapping(self):
        layers = good_layers()
        layers["district"][0]["geometry"] = tile_box(-64, -64, 2048, 1300)
        checker = run(layers)
        self.assertFails(checker, "overlap")

    def test_island_dropped(self):
        layers = good_layers()
        layers["district"][2]["geometry"] = tile_box(2048, -64, 4160, COAST)
        checker = run(layers)
        self.assertFails(checker, "ring_dropped")
        # An island beyond the tile is not required.
        grids = dict(GRIDS)
        for code in ("1", "12", "121"):
            level, parent, geom = grids[code]
            grids[code] = (level, parent, MultiPolygon([geom.geoms[0], ref_box(4500, 3500, 4600, 3600)]))
        layers = good_layers()
        for level, i in (("province", 0), ("city", 1), ("district", 2)):
            layers[level][i]["geometry"] = MultiPolygon([layers[level][i]["geometry"].geoms[0]])
        self.assertEqual(run(layers, reference(grids=grids)).failures, [])

    def test_unstable_id(self):
        layers = good_layers()
        layers["district"][0]["id"] = 7
        self.assertFails(run(layers), "unstable_id")


class BorderSample(unittest.TestCase):
    def test_sample_is_deterministic_and_on_borders(self):
        ref = reference()
        a = ct.border_sample(ref, [13, 14], 5)
        self.assertEqual(a, ct.border_sample(ref, [13, 14], 5))
        at14 = len({ct.tile_of(mx, my, 14) for mx, my in ref.shared_border_vertices()})
        self.assertEqual(sum(1 for t in a if t[0] == 14), min(5, at14))
        self.assertGreater(at14, 1)
        verts = ref.shared_border_vertices()
        self.assertGreater(len(verts), 0)
        for z, x, y in a:
            self.assertTrue(any(ct.tile_of(mx, my, z) == (x, y) for mx, my in verts))
        # Fewer border tiles than asked for: all of them.
        everything = ct.border_sample(ref, [13], 10_000)
        self.assertEqual(len(everything), len({ct.tile_of(mx, my, 13) for mx, my in verts}))


if __name__ == "__main__":
    unittest.main()
