// End-to-end test of the web map in headless Chromium.
//
//   cargo build --release && node --test tests/browser/
//
// Starts `gridmap serve` on a fresh demo store (西湖区), opens the page, checks
// that grids and their labels are drawn, clicks inside a staffed block and
// expects the grid card to show that block and its gridworker. Screenshots go
// to target/screenshots/. Needs Debian's chromium (`apt-get install chromium
// fonts-noto-cjk`) and `npm ci --prefix web` (playwright-core); GRIDMAP_BIN
// overrides the binary (default target/release/gridmap), CHROMIUM the browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, launchChromium, startGridmap, waitForHighlight } from './helpers.mjs';

let gridmap;
let base;
let browser;

const getJson = (p) => gridmap.getJson(p);

before(async () => {
  gridmap = await startGridmap();
  base = gridmap.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gridmap?.stop();
});

/** A staffed block and a point that /api/v1/lookup places inside it (not on its border). */
async function staffedBlockAndPoint() {
  const list = await getJson('/api/v1/grids?level=block&system=default&limit=60');
  assert.ok(list.grids.length > 0, 'the demo store has no blocks');
  for (const g of list.grids) {
    const feature = await getJson(`/api/v1/grids/${encodeURIComponent(g.code)}?system=default`);
    const workers = feature.properties.workers;
    if (!workers.length) continue;
    const [w, s, e, n] = g.bbox;
    // The bbox centre first, then a grid of points across the bbox.
    const candidates = [[(w + e) / 2, (s + n) / 2]];
    for (let i = 1; i < 8; i++) {
      for (let j = 1; j < 8; j++) candidates.push([w + ((e - w) * i) / 8, s + ((n - s) * j) / 8]);
    }
    for (const [lon, lat] of candidates) {
      const hit = await getJson(`/api/v1/lookup?lon=${lon}&lat=${lat}&system=default`);
      const finest = hit.grids.at(-1);
      if (finest?.code === g.code && !finest.on_border) {
        return { block: g, workers, lon, lat, path: hit.grids };
      }
    }
  }
  throw new Error('no staffed block with an interior point among the first 60 blocks');
}

