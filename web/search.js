// The search box: suggestions while typing (GET api/v1/search with a small
// limit), a tap on one shows its grid card, "我的位置" asks the browser for
// its position and looks it up. Needs no map library, so it works while
// MapLibre still loads; the map (app.js) listens for `gridmap:place` events
// to fly there and highlight the grid.

import { escapeHtml, openCard, renderCard } from './card.js';

const $ = (sel) => document.querySelector(sel);
const form = $('#search');
const input = $('#search-input');
const list = $('#suggestions');
const locate = $('#locate');

const url = (path) => new URL(path, document.baseURI).href;
const SUGGEST_LIMIT = 6;
const DEBOUNCE_MS = 150;

/** The system the page shows (the map may change it); unset until known. */
function currentSystem() {
  return new URLSearchParams(location.search).get('system') ?? window.gridmap?.system ?? null;
}

async function getJson(path) {
  const resp = await fetch(url(path));
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: reported by status below
  }
  if (resp.status === 429) throw new Error('查询太频繁，请稍后再试');
  if (!resp.ok) throw new Error(body?.error?.message ?? `${resp.status} ${resp.statusText}`);
  return body;
}

let results = [];
let active = -1;
let seq = 0;
let timer = null;

function hideList() {
  list.hidden = true;
  list.innerHTML = '';
  input.setAttribute('aria-expanded', 'false');
  active = -1;
}

function gridPath(r) {
  return (r.grids ?? []).map((g) => g.name).join(' › ');
}

function showList(answer) {
  results = answer.results ?? [];
  if (results.length === 0) {
    list.innerHTML = '<li class="empty" role="presentation">没有找到，换个写法试试（如：小区名+幢号、路名+门牌号）</li>';
  } else {
    const note = answer.ambiguous ? '<li class="note" role="presentation">有多处相近的结果，请选择：</li>' : '';
    list.innerHTML = note + results
      .map((r, i) => `<li role="option" id="suggestion-${i}" data-index="${i}">
          <span class="s-name">${escapeHtml(r.name)}</span>
          <span class="s-address">${escapeHtml(r.address ?? '')}</span>
          <span class="s-grid">${escapeHtml(gridPath(r))}</span>
        </li>`)
      .join('');
  }
  list.hidden = false;
  input.setAttribute('aria-expanded', 'true');
}

async function suggest(text, limit = SUGGEST_LIMIT) {
  const mine = ++seq;
  const q = new URLSearchParams({ q: text, limit: String(limit) });
  const system = currentSystem();
  if (system) q.set('system', system);
  try {
    const answer = await getJson(`api/v1/search?${q}`);
    if (mine !== seq) return null; // a later keystroke won
    showList(answer);
    return answer;
  } catch (err) {
    if (mine !== seq) return null;
    list.innerHTML = `<li class="empty" role="presentation">${escapeHtml(err.message)}</li>`;
    list.hidden = false;
    return null;
  }
}

/** Shows a place's card and tells the map where it is. */
function showPlace(place, heading) {
  openCard(renderCard(place, heading));
  // The map may not have started yet (its library loads later): it reads
  // the last place when it does, and listens for the next ones.
  window.gridmapPlace = place;
  window.dispatchEvent(new CustomEvent('gridmap:place', { detail: place }));
}

function pick(i) {
  const r = results[i];
  if (!r) return;
  hideList();
  input.value = r.name;
  input.blur();
  const heading = `<p class="place"><strong>${escapeHtml(r.name)}</strong>${r.address && r.address !== r.name ? `<br><span>${escapeHtml(r.address)}</span>` : ''}</p>`;
  showPlace({ grids: r.grids, workers: r.workers, location: r.location }, heading);
}

function setActive(i) {
  const items = [...list.querySelectorAll('li[role="option"]')];
  if (items.length === 0) return;
  active = (i + items.length) % items.length;
  items.forEach((li, k) => li.classList.toggle('active', k === active));
  input.setAttribute('aria-activedescendant', items[active].id);
}

input.addEventListener('input', () => {
  clearTimeout(timer);
  const text = input.value.trim();
  if ([...text].length < 2) {
    seq++;
    hideList();
    return;
  }
  timer = setTimeout(() => suggest(text), DEBOUNCE_MS);
});

input.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown') { setActive(active + 1); e.preventDefault(); }
  else if (e.key === 'ArrowUp') { setActive(active - 1); e.preventDefault(); }
  else if (e.key === 'Escape') hideList();
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearTimeout(timer);
  if (active >= 0) return pick(active);
  const text = input.value.trim();
  if (!text) return;
  const answer = await suggest(text, 10);
  if (answer && answer.results.length === 1) pick(0);
});

list.addEventListener('click', (e) => {
  const li = e.target.closest('li[data-index]');
  if (li) pick(Number(li.dataset.index));
});

document.addEventListener('click', (e) => {
  if (!form.contains(e.target)) hideList();
});

locate.addEventListener('click', () => {
  if (!navigator.geolocation) {
    openCard('<p class="error">此浏览器不能提供位置。</p>');
    return;
  }
  locate.disabled = true;
  navigator.geolocation.getCurrentPosition(
    async (pos) => {
      locate.disabled = false;
      const { longitude, latitude } = pos.coords;
      // Browsers report WGS84, which the lookup expects by default.
      const q = new URLSearchParams({ lon: longitude.toFixed(7), lat: latitude.toFixed(7) });
      const system = currentSystem();
      if (system) q.set('system', system);
      try {
        const answer = await getJson(`api/v1/lookup?${q}`);
        showPlace({ ...answer, location: [longitude, latitude] }, '<p class="place"><strong>我的位置</strong></p>');
      } catch (err) {
        openCard(`<p class="error">查询失败：${escapeHtml(err.message)}</p>`);
      }
    },
    (err) => {
      locate.disabled = false;
      openCard(`<p class="error">无法获取位置：${escapeHtml(err.message)}</p>`);
    },
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

/**
 * `?grid=CODE` (the QR code on a printed board links here): opens that
 * grid's card — its place in the tree and its own workers — and has the map
 * fit it.
 */
async function openGridFromAddress() {
  const params = new URLSearchParams(location.search);
  const code = params.get('grid');
  if (!code) return;
  const q = new URLSearchParams();
  const system = params.get('system');
  if (system) q.set('system', system);
  try {
    const feature = await getJson(`api/v1/grids/${encodeURIComponent(code)}?${q}`);
    const p = feature.properties;
    const chain = [p];
    // Its ancestors, for the 街道 › 社区 path (a few levels at most).
    for (let parent = p.parent; parent && chain.length < 8; ) {
      const up = await getJson(`api/v1/grids/${encodeURIComponent(parent)}?system=${encodeURIComponent(p.system)}`);
      chain.unshift(up.properties);
      parent = up.properties.parent;
    }
    const grids = chain.map((g) => ({ code: g.code, name: g.name, level: g.level, system: g.system, parent: g.parent }));
    const [w, s, e, n] = feature.bbox ?? [];
    const place = {
      grids,
      workers: p.workers ?? [],
      board: grids.at(-1),
      bbox: feature.bbox ?? null,
      location: feature.bbox ? [(w + e) / 2, (s + n) / 2] : null,
    };
    showPlace(place, `<p class="place"><strong>${escapeHtml(p.name)}</strong></p>`);
  } catch (err) {
    openCard(`<p class="error">找不到网格 ${escapeHtml(code)}：${escapeHtml(err.message)}</p>`);
  }
}

openGridFromAddress();

document.body.dataset.searchReady = '1';
