// Shared by the browser tests: a `gridmap serve` on a fresh demo store and
// headless Chromium. GRIDMAP_BIN overrides the binary (default
// target/release/gridmap), CHROMIUM the browser (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core lives in web/node_modules, not beside this file.
const require = createRequire(path.join(root, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const BIN = path.resolve(root, process.env.GRIDMAP_BIN ?? 'target/release/gridmap');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = path.join(root, 'target', 'screenshots');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Writes the demo city to a temporary store and serves it; resolves once
 * /health answers. Returns `{ base, db, getJson(path), stop() }`.
 */
export async function startGridmap(extraArgs = []) {
  assert.ok(existsSync(BIN), `${BIN} not found: run \`cargo build --release\` or set GRIDMAP_BIN`);
  const work = mkdtempSync(path.join(tmpdir(), 'gridmap-browser-'));
  const db = path.join(work, 'demo.gpkg');
  const demo = spawnSync(BIN, ['demo', '--out', db], { encoding: 'utf8' });
  assert.equal(demo.status, 0, `gridmap demo failed:\n${demo.stdout}\n${demo.stderr}`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(BIN, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));

  const until = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`gridmap serve exited with ${server.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`gridmap serve did not answer /health in time:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    base,
    db,
    log: () => log,
    async getJson(p) {
      const resp = await fetch(base + p);
      const body = await resp.json();
      assert.ok(resp.ok, `GET ${p} → ${resp.status} ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * Creates an account on the store `db` with `gridmap user add` and returns
 * its token (the command's last output line).
 */
export function addUser(db, name, role) {
  const r = spawnSync(BIN, ['user', 'add', name, '--role', role, '--db', db], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gridmap user add ${name} failed:\n${r.stdout}\n${r.stderr}`);
  const token = r.stdout.trim().split('\n').at(-1).trim();
  assert.match(token, /^\S{20,}$/, `no token on the last line of gridmap user add: ${r.stdout}`);
  return token;
}

/**
 * Waits until the highlight layer of `kind` (hover, selected-fill, selected)
 * of `level` draws the grid `code` and no other, finding the layer through
 * the style's metadata as the page does; fails naming what it draws instead.
 */
export async function waitForHighlight(page, level, kind, code, timeout = 30_000) {
  const drawn = ([level, kind, code]) => {
    const map = window.gridmap?.map;
    if (!map || map.isMoving()) return false;
    const id = map.getStyle()?.metadata?.['gridmap:style_layers']?.[level]?.[kind];
    if (!id || !map.getLayer(id)) return false;
    const codes = new Set(map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties.code));
    return codes.size === 1 && codes.has(code);
  };
  try {
    await page.waitForFunction(drawn, [level, kind, code], { timeout, polling: 250 });
  } catch (e) {
    const seen = await page.evaluate(([level, kind]) => {
      const map = window.gridmap?.map;
      const id = map?.getStyle()?.metadata?.['gridmap:style_layers']?.[level]?.[kind];
      if (!id || !map.getLayer(id)) return { id, missing: true };
      const codes = [...new Set(map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties.code))];
      return { id, filter: map.getFilter(id), codes };
    }, [level, kind]);
    assert.fail(`${level} ${kind} highlight does not draw ${code} alone: ${JSON.stringify(seen)} (${e.message.split('\n')[0]})`);
  }
}

/** A phone-sized browser context (390×844, touch, Chinese), with `extra` options. */
export function phoneContext(browser, extra = {}) {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    ...extra,
  });
}

/** Headless Chromium with software GL and no background network. */
export async function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install -y chromium fonts-noto-cjk`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--use-gl=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
