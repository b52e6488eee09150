// gridmap web map: shows the grid tiles with the server's style, highlights
// the grid under the pointer, and on a click asks /api/v1/lookup which grids
// hold the point and who serves them.
//
// Plain ES module, no bundler: MapLibre is loaded by index.html as a classic
// script (window.maplibregl). All URLs are relative to the page, so the map
// also works behind a reverse proxy under a path prefix.
//
// The page knows no level or layer names of its own: the server's style lists
// the levels (name, shown label, first zoom) in `metadata["gridmap:levels"]`
// and the ids of each level's style layers in `metadata["gridmap:style_layers"]`,
// both made from the tiles' one layer schema.
//
// Hover and selection are drawn by the style's highlight layers, whose filter
// matches no feature until the page sets it to one feature id: the style
// itself is static, so QGIS and MapLibre Native draw it as it is.

import { closeCard, escapeHtml, levelLabel, onCardClose, openCard, renderCard, setLevelLabel, cardElement as card } from './card.js';

const maplibregl = window.maplibregl;

const $ = (sel) => document.querySelector(sel);
const select = $('#system-select');

/** Absolute URL of a server path, relative to the page (keeps a proxy prefix). */
const url = (path) => new URL(path, document.baseURI).href;

// Level names as the style's metadata gives them, for the card.
setLevelLabel((level) => levels.find((l) => l.name === level)?.label);

/** Id of a level's style layer of one kind (fill, unstaffed, line, label, hover, selected-fill, selected), if the style has it. */
const styleLayer = (level, kind) => levels.find((l) => l.name === level)?.layers?.[kind];

/** The highlight layer kinds that show the grid under the pointer, and the selected grid. */
const HIGHLIGHT_KINDS = { hover: ['hover'], selected: ['selected-fill', 'selected'] };

async function getJson(path) {
  const resp = await fetch(url(path));
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // A non-JSON body (proxy error page): reported below by status.
  }
  if (!resp.ok) {
    throw new Error(body?.error?.message ?? `${resp.status} ${resp.statusText}`);
  }
  return body;
}

function status(text) {
  const el = $('#status');
  el.textContent = text ?? '';
  el.hidden = !text;
}

// ---- state ---------------------------------------------------------------

let map;
let tilesets = [];
let system = null;
/** Levels of the current style, top-down: {name, label, depth, minzoom, layers: {kind: style layer id}}. */
let levels = [];
let hovered = null; // {level, id}
let selected = null; // {level, id}
let lookupSeq = 0;
/** Per highlight layer id, the filter the style gives it (matching no feature), put back when nothing is highlighted. */
let idleFilters = new Map();

/**
 * Draws `target` ({level, id}; null for none) in the highlight layers of
 * `what` (hover or selected): the target level's layers are filtered to its
 * feature id, every other level's get their idle filter back.
 */
function highlight(what, target) {
  if (!map.getSource('grids')) return;
  for (const l of levels) {
    for (const kind of HIGHLIGHT_KINDS[what]) {
      const id = l.layers[kind];
      if (!id || !map.getLayer(id)) continue;
      const filter = target?.level === l.name ? ['==', ['id'], target.id] : idleFilters.get(id);
      map.setFilter(id, filter ?? null);
    }
  }
}

/** The deepest level drawn at the current zoom. */
function finestVisibleLevel() {
  const z = map.getZoom();
  let best = null;
  for (const l of levels) {
    const fill = styleLayer(l.name, 'fill');
    if (l.minzoom <= z + 1e-9 && fill && map.getLayer(fill)) best = l;
  }
  return best;
}

// ---- style and system ----------------------------------------------------

/** Reads the levels and their style layers from the style's metadata. */
function onStyleLoaded() {
  const meta = map.getStyle().metadata ?? {};
  const styleLayers = meta['gridmap:style_layers'] ?? {};
  levels = (meta['gridmap:levels'] ?? []).map((l) => ({ ...l, layers: styleLayers[l.name] ?? {} }));
  idleFilters = new Map();
  for (const l of levels) {
    for (const kind of Object.values(HIGHLIGHT_KINDS).flat()) {
      const id = l.layers[kind];
      if (id && map.getLayer(id)) idleFilters.set(id, map.getFilter(id));
    }
  }
  hovered = null;
  selected = null;
  buildLegend();
}

