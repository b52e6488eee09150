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
 * /health answers. Returns `{ base, getJson(path), stop() }`.
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

/** Headless Chromium with software GL and no background network. */
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
