// The exact geometry the editor works on: the selected grid and every grid
// of any level around it, as the proposal has them (GeoJSON from
// /api/v1/grids/{code}?proposal=), with an index from each vertex to every
// place it is stored. Shared borders are bit-identical in the store, so one
// vertex key finds the same corner in every block, community and street that
// has it; moving them together is what the API's move_vertex does.

/** Polygons of a Polygon or MultiPolygon geometry as a list of polygons. */
export function polygonsOf(geometry) {
  if (!geometry) return [];
  return geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
}

const keyOf = (c) => `${c[0]},${c[1]}`;

export class WorkingSet {
  /** `features`: GeoJSON Features with properties {code, name, level, parent}. */
  constructor(features) {
    this.features = features;
    this.byCode = new Map(features.map((f) => [f.properties.code, f]));
    /** vertex key → [[feature, coordinate array]]: the stored coordinate pairs themselves. */
    this.vertices = new Map();
    for (const f of features) {
      for (const poly of polygonsOf(f.geometry)) {
        for (const ring of poly) {
          for (const c of ring) {
            const k = keyOf(c);
            let at = this.vertices.get(k);
            if (!at) this.vertices.set(k, (at = []));
            at.push([f, c]);
          }
        }
      }
    }
  }

  /** Every stored copy of the vertex at `c` (exact), each with its feature. */
  sharing(c) {
    return this.vertices.get(keyOf(c)) ?? [];
  }

  /** Codes of the grids that have the vertex at `c`. */
  codesAt(c) {
    return [...new Set(this.sharing(c).map(([f]) => f.properties.code))];
  }

  collection() {
    return { type: 'FeatureCollection', features: this.features };
  }
}

/** Distinct vertices of a feature (ring closures once). */
export function verticesOf(feature) {
  const out = [];
  for (const poly of polygonsOf(feature?.geometry)) {
    for (const ring of poly) out.push(...ring.slice(0, -1));
  }
  return out;
}

/** Squared screen distance from point p to segment ab (all {x, y}), and the nearest point's fraction. */
function segmentDistance(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  let t = len > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len : 0;
  t = Math.max(0, Math.min(1, t));
  const x = a.x + t * dx - p.x;
  const y = a.y + t * dy - p.y;
  return { d2: x * x + y * y, t };
}

/**
 * Where a pointer at screen point `p` snaps to among the `features`' rings:
 * the nearest vertex within `px` pixels (exactly as stored), else the
 * nearest point on a border segment within `px` (interpolated in lon/lat),
 * else null. Only segments whose screen box is near `p` are measured.
 */
export function snap(map, features, p, px = 8) {
  let vertex = null;
  let best = px * px;
  let edge = null;
  let bestEdge = px * px;
  const lngLat = map.unproject([p.x, p.y]);
  const tol = Math.abs(map.unproject([p.x + px * 2, p.y]).lng - lngLat.lng);
  for (const f of features) {
    for (const poly of polygonsOf(f.geometry)) {
      for (const ring of poly) {
        for (let i = 0; i + 1 < ring.length; i++) {
          const c = ring[i];
          const d = ring[i + 1];
          // Cheap rejection in degrees before projecting.
          if (Math.min(c[0], d[0]) > lngLat.lng + tol || Math.max(c[0], d[0]) < lngLat.lng - tol) continue;
          if (Math.min(c[1], d[1]) > lngLat.lat + tol || Math.max(c[1], d[1]) < lngLat.lat - tol) continue;
          const a = map.project(c);
          const b = map.project(d);
          const da = (a.x - p.x) ** 2 + (a.y - p.y) ** 2;
          if (da <= best) {
            best = da;
            vertex = c;
          }
          const s = segmentDistance(p, a, b);
          if (s.d2 <= bestEdge && s.t > 0 && s.t < 1) {
            bestEdge = s.d2;
            edge = [c[0] + (d[0] - c[0]) * s.t, c[1] + (d[1] - c[1]) * s.t];
          }
        }
      }
    }
  }
  if (vertex) return { kind: 'vertex', coord: [vertex[0], vertex[1]] };
  if (edge) return { kind: 'edge', coord: edge };
  return null;
}

/** A representative point of a feature for a label or a message: its largest ring's vertex mean. */
export function labelPoint(feature) {
  let best = null;
  for (const poly of polygonsOf(feature?.geometry)) {
    if (!best || poly[0].length > best.length) best = poly[0];
  }
  if (!best) return null;
  let x = 0;
  let y = 0;
  const n = best.length - 1 || 1;
  for (const c of best.slice(0, n)) {
    x += c[0];
    y += c[1];
  }
  return [x / n, y / n];
}

/** [w, s, e, n] of a feature. */
export function bboxOf(feature) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polygonsOf(feature?.geometry)) {
    for (const c of poly[0]) {
      b[0] = Math.min(b[0], c[0]);
      b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]);
      b[3] = Math.max(b[3], c[1]);
    }
  }
  return b;
}