function buildLegend() {
  const legend = $('#legend');
  const items = levels
    .filter((l) => l.layers.fill && l.layers.line)
    .map((l) => {
      const fill = map.getPaintProperty(l.layers.fill, 'fill-color');
      const line = map.getPaintProperty(l.layers.line, 'line-color');
      return `<span><i style="background:${escapeHtml(fill)}55;border-color:${escapeHtml(line)}"></i>${escapeHtml(l.label ?? l.name)}</span>`;
    });
  const unstaffed = styleLayer(levels.at(-1)?.name, 'unstaffed');
  if (unstaffed && map.getLayer(unstaffed)) {
    items.push('<span><i style="background:#e5533d66;border-color:#e5533d"></i>无网格员</span>');
  }
  legend.innerHTML = items.join('');
  legend.hidden = items.length === 0;
}

function tileset(name) {
  return tilesets.find((t) => t.system === name);
}

function fitTo(ts, animate) {
  if (!ts?.bounds) return;
  const [w, s, e, n] = ts.bounds;
  map.fitBounds([[w, s], [e, n]], { padding: 40, animate });
}

function switchSystem(name) {
  const ts = tileset(name);
  if (!ts || name === system) return;
  system = name;
  window.gridmap.system = name;
  closeCard();
  const params = new URLSearchParams(location.search);
  params.set('system', name);
  history.replaceState(null, '', `${location.pathname}?${params}`);
  map.setStyle(ts.style, { diff: false }); // a full load fires style.load
  fitTo(ts, true);
}

// ---- hover ---------------------------------------------------------------

function onMouseMove(e) {
  const level = finestVisibleLevel();
  const features = level ? map.queryRenderedFeatures(e.point, { layers: [level.layers.fill] }) : [];
  const f = features.find((x) => x.id !== undefined && x.id !== null);
  const next = f ? { level: level.name, id: f.id } : null;
  if (hovered?.id === next?.id && hovered?.level === next?.level) return;
  hovered = next;
  highlight('hover', hovered);
  map.getCanvas().style.cursor = hovered ? 'pointer' : '';
  map.getCanvas().title = f ? `${levelLabel(f.properties.level)} ${f.properties.name}` : '';
}

function onMouseOut() {
  if (!hovered) return;
  hovered = null;
  highlight('hover', null);
}

// ---- click: lookup and card ----------------------------------------------

/**
 * Marks the deepest grid of `grids` that is drawn under `point` as selected;
 * without a point, anywhere in view (a whole grid fitted to the screen, whose
 * bbox centre may lie outside it).
 */
function selectGrid(point, grids) {
  selected = null;
  const z = map.getZoom();
  for (const g of [...grids].reverse()) {
    const level = levels.find((l) => l.name === g.level);
    if (!level?.layers.fill || level.minzoom > z + 1e-9) continue;
    const query = { layers: [level.layers.fill] };
    const f = (point ? map.queryRenderedFeatures(point, query) : map.queryRenderedFeatures(query)).find(
      (x) => x.properties.code === g.code && x.id !== undefined,
    );
    if (f) {
      selected = { level: level.name, id: f.id };
      break;
    }
  }
  highlight('selected', selected);
}

onCardClose(() => {
  if (map && selected) {
    selected = null;
    highlight('selected', null);
  }
});

/** Pans the clicked point out from under the card (the bottom sheet on phones). */
function revealPoint(lngLat, point) {
  const c = card.getBoundingClientRect();
  const m = map.getContainer().getBoundingClientRect();
  const x = m.left + point.x;
  const y = m.top + point.y;
  if (x < c.left - 8 || x > c.right + 8 || y < c.top - 8 || y > c.bottom + 8) return;
  const sheet = c.width >= m.width - 1; // bottom sheet: spans the width
  const offset = sheet ? [0, -(m.bottom - c.top) / 2] : [-(m.right - c.left) / 2, 0];
  map.easeTo({ center: lngLat, offset, duration: 400 });
}

