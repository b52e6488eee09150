// The impact panel: what the open proposal would change, from
// GET /api/v1/proposals/{id}/impact — the sites whose finest grid changes
// (grouped by the grid they move to, counts first, each row locatable), the
// households per grid before and after, each affected worker's load, and the
// coverage problems the proposal would create (the proposal's tiles draw
// them on the map through the style's coverage layers).

import { api } from './edit-api.js';
import { showMarks } from './edit-map.js';
import { KIND_LABEL, escapeHtml } from './edit-ui.js';

const siteCache = new Map();

/** Where a site is: the grid it leaves lists it with its coordinates. */
async function locateSite(ctx, site) {
  const grid = site.from ?? site.to;
  if (!grid) return null;
  const key = `${grid}|${site.kind}`;
  if (!siteCache.has(key)) {
    const found = new Map();
    for (let offset = 0; ; offset += 500) {
      const page = await api('GET', `api/v1/grids/${encodeURIComponent(grid)}/sites?system=${encodeURIComponent(ctx.system)}&kind=${encodeURIComponent(site.kind)}&limit=500&offset=${offset}`);
      for (const s of page.sites) found.set(s.id, [s.lon, s.lat]);
      if (offset + page.sites.length >= page.total || !page.sites.length) break;
    }
    siteCache.set(key, found);
  }
  return siteCache.get(key).get(site.id) ?? null;
}

const kindCounts = (sites) => {
  const n = {};
  for (const s of sites) n[s.kind] = (n[s.kind] ?? 0) + 1;
  return Object.entries(n).map(([k, v]) => `${KIND_LABEL[k] ?? k} ${v}`).join('，');
};

/** Each worker's load: households of their grids weighted by their share, before and after. */
export function workerLoads(impact) {
  const loads = new Map();
  for (const g of impact.grids) {
    for (const w of g.workers) {
      const l = loads.get(w.id) ?? { id: w.id, name: w.name, before: 0, after: 0, grids: [] };
      l.before += w.share * (g.change === 'added' ? 0 : g.households_before);
      l.after += w.share * (g.change === 'deleted' ? 0 : g.households_after);
      l.grids.push(g.code);
      loads.set(w.id, l);
    }
  }
  return [...loads.values()];
}

export async function refreshImpact(ctx, panel) {
  if (!ctx.proposal) {
    panel.innerHTML = '<p class="hint">打开或新建一个提案后，这里显示它的影响。</p>';
    return null;
  }
  panel.innerHTML = '<p class="hint">正在计算影响…</p>';
  let impact;
  try {
    impact = await api('GET', `api/v1/proposals/${ctx.proposal.id}/impact`);
  } catch (e) {
    panel.innerHTML = `<p class="error">影响计算失败：${escapeHtml(e.message)}</p>`;
    return null;
  }
  ctx.impact = impact;
  const groups = new Map();
  for (const s of impact.sites) {
    const k = s.to ?? '（不在任何网格）';
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(s);
  }
  const name = (code) => impact.grids.find((g) => g.code === code)?.name ?? code;
  const groupHtml = [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([to, sites]) => `
      <details class="site-group" data-to="${escapeHtml(to)}" open>
        <summary><b class="count">${sites.length}</b> 处改入 ${escapeHtml(name(to))} <small>${escapeHtml(to)}</small>（${escapeHtml(kindCounts(sites))}）</summary>
        <ul>${sites
          .map((s, i) => `<li><button type="button" class="locate" data-group="${escapeHtml(to)}" data-i="${i}" title="在地图上定位">定位</button> ${escapeHtml(KIND_LABEL[s.kind] ?? s.kind)} ${escapeHtml(s.name)} <small>${escapeHtml(s.from ?? '无')} → ${escapeHtml(s.to ?? '无')}</small></li>`)
          .join('')}</ul>
      </details>`)
    .join('');
  const gridRows = impact.grids
    .map((g) => {
      const d = g.households_after - g.households_before;
      return `<tr data-code="${escapeHtml(g.code)}"><td>${escapeHtml(g.name)}<br><small>${escapeHtml(g.code)}</small></td><td>${g.households_before}</td><td>${g.households_after}</td><td class="${d > 0 ? 'up' : d < 0 ? 'down' : ''}">${d > 0 ? '+' : ''}${d}</td></tr>`;
    })
    .join('');
  const workerRows = workerLoads(impact)
    .map((w) => `<tr><td>${escapeHtml(w.name)}<br><small>${escapeHtml(w.id)}</small></td><td>${Math.round(w.before)}</td><td>${Math.round(w.after)}</td><td>${escapeHtml(w.grids.join('、'))}</td></tr>`)
    .join('');
  panel.innerHTML = `
    <p class="impact-summary"><b id="impact-site-count">${impact.sites.length}</b> 处点位改变所属网格，涉及 <b id="impact-grid-count">${impact.grids.length}</b> 个网格（计算 ${impact.ms} 毫秒）</p>
    ${groupHtml || '<p class="hint">没有点位改变所属网格。</p>'}
    <h3>户数（前 → 后）</h3>
    <table class="impact-grids"><thead><tr><th>网格</th><th>前</th><th>后</th><th>变化</th></tr></thead><tbody>${gridRows}</tbody></table>
    <h3>网格员负荷（按份额折算户数）</h3>
    <table class="impact-workers"><thead><tr><th>网格员</th><th>前</th><th>后</th><th>网格</th></tr></thead><tbody>${workerRows || '<tr><td colspan="4">无</td></tr>'}</tbody></table>
    <h3>覆盖问题</h3>
    ${impact.problems.length ? `<ul class="problems">${impact.problems.map((p) => `<li>${escapeHtml(typeof p === 'string' ? p : p.message)}</li>`).join('')}</ul><p class="hint">问题区域以红色画在地图上（来自提案的瓦片）。</p>` : '<p class="hint">此提案不产生新的覆盖问题。</p>'}`;
  for (const b of panel.querySelectorAll('button.locate')) {
    b.onclick = async () => {
      const site = groups.get(b.dataset.group)[Number(b.dataset.i)];
      try {
        const at = await locateSite(ctx, site);
        if (!at) return ctx.showError(`找不到点位 ${site.name} 的坐标`);
        showMarks(ctx, [at]);
        ctx.map.flyTo({ center: at, zoom: Math.max(ctx.map.getZoom(), 16), animate: false });
        ctx.setStatus(`${site.name}：${site.from ?? '无'} → ${site.to ?? '无'}`);
      } catch (e) {
        ctx.showError(e.message);
      }
    };
  }
  for (const tr of panel.querySelectorAll('.impact-grids tr[data-code]')) {
    tr.onclick = () => ctx.select(tr.dataset.code, null, true);
  }
  return impact;
}
