// Drawing on the map, our own code on MapLibre's GeoJSON sources: dragging
// a vertex of the selected grid (with every grid of every level that stores
// the same vertex moving along, as the API's move_vertex will move them),
// and drawing a line (split, reshape) whose points snap to the working set's
// vertices and borders. Drawing libraries edit one feature at a time; here a
// drag changes the stored coordinate pairs of all grids sharing the corner.

import { drawWork } from './edit-map.js';
import { polygonsOf, snap } from './edit-geom.js';

const SNAP_PX = 8;

/** Frame timings of drags: `work` the main-thread ms per frame (move + setData), `intervals` ms between frames. */
export const frameStats = { work: [], intervals: [] };

/** Nearest vertex of `feature` to screen point p within `px` pixels, as its stored array. */
function vertexNear(map, feature, p, px) {
  let best = null;
  let bestD = px * px;
  const at = map.unproject([p.x, p.y]);
  const tol = Math.abs(map.unproject([p.x + px * 2, p.y]).lng - at.lng);
  for (const poly of polygonsOf(feature.geometry)) {
    for (const ring of poly) {
      for (const c of ring) {
        if (Math.abs(c[0] - at.lng) > tol || Math.abs(c[1] - at.lat) > tol) continue;
        const q = map.project(c);
        const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = c;
        }
      }
    }
  }
  return best;
}

/** Features of the working set other than those in `skip` (codes). */
const others = (ctx, skip) => ctx.work.features.filter((f) => !skip.has(f.properties.code));

export function installDrawing(ctx, { onVertexMoved, onLineDone, onPick }) {
  const map = ctx.map;
  let drag = null; // {from: [lon, lat], copies: [[feature, coord]], to}
  let frame = 0;
  let lastFrame = 0;
  let line = null; // {points: [[lon, lat]], hover: [lon, lat] | null}

  const drawDrag = () => {
    frame = 0;
    const t0 = performance.now();
    if (lastFrame) frameStats.intervals.push(t0 - lastFrame);
    lastFrame = t0;
    const [x, y] = drag.to;
    // The stored pairs themselves: every grid holding the corner changes at once.
    for (const [, c] of drag.copies) {
      c[0] = x;
      c[1] = y;
    }
    map.getSource('work').setData(ctx.work.collection());
    map.getSource('drag').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: [x, y] }, properties: {} });
    frameStats.work.push(performance.now() - t0 + drag.pending);
    drag.pending = 0;
  };

  const restoreDrag = (d) => {
    for (const [, c] of d.copies) {
      c[0] = d.from[0];
      c[1] = d.from[1];
    }
    drawWork(ctx);
  };

  map.on('mousedown', (e) => {
    if (ctx.tool !== 'vertex' || !ctx.canEdit() || !ctx.work || line) return;
    const sel = ctx.work.byCode.get(ctx.selected);
    if (!sel) return;
    const v = vertexNear(map, sel, e.point, SNAP_PX);
    if (!v) return;
    e.preventDefault();
    map.dragPan.disable();
    const from = [v[0], v[1]];
    drag = { from, to: from, copies: ctx.work.sharing(from), pending: 0, moved: false };
    ctx.setStatus(`拖动顶点：${ctx.work.codesAt(from).length} 个网格共用此点`);
    lastFrame = 0;
  });

  map.on('mousemove', (e) => {
    if (drag) {
      const t0 = performance.now();
      const codes = new Set(drag.copies.map(([f]) => f.properties.code));
      // Snap to the corners and borders of the grids not moving with the vertex.
      const s = e.originalEvent.altKey ? null : snap(map, others(ctx, codes), e.point, SNAP_PX);
      drag.to = s ? s.coord : [e.lngLat.lng, e.lngLat.lat];
      drag.moved = true;
      drag.pending += performance.now() - t0;
      if (!frame) frame = requestAnimationFrame(drawDrag);
      return;
    }
    if (line) {
      const s = snap(map, ctx.work?.features ?? [], e.point, SNAP_PX);
      line.hover = s ? s.coord : [e.lngLat.lng, e.lngLat.lat];
      line.hoverSnap = s?.kind ?? null;
      drawLine();
    }
  });

  const endDrag = () => {
    if (!drag) return;
    const d = drag;
    drag = null;
    // The click that ends a drag must not pick another grid.
    ctx.lastDragEnd = performance.now();
    if (frame) {
      cancelAnimationFrame(frame);
      frame = 0;
    }
    map.dragPan.enable();
    map.getSource('drag').setData({ type: 'FeatureCollection', features: [] });
    if (!d.moved || (d.to[0] === d.from[0] && d.to[1] === d.from[1])) {
      restoreDrag(d);
      return;
    }
    for (const [, c] of d.copies) {
      c[0] = d.to[0];
      c[1] = d.to[1];
    }
    drawWork(ctx);
    onVertexMoved(d.from, d.to, () => restoreDrag(d));
  };
  map.on('mouseup', endDrag);
  window.addEventListener('mouseup', endDrag);

  // ---- line tool ---------------------------------------------------------

  const drawLine = () => {
    const pts = line ? [...line.points, ...(line.hover ? [line.hover] : [])] : [];
    const features = pts.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    if (pts.length > 1) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: pts }, properties: {} });
    map.getSource('draw')?.setData({ type: 'FeatureCollection', features });
  };

  map.on('click', (e) => {
    if (drag) return;
    if (line) {
      const s = snap(map, ctx.work?.features ?? [], e.point, SNAP_PX);
      const c = s ? s.coord : [e.lngLat.lng, e.lngLat.lat];
      const last = line.points.at(-1);
      if (!last || last[0] !== c[0] || last[1] !== c[1]) line.points.push(c);
      line.snaps.push(s?.kind ?? null);
      drawLine();
      ctx.setStatus(`已画 ${line.points.length} 个点；双击或按“完成画线”结束，Esc 取消`);
      return;
    }
    onPick(e);
  });
  map.on('dblclick', (e) => {
    if (!line) return;
    e.preventDefault();
    finishLine();
  });
  window.addEventListener('keydown', (e) => {
    if (!line) return;
    if (e.key === 'Escape') cancelLine();
    else if (e.key === 'Enter') finishLine();
    else if (e.key === 'Backspace') {
      line.points.pop();
      drawLine();
    }
  });

  function startLine(purpose) {
    line = { purpose, points: [], snaps: [], hover: null };
    map.doubleClickZoom.disable();
    map.getCanvas().style.cursor = 'crosshair';
    drawLine();
  }
  function cancelLine() {
    line = null;
    map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = '';
    drawLine();
    ctx.setStatus('');
  }
  function finishLine() {
    if (!line) return;
    const { purpose, points } = line;
    cancelLine();
    if (points.length >= 2) onLineDone(purpose, points);
    else ctx.showError('线至少需要两个点');
  }
  return { startLine, cancelLine, finishLine, drawing: () => line?.purpose ?? null, dragging: () => !!drag };
}