test('the map draws the grids, and a click shows the block and its gridworker', { timeout: 180_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // Worker photos are not part of the demo: their 404s are expected.
    if (m.type() === 'error' && !m.text().includes('404')) pageErrors.push(m.text());
  });

  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  assert.equal(await page.title(), '网格地图');

  // Whole-city view: grids are drawn.
  const overview = await page.evaluate(() => {
    const f = window.gridmap.map.queryRenderedFeatures();
    return { count: f.length, layers: [...new Set(f.map((x) => x.sourceLayer))] };
  });
  assert.ok(overview.count > 0, 'nothing rendered on the first view');
  assert.ok(overview.layers.includes('street'), `street grids not rendered: ${overview.layers}`);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'map-overview.png') });

  const { block, workers, lon, lat, path: gridPath } = await staffedBlockAndPoint();

  const goTo = (zoom) =>
    page.evaluate(
      ([lon, lat, zoom]) =>
        new Promise((resolve) => {
          const map = window.gridmap.map;
          map.once('idle', resolve);
          map.flyTo({ center: [lon, lat], zoom, duration: 300 });
        }),
      [lon, lat, zoom],
    );

  // Each level is drawn from the first zoom the server chose from the data
  // (the style's metadata, which the page reads): none just below it.
  const style = await getJson('/styles/default.json');
  const blockZoom = style.metadata['gridmap:levels'].find((l) => l.name === 'block').minzoom;
  assert.ok(blockZoom <= 14, `blocks start at z${blockZoom}, after the z14 view below`);
  await goTo(blockZoom - 0.5);
  const early = await page.evaluate(() => window.gridmap.map.queryRenderedFeatures({ layers: ['block-fill'] }).length);
  assert.equal(early, 0, `blocks drawn below their first zoom z${blockZoom}`);

  // z14: the blocks and their labels are drawn (labels need no glyph server),
  // and no highlight layer draws anything before the pointer comes.
  const highlightIds = Object.values(style.metadata['gridmap:style_layers']).flatMap((ids) =>
    ['hover', 'selected-fill', 'selected'].map((kind) => ids[kind]),
  );
  assert.equal(highlightIds.length, 9, `highlight layers: ${highlightIds}`);
  assert.ok(highlightIds.every((id) => style.layers.some((l) => l.id === id)), `highlight layers: ${highlightIds}`);
  await goTo(14);
  const z14 = await page.evaluate((highlightIds) => {
    const map = window.gridmap.map;
    const blocks = map.queryRenderedFeatures({ layers: ['block-fill'] });
    const labels = map.queryRenderedFeatures({ layers: ['block-label', 'community-label', 'street-label'] });
    const highlighted = map.queryRenderedFeatures({ layers: highlightIds });
    return { blocks: blocks.length, labels: labels.length, highlighted: highlighted.length };
  }, highlightIds);
  assert.ok(z14.blocks > 0, 'no block features rendered at z14');
  assert.ok(z14.labels > 0, 'no labels placed at z14');
  assert.equal(z14.highlighted, 0, 'highlight layers draw grids nobody pointed at');

  await goTo(15);
  const pt = await page.evaluate(([lon, lat]) => {
    const map = window.gridmap.map;
    const p = map.project([lon, lat]);
    const r = map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [lon, lat]);
  await page.mouse.move(pt.x, pt.y);
  await page.mouse.click(pt.x, pt.y);

  const worker = workers[0];
  await page.waitForFunction(
    ([code, name]) => {
      const card = document.querySelector('#grid-card');
      return card && !card.hidden && card.textContent.includes(code) && card.textContent.includes(name);
    },
    [block.code, worker.name],
    { timeout: 15_000 },
  );
  const cardText = await page.textContent('#grid-card');
  for (const g of gridPath) {
    assert.ok(cardText.includes(g.name), `card misses ${g.level} ${g.name}`);
    assert.ok(cardText.includes(g.code), `card misses ${g.level} code ${g.code}`);
  }
  for (const label of ['街道', '社区', '网格']) assert.ok(cardText.includes(label), `card misses level name ${label}`);
  if (worker.phone) {
    const tels = await page.$$eval('#grid-card a.phone', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(tels.includes(`tel:${worker.phone.replace(/[^\d+]/g, '')}`), `no tel: link for ${worker.phone} in ${tels}`);
  }

  // The clicked block is drawn by the selection layers (outline and tint),
  // and the block under the pointer by the hover layer: each filtered to
  // that block alone.
  for (const kind of ['selected', 'selected-fill', 'hover']) await waitForHighlight(page, 'block', kind, block.code);

  await page.screenshot({ path: path.join(SHOTS, 'map.png') });

  // A phone: a tap opens the card as a bottom sheet, and the map pans so the
  // tapped block stays visible above it.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#grid-card .card-close');
  // Closing the card ends the selection: the layers get the style's filter back.
  const idle = style.layers.find((l) => l.id === 'block-selected').filter;
  const afterClose = await page.evaluate(() => window.gridmap.map.getFilter('block-selected'));
  assert.deepEqual(afterClose, idle, 'the selection outlives the card');
  await goTo(15);
  const tap = await page.evaluate(([lon, lat]) => {
    const p = window.gridmap.map.project([lon, lat]);
    return { x: p.x, y: p.y };
  }, [lon, lat]);
  await page.mouse.click(tap.x, tap.y);
  await page.waitForFunction(
    (code) => !document.querySelector('#grid-card').hidden && document.querySelector('#grid-card').textContent.includes(code),
    block.code,
    { timeout: 15_000 },
  );
  await page.waitForFunction(() => !window.gridmap.map.isMoving(), null, { timeout: 5_000 });
  await page.waitForTimeout(600); // the pan eases for 400 ms
  const sheet = await page.evaluate(([lon, lat]) => {
    const r = document.querySelector('#grid-card').getBoundingClientRect();
    const p = window.gridmap.map.project([lon, lat]);
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: window.innerWidth, height: window.innerHeight, pointY: p.y };
  }, [lon, lat]);
  assert.ok(
    sheet.left <= 1 && Math.abs(sheet.right - sheet.width) <= 1 && Math.abs(sheet.bottom - sheet.height) <= 1,
    `card is not a bottom sheet on a phone: ${JSON.stringify(sheet)}`,
  );
  assert.ok(sheet.pointY < sheet.top, `the tapped point is hidden under the sheet: ${JSON.stringify(sheet)}`);
  await page.screenshot({ path: path.join(SHOTS, 'map-phone.png') });

  assert.deepEqual(pageErrors, [], 'errors in the page');
  await page.close();
});

test('unknown style and asset paths answer JSON 404s', async () => {
  let r = await fetch(`${base}/styles/nope.json`);
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, 'unknown_system');
  r = await fetch(`${base}/assets/nope.js`);
  assert.equal(r.status, 404);
  r = await fetch(`${base}/`);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await r.text();
  const lib = html.match(/assets\/(maplibre-gl-[\w.-]+\.js)/);
  assert.ok(lib, 'index.html does not load a versioned maplibre-gl.js');
  r = await fetch(`${base}/assets/${lib[1]}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('cache-control'), /immutable/);
});
