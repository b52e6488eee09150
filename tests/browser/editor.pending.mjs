// End-to-end test of the planners' editor (/edit) in headless Chromium, with
// the mouse as a planner would: sign in with a token, drag a vertex shared by
// two blocks (both move while dragging; the frame time is measured and
// printed), split a block with a drawn line, merge two blocks, read the
// impact panel against GET /api/v1/proposals/{id}/impact, submit; sign in as
// an approver and publish; check over the API that the blocks are still a
// gap-free partition and that a lookup in the moved area answers the new
// block; open the history, look at the old version and revert.
//
//   GRIDMAP_BIN=target/debug/gridmap node --test tests/browser/editor.test.mjs
//
// Screenshots of each step go to target/browser-screenshots/editor/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { addUser, launchChromium, root, startGridmap } from './helpers.mjs';

const SHOTS = path.join(root, 'target', 'browser-screenshots', 'editor');

let gridmap;
let browser;
let page;
let tokens;
const pageErrors = [];

before(async () => {
  gridmap = await startGridmap();
  tokens = { editor: addUser(gridmap.db, 'planner', 'editor'), approver: addUser(gridmap.db, 'checker', 'approver') };
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await gridmap?.stop();
});

async function api(method, p, token, body) {
  const resp = await fetch(gridmap.base + p, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await resp.json().catch(() => null);
  assert.ok(resp.ok, `${method} ${p} → ${resp.status} ${JSON.stringify(json)}`);
  return json;
}
const getJson = (p, token) => api('GET', p, token);

let shotNo = 0;
async function shot(name) {
  shotNo += 1;
  await page.screenshot({ path: path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`) });
}

const rings = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat();
const vertexSet = (g) => new Set(rings(g).flat().map((c) => `${c[0]},${c[1]}`));
const hasVertex = (g, c) => vertexSet(g).has(`${c[0]},${c[1]}`);

/** Waits until the map is still and its tiles are drawn. */
async function settle() {
  await page.waitForFunction(() => {
    const m = window.gridmapEditor?.ctx?.map;
    return m && !m.isMoving() && m.loaded() && m.areTilesLoaded();
  }, null, { timeout: 60_000, polling: 100 });
}

async function fitTo([w, s, e, n]) {
  await page.evaluate(([w, s, e, n]) => window.gridmapEditor.ctx.map.fitBounds([[w, s], [e, n]], { padding: 60, animate: false }), [w, s, e, n]);
  await settle();
}

/** Page coordinates of a lon/lat on the map. */
async function screen(c) {
  return page.evaluate((c) => {
    const m = window.gridmapEditor.ctx.map;
    const r = m.getCanvas().getBoundingClientRect();
    const p = m.project(c);
    return { x: r.left + p.x, y: r.top + p.y };
  }, c);
}

async function clickMap(c, modifiers = []) {
  const p = await screen(c);
  for (const k of modifiers) await page.keyboard.down(k);
  await page.mouse.click(p.x, p.y);
  for (const k of modifiers) await page.keyboard.up(k);
}

/** Waits for the open proposal to hold `n` edits, failing with the page's error box if a refusal shows instead. */
async function waitForEdits(n) {
  await page.waitForFunction((n) => {
    const { ctx } = window.gridmapEditor;
    const err = document.querySelector('#error');
    return (ctx.proposal?.edits.length === n && !ctx.busy) || (!err.hidden && err.textContent);
  }, n, { timeout: 60_000, polling: 100 });
  const err = await page.evaluate(() => (document.querySelector('#error').hidden ? null : document.querySelector('#error').textContent));
  assert.equal(err, null, `the editor refused the edit: ${err}`);
  // The redraw after the answer (tiles of the new revision, working set, impact).
  await page.waitForFunction(() => !document.querySelector('#impact').textContent.includes('正在计算'), null, { timeout: 60_000 });
  await settle();
}

async function waitForSelected(code) {
  await page.waitForFunction((code) => document.querySelector('#selected-code')?.textContent === code, code, { timeout: 30_000 });
  await settle();
}

/** A point /api/v1/lookup places inside `code` (not on its border), scanning its bbox. */
async function interiorPoint(code, bbox, query = '') {
  const [w, s, e, n] = bbox;
  const candidates = [[(w + e) / 2, (s + n) / 2]];
  for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++) candidates.push([w + ((e - w) * i) / 8, s + ((n - s) * j) / 8]);
  for (const [lon, lat] of candidates) {
    const hit = await getJson(`/api/v1/lookup?lon=${lon}&lat=${lat}&system=default${query}`, tokens.editor);
    const finest = hit.grids.at(-1);
    if (finest?.code === code && !finest.on_border) return [lon, lat];
  }
  throw new Error(`no interior point of ${code}`);
}

/**
 * Two blocks of one community and a vertex only they (of all blocks) store,
 * with the neighbouring vertices of A's ring; the demo's blocks share
 * borders exactly, so such corners are on their common border.
 */
async function sharedVertexPair(community) {
  const blocks = (await getJson(`/api/v1/grids?level=block&parent=${community}&limit=100`)).grids;
  const features = new Map();
  for (const b of blocks) features.set(b.code, await getJson(`/api/v1/grids/${b.code}`));
  const users = new Map();
  for (const [code, f] of features) for (const k of vertexSet(f.geometry)) users.set(k, [...(users.get(k) ?? []), code]);
  for (const [code, f] of features) {
    const ring = rings(f.geometry)[0];
    for (let i = 1; i + 1 < ring.length; i++) {
      const u = users.get(`${ring[i][0]},${ring[i][1]}`);
      if (u.length === 2) {
        const other = u.find((c) => c !== code);
        return { a: code, b: other, fa: f, fb: features.get(other), v: ring[i], prev: ring[i - 1], next: ring[i + 1] };
      }
    }
  }
  throw new Error(`no vertex shared by exactly two blocks in ${community}`);
}

/** A horizontal or vertical line across `geometry` that crosses its rings exactly twice, ends outside its bbox. */
function crossingLine(geometry, bbox) {
  const [w, s, e, n] = bbox;
  const segs = rings(geometry).flatMap((r) => r.slice(1).map((c, i) => [r[i], c]));
  for (const f of [0.5, 0.43, 0.57, 0.36, 0.64]) {
    for (const horizontal of [true, false]) {
      const a = horizontal ? [w - (e - w) * 0.15, s + (n - s) * f + 1.7e-7] : [w + (e - w) * f + 1.7e-7, s - (n - s) * 0.15];
      const b = horizontal ? [e + (e - w) * 0.15, a[1]] : [a[0], n + (n - s) * 0.15];
      let crossings = 0;
      for (const [p, q] of segs) {
        const t = horizontal ? (a[1] - p[1]) / (q[1] - p[1]) : (a[0] - p[0]) / (q[0] - p[0]);
        if (t > 0 && t < 1) crossings += 1;
      }
      if (crossings === 2) return [a, b];
    }
  }
  throw new Error('no straight line crosses the block exactly twice');
}

async function signIn(token, label) {
  await page.goto(`${gridmap.base}/edit`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await page.fill('#signin input[name=token]', token);
  await page.click('#signin button[type=submit]');
  await page.waitForFunction((label) => document.querySelector('#role')?.textContent === label, label, { timeout: 30_000 });
  await page.waitForSelector('body[data-ready="1"]');
  await settle();
}

test('a planner edits, an approver publishes, the history reverts', { timeout: 600_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // The sign-in probes a write to proposal 0 (403/404 by role); the demo has no worker photos.
    if (m.type() === 'error' && !/40[34]/.test(m.text())) pageErrors.push(m.text());
  });

  // ---- sign in as the planner ---------------------------------------------
  await signIn(tokens.editor, '规划员');
  assert.equal(await page.title(), '网格编辑器');
  await shot('signed-in');

  // ---- drag a vertex shared by two blocks ------------------------------------
  const communities = (await getJson('/api/v1/grids?level=community&limit=10')).grids;
  const pair = await sharedVertexPair(communities[0].code);
  const box = [
    Math.min(pair.fa.bbox[0], pair.fb.bbox[0]), Math.min(pair.fa.bbox[1], pair.fb.bbox[1]),
    Math.max(pair.fa.bbox[2], pair.fb.bbox[2]), Math.max(pair.fa.bbox[3], pair.fb.bbox[3]),
  ];
  await fitTo(box);
  await clickMap(await interiorPoint(pair.a, pair.fa.bbox));
  await waitForSelected(pair.a);
  const shared = await page.evaluate((v) => window.gridmapEditor.ctx.work.codesAt(v), pair.v);
  assert.ok(shared.includes(pair.a) && shared.includes(pair.b), `the working set does not see ${pair.a} and ${pair.b} at the vertex: ${shared}`);

  const from = await screen(pair.v);
  // Towards the middle of A's neighbouring corners and a bit beyond: stays a simple polygon.
  const mid = [(pair.prev[0] + pair.next[0]) / 2, (pair.prev[1] + pair.next[1]) / 2];
  const midScreen = await screen(mid);
  const to = { x: from.x + (from.x - midScreen.x) * 0.3, y: from.y + (from.y - midScreen.y) * 0.3 };
  const dragDistance = Math.hypot(to.x - from.x, to.y - from.y);
  assert.ok(dragDistance > 4, `the drag is only ${dragDistance} px`);
  await page.evaluate(() => {
    window.gridmapEditor.frameStats.work.length = 0;
    window.gridmapEditor.frameStats.intervals.length = 0;
  });
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(from.x + ((to.x - from.x) * i) / 20, from.y + ((to.y - from.y) * i) / 20);
  await page.waitForTimeout(200);
  // While the button is still down: both blocks hold the moved corner, neither the old one.
  const live = await page.evaluate(([a, b, v]) => {
    const { work } = window.gridmapEditor.ctx;
    const has = (code, c) => work.byCode.get(code).geometry.coordinates.flat(2).some((p) => p[0] === c[0] && p[1] === c[1]);
    return { aOld: has(a, v), bOld: has(b, v) };
  }, [pair.a, pair.b, pair.v]);
  assert.equal(live.aOld, false, 'block A still has the old corner while dragging');
  assert.equal(live.bOld, false, 'block B still has the old corner while dragging');
  await shot('drag-shared-vertex');
  await page.mouse.up();
  await waitForEdits(1);
  const small = await page.evaluate(() => ({ ...window.gridmapEditor.frameStats }));
  const proposal1 = await page.evaluate(() => window.gridmapEditor.ctx.proposal);
  const edit = proposal1.edits[0];
  assert.equal(edit.op, 'move_vertex');
  assert.deepEqual(edit.from, pair.v);
  for (const code of [pair.a, pair.b]) {
    const g = proposal1.grids.find((x) => x.code === code);
    assert.ok(g, `${code} is not among the proposal's grids`);
    assert.ok(hasVertex(g.geometry, edit.to) && !hasVertex(g.geometry, edit.from), `${code} did not move the shared corner`);
  }
  assert.ok(small.work.length >= 3, `only ${small.work.length} drag frames were drawn`);
  await shot('vertex-moved');
  // Where the border moved: half way from the old corner to the new one.
  const moved = [(edit.from[0] + edit.to[0]) / 2, (edit.from[1] + edit.to[1]) / 2];
  const movedBefore = (await getJson(`/api/v1/lookup?lon=${moved[0]}&lat=${moved[1]}&system=default`)).grids.at(-1).code;
  const movedInProposal = (await getJson(`/api/v1/lookup?lon=${moved[0]}&lat=${moved[1]}&system=default&proposal=${proposal1.id}`, tokens.editor)).grids.at(-1).code;
  assert.notEqual(movedInProposal, movedBefore, 'the moved area answers the same block in the proposal');

  // ---- split a block with a drawn line ---------------------------------------
  const blocks2 = (await getJson(`/api/v1/grids?level=block&parent=${communities[1].code}&limit=100`)).grids;
  const c = blocks2[0];
  const cf = await getJson(`/api/v1/grids/${c.code}`);
  const [l0, l1] = crossingLine(cf.geometry, c.bbox);
  await fitTo([Math.min(l0[0], l1[0]), Math.min(l0[1], l1[1]), Math.max(l0[0], l1[0]), Math.max(l0[1], l1[1])]);
  await clickMap(await interiorPoint(c.code, c.bbox));
  await waitForSelected(c.code);
  await page.click('#tools [data-tool=split]');
  await clickMap(l0);
  await clickMap(l1);
  await shot('split-line');
  await page.click('#tools [data-tool=finish]');
  await page.waitForSelector('#split-form:not([hidden])');
  await page.fill('#split-form input[name=name1]', '新分网格');
  const newCode = await page.inputValue('#split-form input[name=code1]');
  await page.click('#split-form button[type=submit]');
  await waitForEdits(2);
  const split = await getJson(`/api/v1/grids/${newCode}?proposal=${proposal1.id}`, tokens.editor);
  assert.equal(split.properties.name, '新分网格');
  assert.equal(split.properties.parent, communities[1].code);
  await shot('split-done');

  // ---- merge two neighbouring blocks -----------------------------------------
  const pair3 = await sharedVertexPair(communities[2].code);
  await fitTo([
    Math.min(pair3.fa.bbox[0], pair3.fb.bbox[0]), Math.min(pair3.fa.bbox[1], pair3.fb.bbox[1]),
    Math.max(pair3.fa.bbox[2], pair3.fb.bbox[2]), Math.max(pair3.fa.bbox[3], pair3.fb.bbox[3]),
  ]);
  await clickMap(await interiorPoint(pair3.a, pair3.fa.bbox));
  await waitForSelected(pair3.a);
  await clickMap(await interiorPoint(pair3.b, pair3.fb.bbox), ['Shift']);
  await page.waitForFunction((b) => document.querySelector('#partner-name') && window.gridmapEditor.ctx.partner === b, pair3.b, { timeout: 30_000 });
  await page.click('#tools [data-tool=merge]');
  await page.selectOption('#merge-form select[name=code]', pair3.a);
  await page.click('#merge-form button[type=submit]');
  await waitForEdits(3);
  const proposal3 = await getJson(`/api/v1/proposals/${proposal1.id}`, tokens.editor);
  assert.ok(proposal3.grids.find((g) => g.code === pair3.b)?.deleted, `${pair3.b} is not deleted by the merge`);
  await shot('merged');

  // ---- the impact panel against the API -----------------------------------------
  const impact = await getJson(`/api/v1/proposals/${proposal1.id}/impact`, tokens.editor);
  assert.ok(impact.sites.length > 0, 'the merge moved no site');
  const panel = await page.evaluate(() => ({
    sites: Number(document.querySelector('#impact-site-count').textContent),
    grids: Number(document.querySelector('#impact-grid-count').textContent),
    groups: [...document.querySelectorAll('#impact .site-group')].map((g) => [g.dataset.to, Number(g.querySelector('.count').textContent)]),
    rows: [...document.querySelectorAll('#impact .impact-grids tr[data-code]')].map((r) => [r.dataset.code, ...[...r.cells].slice(1, 3).map((c) => Number(c.textContent))]),
  }));
  assert.equal(panel.sites, impact.sites.length);
  assert.equal(panel.grids, impact.grids.length);
  const byTo = {};
  for (const s of impact.sites) byTo[s.to] = (byTo[s.to] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries(panel.groups), byTo);
  assert.deepEqual(panel.rows, impact.grids.map((g) => [g.code, g.households_before, g.households_after]));
  // A row locates its site on the map.
  await page.click('#impact button.locate');
  await page.waitForFunction(() => window.gridmapEditor.ctx.map.getSource('marks')._data?.features?.length === 1, null, { timeout: 30_000 });
  await settle();
  await shot('impact');

  // ---- submit -------------------------------------------------------------------
  await page.click('#submit-proposal');
  await page.waitForFunction(() => document.querySelector('#proposal-state')?.textContent === '待审核', null, { timeout: 30_000 });
  await shot('submitted');

  // ---- the approver publishes ------------------------------------------------------
  await page.click('#signout');
  await page.waitForSelector('#signin');
  await signIn(tokens.approver, '审核员');
  await page.click(`#proposals [data-open="${proposal1.id}"]`);
  await page.waitForSelector('#publish-proposal', { timeout: 30_000 });
  await settle();
  await shot('approver-opens');
  await page.click('#publish-proposal');
  await page.waitForFunction(() => document.querySelector('#proposal-state')?.textContent === '已发布', null, { timeout: 60_000 });
  await settle();
  await shot('published');
  const published = await getJson(`/api/v1/proposals/${proposal1.id}`, tokens.editor);
  assert.equal(published.state, 'published');

  // Still a gap-free partition, and the moved area answers the new block.
  const coverage = await getJson('/api/v1/coverage?system=default');
  const bad = coverage.problems.filter((p) => ['gap', 'overlap', 'overhang'].includes(p.kind));
  assert.deepEqual(bad, [], 'the published blocks are not a partition');
  const after = (await getJson(`/api/v1/lookup?lon=${moved[0]}&lat=${moved[1]}&system=default`)).grids.at(-1).code;
  assert.equal(after, movedInProposal, 'a lookup in the moved area does not answer the new block');

  // ---- history: the old version, then revert -----------------------------------------
  const version = published.published_version;
  await page.waitForSelector(`#history [data-at="${version - 1}"]`, { timeout: 30_000 });
  await page.selectOption('#version-picker', String(version - 1));
  await page.waitForFunction(() => document.body.dataset.view === 'at', null, { timeout: 30_000 });
  await settle();
  await clickMap(moved);
  await page.waitForFunction((code) => document.querySelector('#selected-code')?.textContent === code, movedBefore, { timeout: 30_000 });
  await shot('history-old-version');
  page.once('dialog', (d) => d.accept());
  await page.click(`#history [data-revert="${version}"]`);
  await page.waitForFunction((v) => document.querySelector('#status').textContent.includes(`已撤销版本 ${v}`), version, { timeout: 60_000 });
  await settle();
  await shot('reverted');
  const reverted = (await getJson(`/api/v1/lookup?lon=${moved[0]}&lat=${moved[1]}&system=default`)).grids.at(-1).code;
  assert.equal(reverted, movedBefore, 'the revert did not bring the old block back');
  const history = (await getJson('/api/v1/history?system=default')).history;
  assert.equal(history[0].reverts, version);

  assert.deepEqual(pageErrors, []);
  await context.close();
});

/** Median and 95th percentile of a list of numbers. */
function percentiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p95: at(0.95), n: s.length };
}