async function onClick(e) {
  const seq = ++lookupSeq;
  const { lng, lat } = e.lngLat;
  const q = new URLSearchParams({ lon: lng.toFixed(7), lat: lat.toFixed(7) });
  if (system) q.set('system', system);
  try {
    const answer = await getJson(`api/v1/lookup?${q}`);
    if (seq !== lookupSeq) return; // a later click won
    openCard(renderCard(answer));
    selectGrid(e.point, answer.grids ?? []);
    revealPoint(e.lngLat, e.point);
  } catch (err) {
    if (seq !== lookupSeq) return;
    openCard(`<p class="error">查询失败：${escapeHtml(err.message)}</p>`);
  }
}

// ---- a place from the search box or "my location" ------------------------

/** Flies to a place the search showed and highlights its grid. */
function showPlace(place) {
  if (!map || !place?.location) return;
  if (place.bbox) {
    // A whole grid (`?grid=CODE`): fit it beside the card, then highlight it.
    const [w, s, e, n] = place.bbox;
    const sheet = card.getBoundingClientRect();
    const m = map.getContainer().getBoundingClientRect();
    const bottomSheet = sheet.width >= m.width - 1;
    const padding = card.hidden
      ? 40
      : bottomSheet
        ? { top: 40, left: 20, right: 20, bottom: Math.min(m.bottom - sheet.top + 20, m.height / 2) }
        : { top: 40, left: 40, bottom: 40, right: Math.min(m.right - sheet.left + 20, m.width / 2) };
    map.once('moveend', () => {
      map.once('idle', () => selectGrid(null, place.grids ?? []));
    });
    map.fitBounds([[w, s], [e, n]], { padding, duration: 600 });
    return;
  }
  const [lng, lat] = place.location;
  const zoom = Math.max(map.getZoom(), levels.at(-1)?.minzoom ?? 15, 15);
  const sheet = card.getBoundingClientRect();
  const m = map.getContainer().getBoundingClientRect();
  // Keep the place clear of the card: above a bottom sheet, left of a panel.
  const offset = sheet.width >= m.width - 1 ? [0, -(m.bottom - sheet.top) / 2] : [-(m.right - sheet.left) / 2, 0];
  map.once('moveend', () => {
    map.once('idle', () => selectGrid(map.project([lng, lat]), place.grids ?? []));
  });
  map.flyTo({ center: [lng, lat], zoom, offset: card.hidden ? [0, 0] : offset, duration: 600 });
}

// A place picked before this module ran (the search box works without the map).
let pendingPlace = window.gridmapPlace ?? null;
window.addEventListener('gridmap:place', (e) => {
  if (map && map.isStyleLoaded()) showPlace(e.detail);
  else pendingPlace = e.detail;
});

// ---- start ---------------------------------------------------------------

async function main() {
  let index;
  try {
    index = await getJson('tiles');
  } catch (e) {
    status(`无法加载网格数据：${e.message}`);
    return;
  }
  tilesets = index.tilesets ?? [];
  if (tilesets.length === 0) {
    status('还没有网格数据：请先导入网格（gridmap import grids）');
    return;
  }
  select.innerHTML = tilesets.map((t) => `<option value="${escapeHtml(t.system)}">${escapeHtml(t.system)}</option>`).join('');
  select.closest('.system').classList.toggle('single', tilesets.length === 1);
  const wanted = new URLSearchParams(location.search).get('system');
  const first = tileset(wanted) ?? tilesets[0];
  system = first.system;
  select.value = system;
  select.addEventListener('change', () => switchSystem(select.value));

  const [w, s, e, n] = first.bounds ?? [73, 18, 135, 54];
  map = new maplibregl.Map({
    container: 'map',
    style: first.style,
    bounds: [[w, s], [e, n]],
    fitBoundsOptions: { padding: 40 },
    maxZoom: 20,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.touchZoomRotate.disableRotation();
  window.gridmap = { map, system };
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('style.load', onStyleLoaded);
  map.on('mousemove', onMouseMove);
  map.on('mouseout', onMouseOut);
  map.on('click', onClick);
  map.on('error', (ev) => console.warn('map error', ev.error?.message ?? ev));
  map.once('idle', () => {
    document.body.dataset.ready = '1';
    if (pendingPlace) showPlace(pendingPlace);
    pendingPlace = null;
  });
}

main();
