// The phone page in headless Chromium (390×844): the search box works while
// the map library is still loading, typing an address shows suggestions,
// picking one shows the grid card with the gridworkers and their tel: links,
// the map highlights the grid, and "my location" (mocked geolocation) looks
// the position up. The screenshot goes to target/screenshots/search-phone.png.
//
//   cargo build --release && node --test tests/browser/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, launchChromium, phoneContext, startGridmap, waitForHighlight } from './helpers.mjs';

let gridmap;
let browser;

before(async () => {
  gridmap = await startGridmap();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gridmap?.stop();
});

/** A building of a staffed block: its name, block, block worker and location. */
async function staffedBuilding() {
  const list = await gridmap.getJson('/api/v1/grids?level=block&system=default&limit=60');
  for (const g of list.grids) {
    const feature = await gridmap.getJson(`/api/v1/grids/${g.code}?system=default`);
    const worker = feature.properties.workers.find((w) => w.grid === g.code && w.phone);
    if (!worker) continue;
    const sites = await gridmap.getJson(`/api/v1/grids/${g.code}/sites?system=default&kind=address&limit=1`);
    const site = sites.sites[0];
    if (site && !site.on_border) return { block: g, worker, site };
  }
  throw new Error('no staffed block with an address among the first 60 blocks');
}

test('on a phone: type an address, pick a suggestion, see the worker card; use my location', { timeout: 180_000 }, async () => {
  const { block, worker, site } = await staffedBuilding();
  // `文一路115号翠苑三区12幢` as a resident types it: `翠苑三区12栋`.
  const typed = site.name.slice(site.name.indexOf('号') + 1).replace('幢', '栋');

  // Another block for the mocked position.
  const blocks = await gridmap.getJson('/api/v1/grids?level=block&system=default&limit=200');
  const other = blocks.grids.find((g) => g.code !== block.code && g.parent !== block.parent) ?? blocks.grids[1];
  const otherSites = await gridmap.getJson(`/api/v1/grids/${other.code}/sites?system=default&kind=address&limit=1`);
  const here = otherSites.sites[0];
  const hereLookup = await gridmap.getJson(`/api/v1/lookup?lon=${here.lon}&lat=${here.lat}&system=default`);

  const context = await phoneContext(browser, {
    permissions: ['geolocation'],
    geolocation: { longitude: here.lon, latitude: here.lat },
  });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // Worker photos are not part of the demo: their 404s are expected.
    if (m.type() === 'error' && !m.text().includes('404')) pageErrors.push(m.text());
  });
  // Hold the map library back: the search box must not wait for it.
  let releaseMap;
  const mapHeld = new Promise((r) => (releaseMap = r));
  await page.route(/maplibre-gl-[\w.-]+\.js$/, async (route) => {
    await mapHeld;
    await route.continue();
  });

  // Not `domcontentloaded`: that waits for the held-back (deferred) map library.
  await page.goto(`${gridmap.base}/`, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-search-ready="1"]', { timeout: 30_000 });
  const box = await page.$('#search-input');
  const rect = await box.boundingBox();
  assert.ok(rect.y < 80 && rect.width > 250, `the search box is not on top: ${JSON.stringify(rect)}`);

  await box.tap();
  await page.keyboard.type(typed, { delay: 40 });
  const option = page.locator('#suggestions li[role="option"]', { hasText: site.name });
  await option.first().waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => typeof window.maplibregl), 'undefined', 'the map library was not held back');
  assert.ok(await page.locator('#suggestions li[role="option"]').count() >= 1);
  await option.first().tap();

  await page.waitForFunction(
    ([code, name]) => {
      const card = document.querySelector('#grid-card');
      return card && !card.hidden && card.textContent.includes(code) && card.textContent.includes(name);
    },
    [block.code, worker.name],
    { timeout: 15_000 },
  );
  const cardText = await page.textContent('#grid-card');
  const pathText = await page.textContent('#grid-card .path');
  const levelsShown = await page.$$eval('#grid-card .grids .level', (els) => els.map((e) => e.textContent));
  assert.deepEqual(levelsShown, ['街道', '社区', '网格']);
  assert.equal(pathText.split('›').length, 3, `not 街道 › 社区 › 网格: ${pathText}`);
  assert.ok(cardText.includes(site.name));
  for (const field of [worker.role, worker.duties]) assert.ok(cardText.includes(field), `card misses ${field}`);
  const tels = await page.$$eval('#grid-card a.phone', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(tels.includes(`tel:${worker.phone}`), `no tel: link for ${worker.phone} in ${tels}`);
  assert.ok((await page.$$('#grid-card .avatar')).length >= 1, 'no worker photo or initial');
  assert.ok(!cardText.includes('households') && !/户数/.test(cardText));

  // The map arrives, flies to the place and highlights its block.
  releaseMap();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await waitForHighlight(page, 'block', 'selected', block.code);
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, 'search-phone.png') });

  // My location: the browser's (mocked) position → lookup → that block's card.
  await page.tap('#grid-card .card-close');
  await page.tap('#locate');
  const finest = hereLookup.grids.at(-1);
  await page.waitForFunction(
    (code) => {
      const card = document.querySelector('#grid-card');
      return card && !card.hidden && card.textContent.includes('我的位置') && card.textContent.includes(code);
    },
    finest.code,
    { timeout: 15_000 },
  );

  assert.deepEqual(pageErrors, [], 'errors in the page');
  await context.close();
});