test('dragging a corner of a 5,000-vertex block stays within a frame; a refused move leaves the map as it was', { timeout: 300_000 }, async () => {
  // A block of 5,000 vertices: the border of two demo blocks redrawn, through
  // the API, as a fine zigzag between two corners they share.
  const communities = (await getJson('/api/v1/grids?level=community&limit=10')).grids;
  const pair = await sharedVertexPair(communities[3].code);
  const ring = rings(pair.fa.geometry)[0];
  const bv = vertexSet(pair.fb.geometry);
  let best = null;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [p, q] = [ring[i], ring[i + 1]];
    const len = Math.hypot(q[0] - p[0], q[1] - p[1]);
    if (bv.has(`${p[0]},${p[1]}`) && bv.has(`${q[0]},${q[1]}`) && (!best || len > best.len)) best = { p, q, len };
  }
  assert.ok(best, `${pair.a} and ${pair.b} share no border segment`);
  const n = 5000;
  const [dx, dy] = [(best.q[0] - best.p[0]) / n, (best.q[1] - best.p[1]) / n];
  const line = [best.p];
  for (let k = 1; k < n; k++) {
    const amp = 0.3 * (k % 2 ? 1 : -1);
    line.push([best.p[0] + dx * k - dy * amp, best.p[1] + dy * k + dx * amp]);
  }
  line.push(best.q);
  const big = await api('POST', '/api/v1/proposals', tokens.editor, { system: 'default', title: '五千顶点测试' });
  await api('POST', `/api/v1/proposals/${big.id}/edits`, tokens.editor, { op: 'reshape_border', grids: [pair.a, pair.b], line });

  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN' });
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(tokens.editor, '规划员');
  await page.click(`#proposals [data-open="${big.id}"]`);
  await page.waitForFunction((id) => document.body.dataset.view === 'proposal' && window.gridmapEditor.ctx.proposal?.id === id, big.id, { timeout: 30_000 });
  await settle();
  await fitTo(pair.fa.bbox);
  await clickMap(await interiorPoint(pair.a, pair.fa.bbox, `&proposal=${big.id}`));
  await waitForSelected(pair.a);
  const vertices = await page.evaluate((a) => window.gridmapEditor.ctx.work.byCode.get(a).geometry.coordinates.flat(2).length, pair.a);
  assert.ok(vertices >= 5000, `block ${pair.a} has only ${vertices} vertices`);

  // Drag the middle of the zigzag across the whole block: A's ring then crosses itself.
  const v = line[n / 2];
  const sharers = await page.evaluate((v) => window.gridmapEditor.ctx.work.codesAt(v), v);
  assert.deepEqual([...sharers].sort(), [pair.a, pair.b].sort());
  const from = await screen(v);
  const centre = await screen([(pair.fa.bbox[0] + pair.fa.bbox[2]) / 2, (pair.fa.bbox[1] + pair.fa.bbox[3]) / 2]);
  const to = { x: from.x + (centre.x - from.x) * 2.2, y: from.y + (centre.y - from.y) * 2.2 };
  // What one repaint of this map costs here without any edit: the floor
  // under the frame interval (software GL in the test, a GPU at a desk).
  const repaint = await page.evaluate(async () => {
    const m = window.gridmapEditor.ctx.map;
    const out = [];
    let last = performance.now();
    for (let i = 0; i < 20; i++) {
      m.triggerRepaint();
      await new Promise((r) => requestAnimationFrame(r));
      const t = performance.now();
      out.push(t - last);
      last = t;
    }
    return out;
  });
  await page.evaluate(() => {
    window.gridmapEditor.frameStats.work.length = 0;
    window.gridmapEditor.frameStats.intervals.length = 0;
  });
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) {
    await page.mouse.move(from.x + ((to.x - from.x) * i) / 60, from.y + ((to.y - from.y) * i) / 60);
    // One pointer event per frame, as a hand gives them.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  }
  await shot('big-block-drag');
  const stats = await page.evaluate(() => ({ ...window.gridmapEditor.frameStats }));
  await page.mouse.up();
  const work = percentiles(stats.work);
  const intervals = percentiles(stats.intervals);
  const bare = percentiles(repaint);
  console.log(
    `bare repaint of the same map without dragging: interval median ${bare.median.toFixed(1)} ms, p95 ${bare.p95.toFixed(1)} ms`,
  );
  console.log(
    `drag of a vertex shared by two blocks of ${vertices} vertices: main-thread work per frame median ${work.median.toFixed(2)} ms, ` +
      `p95 ${work.p95.toFixed(2)} ms over ${work.n} frames; frame interval median ${intervals.median.toFixed(1)} ms, p95 ${intervals.p95.toFixed(1)} ms (software GL)`,
  );
  assert.ok(work.n >= 30, `only ${work.n} frames drawn while dragging`);
  assert.ok(work.p95 <= 16, `dragging costs ${work.p95.toFixed(2)} ms a frame (95th percentile), over 16 ms`);

  // The server refuses the move (422): the message is shown next to the
  // grids it names and the map is as it was.
  await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
  const message = await page.textContent('#error');
  assert.match(message, /不符合规则/);
  assert.ok(await page.locator('.refusal').count() >= 1, 'no message beside the grids the refusal names');
  const restored = await page.evaluate(([a, b, v]) => {
    const { work } = window.gridmapEditor.ctx;
    return work.codesAt(v).sort().join() === [a, b].sort().join();
  }, [pair.a, pair.b, v]);
  assert.ok(restored, 'the refused move did not put the corner back');
  const stored = await getJson(`/api/v1/proposals/${big.id}`, tokens.editor);
  assert.equal(stored.edits.length, 1, 'the refused move reached the proposal');
  await shot('refused-move');
  assert.deepEqual(errors, []);
  await context.close();
});
