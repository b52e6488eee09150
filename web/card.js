// The grid card, shared by the map (a click) and the search (a result, or
// "my location"): 街道 › 社区 › 网格, the grids, and the gridworkers with
// photo, name, role, duties and a tel: link. Needs no map library.

/** Level names shown before the style (which names them) has loaded. */
const DEFAULT_LEVEL_LABELS = { street: '街道', community: '社区', block: '网格' };

let labelOf = (level) => DEFAULT_LEVEL_LABELS[level] ?? level;

/** Lets the map page name levels as its style does. */
export function setLevelLabel(fn) {
  labelOf = (level) => fn(level) ?? DEFAULT_LEVEL_LABELS[level] ?? level;
}

export const levelLabel = (level) => labelOf(level);

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function avatar(w) {
  const initial = escapeHtml(String(w.name ?? '').slice(0, 1) || '?');
  // A photo that fails to load leaves the initial showing underneath.
  const img = w.photo ? `<img src="${escapeHtml(w.photo)}" alt="" loading="lazy">` : '';
  return `<span class="avatar" aria-hidden="true"><span>${initial}</span>${img}</span>`;
}

/**
 * A link to the printable publicity board (网格示意图) of the card's
 * community: `answer.board` when the card is a grid's own, else the parent of
 * the finest grid (the community of a block), else the only grid.
 */
function boardLink(answer) {
  const grids = answer.grids ?? [];
  const g = answer.board ?? (grids.length >= 2 ? grids.at(-2) : grids.at(-1));
  if (!g?.code) return '';
  const q = g.system ? `?system=${encodeURIComponent(g.system)}` : '';
  const href = `api/v1/boards/${encodeURIComponent(g.code)}.pdf${q}`;
  return `<p class="board"><a class="board-link" href="${escapeHtml(href)}" target="_blank" rel="noopener">打印${escapeHtml(g.name || g.code)}公示牌（PDF）</a></p>`;
}

/** The card's HTML for `{grids, workers}` (a lookup answer or a search result). */
export function renderCard(answer, heading = '') {
  const grids = answer.grids ?? [];
  const workers = answer.workers ?? [];
  if (grids.length === 0) {
    return `${heading}<p class="outside">此处不在任何网格内。</p>`;
  }
  const path = grids.map((g) => `<span>${escapeHtml(g.name || g.code)}</span>`).join('<span class="sep">›</span>');
  const rows = grids
    .map((g, i) => {
      const border = g.on_border ? '<span class="tag" title="点击位置在网格边界上">边界</span>' : '';
      return `<li class="${i === grids.length - 1 ? 'finest' : ''}" data-code="${escapeHtml(g.code)}">
        <span class="level">${escapeHtml(levelLabel(g.level))}</span>
        <span class="name">${escapeHtml(g.name)}${border}</span>
        <span class="code">${escapeHtml(g.code)}</span>
      </li>`;
    })
    .join('');
  // The finest grid's own workers first: they are the ones to call.
  const depthOf = new Map(grids.map((g, i) => [g.code, i]));
  const ordered = [...workers].sort((a, b) => (depthOf.get(b.grid) ?? -1) - (depthOf.get(a.grid) ?? -1));
  const finestCode = grids.at(-1).code;
  const people = ordered.length
    ? `<ul class="workers">${ordered
        .map((w) => {
          const g = grids.find((x) => x.code === w.grid);
          const where = g && g.code !== finestCode ? `<span class="share">${escapeHtml(levelLabel(g.level))} · ${escapeHtml(g.name)}</span>` : '';
          const share = w.share > 0 && w.share < 1 ? `<span class="share">兼 ${Math.round(w.share * 100)}%</span>` : '';
          const tel = String(w.phone ?? '').replace(/[^\d+]/g, '');
          const phone = tel ? `<a class="phone" href="tel:${escapeHtml(tel)}">${escapeHtml(w.phone)}</a>` : '';
          const duties = w.duties ? `<div class="duties">职责：${escapeHtml(w.duties)}</div>` : '';
          const role = w.role ? `<span class="role">${escapeHtml(w.role)}</span>` : '';
          return `<li>${avatar(w)}<div class="worker-text"><div class="worker-head">${role}<span class="worker-name">${escapeHtml(w.name)}</span>${where}${share}</div>${duties}${phone}</div></li>`;
        })
        .join('')}</ul>`
    : '<p class="none">暂无网格员</p>';
  return `${heading}<p class="path">${path}</p><ul class="grids">${rows}</ul>${boardLink(answer)}<h2>网格员</h2>${people}`;
}

const card = document.querySelector('#grid-card');
const cardBody = card.querySelector('.card-body');
const closers = [];

// Photos that do not load (error events do not bubble: capture them).
cardBody.addEventListener('error', (e) => {
  if (e.target.tagName === 'IMG') e.target.remove();
}, true);

export function openCard(html) {
  cardBody.innerHTML = html;
  card.hidden = false;
  cardBody.scrollTop = 0;
  document.body.classList.add('card-open');
}

export function closeCard() {
  card.hidden = true;
  document.body.classList.remove('card-open');
  for (const f of closers) f();
}

/** Runs `f` whenever the card closes (the map clears its highlight). */
export function onCardClose(f) {
  closers.push(f);
}

export const cardElement = card;

card.querySelector('.card-close').addEventListener('click', closeCard);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') closeCard();
});