test('the QR code of a printed board opens its community: ?grid=CODE shows the card, the board link and the grid on the map', { timeout: 180_000 }, async () => {
  // A community with workers of its own (网格长, 社区民警), as boards print them.
  const list = await gridmap.getJson('/api/v1/grids?level=community&system=default&limit=20');
  const community = list.grids[0];
  const feature = await gridmap.getJson(`/api/v1/grids/${community.code}?system=default`);
  const own = feature.properties.workers.filter((w) => w.grid === community.code);
  assert.ok(own.length >= 1, `community ${community.code} has no workers of its own`);

  const context = await phoneContext(browser);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('404')) pageErrors.push(m.text());
  });
  await page.goto(`${gridmap.base}/?grid=${community.code}`, { waitUntil: 'commit' });
  await page.waitForFunction(
    (name) => {
      const card = document.querySelector('#grid-card');
      return card && !card.hidden && card.textContent.includes(name);
    },
    community.name,
    { timeout: 30_000 },
  );
  const levelsShown = await page.$$eval('#grid-card .grids .level', (els) => els.map((e) => e.textContent));
  assert.deepEqual(levelsShown, ['街道', '社区']);
  const cardText = await page.textContent('#grid-card');
  for (const w of own) assert.ok(cardText.includes(w.name), `card misses ${w.role} ${w.name}`);

  // The board link is the community's own, and it answers a PDF.
  const href = await page.getAttribute('#grid-card a.board-link', 'href');
  assert.equal(href, `api/v1/boards/${community.code}.pdf?system=default`);
  const pdf = await fetch(new URL(href, `${gridmap.base}/`));
  assert.equal(pdf.status, 200);
  assert.equal(pdf.headers.get('content-type'), 'application/pdf');
  assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

  // The map fits the community and highlights it.
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await waitForHighlight(page, 'community', 'selected', community.code);
  const inView = await page.evaluate(([w, s, e, n]) => {
    const b = window.gridmap.map.getBounds();
    return b.getWest() <= w && b.getEast() >= e && b.getSouth() <= s && b.getNorth() >= n;
  }, feature.bbox);
  assert.ok(inView, `community ${community.code} not fitted`);
  await page.screenshot({ path: path.join(SHOTS, 'board-qr-landing-phone.png') });
  assert.deepEqual(pageErrors, [], 'errors in the page');
  await context.close();
});
