// The editor's map: the server's style whose grid tiles show the view being
// worked on (the current data, an open proposal via ?proposal=, or a past
// version via ?at=), and on top of it the exact geometry of the working set
// (GeoJSON sources the drawing tools change while the pointer moves).

import { api, authHeaders, url } from './edit-api.js';
import { WorkingSet, bboxOf, polygonsOf, verticesOf } from './edit-geom.js';

const maplibregl = window.maplibregl;

const EMPTY = { type: 'FeatureCollection', features: [] };
const LEVEL_COLOURS = ['#1d3560', '#2b6a4a', '#b0462a', '#5e4690'];

/** The query a view adds to tile, grid and lookup requests. */
export function viewQuery(ctx) {
  if (ctx.view.kind === 'proposal') return `proposal=${ctx.view.id}`;
  if (ctx.view.kind === 'at') return `at=${ctx.view.id}`;
  return '';
}

const withView = (ctx, path) => {
  const q = viewQuery(ctx);
  return q ? `${path}${path.includes('?') ? '&' : '?'}${q}` : path;
};

export function createMap(ctx, container) {
  const map = new maplibregl.Map({
    container,
    style: { version: 8, sources: {}, layers: [] },
    center: [120.08, 30.22],
    zoom: 11,
    attributionControl: false,
    // Proposal tiles are drafts: the token goes with every same-origin request.
    transformRequest: (u) => (u.startsWith(location.origin) ? { url: u, headers: authHeaders() } : { url: u }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  ctx.map = map;
  return map;
}

/** Our overlay sources and layers, added again after every style load. */
function addOverlay(ctx) {
  const map = ctx.map;
  for (const id of ['work', 'vertices', 'drag', 'draw', 'marks']) {
    if (!map.getSource(id)) map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  const add = (layer) => !map.getLayer(layer.id) && map.addLayer(layer);
  add({
    id: 'work-chosen', type: 'fill', source: 'work',
    filter: ['any', ['==', ['get', 'code'], ['literal', ctx.selected ?? '']], ['==', ['get', 'code'], ['literal', ctx.partner ?? '']]],
    paint: { 'fill-color': '#f2a33a', 'fill-opacity': 0.25 },
  });
  add({
    id: 'work-line', type: 'line', source: 'work',
    paint: {
      'line-color': ['match', ['get', 'depth'], 0, LEVEL_COLOURS[0], 1, LEVEL_COLOURS[1], 2, LEVEL_COLOURS[2], LEVEL_COLOURS[3]],
      'line-width': ['match', ['get', 'depth'], 0, 4, 1, 3, 2],
    },
  });
  add({ id: 'draw-line', type: 'line', source: 'draw', paint: { 'line-color': '#d0021b', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
  add({ id: 'draw-points', type: 'circle', source: 'draw', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': '#d0021b' } });
  add({
    id: 'vertex', type: 'circle', source: 'vertices',
    paint: { 'circle-radius': 3.5, 'circle-color': '#ffffff', 'circle-stroke-color': '#b0462a', 'circle-stroke-width': 1.5 },
  });
  add({ id: 'drag-vertex', type: 'circle', source: 'drag', paint: { 'circle-radius': 6, 'circle-color': '#d0021b' } });
  add({ id: 'marks', type: 'circle', source: 'marks', paint: { 'circle-radius': 8, 'circle-color': '#1f78d1', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
  drawWork(ctx);
}

/**
 * Loads the server's style with its grid source pointing at the current
 * view's TileJSON; `revision` makes MapLibre fetch a proposal's tiles anew
 * after each edit (they are served no-store, but MapLibre keeps tiles of an
 * unchanged source URL).
 */
export async function loadView(ctx) {
  const style = await api('GET', `styles/${encodeURIComponent(ctx.system)}.json`);
  const q = viewQuery(ctx);
  const rev = ctx.view.kind === 'proposal' ? `&r=${ctx.proposal?.revision ?? 0}` : '';
  style.sources.grids.url = url(`tiles/${encodeURIComponent(ctx.system)}.json${q ? `?${q}${rev}` : ''}`);
  ctx.levels = style.metadata?.['gridmap:levels'] ?? [];
  ctx.styleLayers = style.metadata?.['gridmap:style_layers'] ?? {};
  await new Promise((resolve) => {
    ctx.map.once('style.load', resolve);
    ctx.map.setStyle(style, { diff: false });
  });
  addOverlay(ctx);
  highlightSelection(ctx);
}

/** Puts the selection (and the merge partner) into the tiles' own highlight layers too. */
export function highlightSelection(ctx) {
  const map = ctx.map;
  for (const [level, kinds] of Object.entries(ctx.styleLayers ?? {})) {
    for (const kind of ['selected', 'selected-fill']) {
      const id = kinds[kind];
      if (!id || !map.getLayer(id)) continue;
      map.setFilter(id, ['in', ['get', 'code'], ['literal', [ctx.selected, ctx.partner].filter(Boolean)]]);
    }
  }
  if (map.getLayer('work-chosen')) {
    map.setFilter('work-chosen', ['in', ['get', 'code'], ['literal', [ctx.selected, ctx.partner].filter(Boolean)]]);
  }
}

const depthOf = (ctx, level) => Math.max(0, ctx.levels.findIndex((l) => l.name === level));

/** Pushes the working set (and the selected grid's vertices) into the overlay sources. */
export function drawWork(ctx) {
  const map = ctx.map;
  if (!map.getSource('work')) return;
  map.getSource('work').setData(ctx.work ? ctx.work.collection() : EMPTY);
  const sel = ctx.work?.byCode.get(ctx.selected);
  const editable = sel && ctx.view.kind !== 'at';
  map.getSource('vertices').setData({
    type: 'FeatureCollection',
    features: editable ? verticesOf(sel).map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} })) : [],
  });
}

/** The grid at `lngLat` on `level` in the current view (the lookup answers for every level), or null. */
export async function gridAt(ctx, lngLat, level) {
  const hit = await api('GET', withView(ctx, `api/v1/lookup?lon=${lngLat.lng}&lat=${lngLat.lat}&system=${encodeURIComponent(ctx.system)}`));
  const path = hit.grids ?? [];
  return (level ? path.find((g) => g.level === level) : path.at(-1)) ?? null;
}

/** One grid as the current view has it (GeoJSON Feature), or null when the view has no such grid. */
export async function gridFeature(ctx, code) {
  try {
    return await api('GET', withView(ctx, `api/v1/grids/${encodeURIComponent(code)}?system=${encodeURIComponent(ctx.system)}`));
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

const intersects = (a, b) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

/**
 * Loads the working set around the selection: every grid of any level whose
 * box meets the selected grid's (grown by a quarter), as the view has them.
 * Grids the proposal adds are not in the current list: they come from the
 * proposal's own changed grids; grids it deletes answer 404 and drop out.
 */
export async function loadWorkingSet(ctx) {
  if (!ctx.selected) {
    ctx.work = null;
    drawWork(ctx);
    return;
  }
  const codes = [ctx.selected, ctx.partner].filter(Boolean);
  const first = await Promise.all(codes.map((c) => gridFeature(ctx, c)));
  const boxes = first.filter(Boolean).map(bboxOf);
  if (!boxes.length) {
    ctx.work = null;
    drawWork(ctx);
    return;
  }
  const box = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])), Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))];
  const gx = (box[2] - box[0]) / 4;
  const gy = (box[3] - box[1]) / 4;
  const grown = [box[0] - gx, box[1] - gy, box[2] + gx, box[3] + gy];
  const list = await api('GET', `api/v1/grids?system=${encodeURIComponent(ctx.system)}&bbox=${grown.join(',')}&limit=1000`);
  const want = new Set(list.grids.map((g) => g.code));
  if (ctx.view.kind === 'proposal') {
    for (const g of ctx.proposal?.grids ?? []) {
      if (g.deleted) want.delete(g.code);
      else if (intersects(bboxOf(g), grown)) want.add(g.code);
    }
  }
  for (const c of codes) want.add(c);
  const features = (await Promise.all([...want].map((c) => gridFeature(ctx, c)))).filter(Boolean);
  for (const f of features) f.properties.depth = depthOf(ctx, f.properties.level);
  // Coarse levels first, so the fine lines are drawn over them.
  features.sort((a, b) => a.properties.depth - b.properties.depth);
  ctx.work = new WorkingSet(features);
  drawWork(ctx);
}

/** Shows points (e.g. a located site) as blue marks; an empty list clears them. */
export function showMarks(ctx, coords) {
  ctx.map.getSource('marks')?.setData({
    type: 'FeatureCollection',
    features: coords.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} })),
  });
}

export function fitFeature(ctx, feature) {
  const b = bboxOf(feature);
  if (!Number.isFinite(b[0])) return;
  ctx.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, animate: false, maxZoom: 18 });
}

export { polygonsOf };
