// History: the published changes (who, when, what), a version picker that
// shows the map and the lookups as they were (?at=VERSION for tiles, grids
// and lookups), and revert for approvers (a new change undoing one).

import { api } from './edit-api.js';
import { escapeHtml, when } from './edit-ui.js';

export async function renderHistory(ctx, panel) {
  let entries;
  try {
    entries = (await api('GET', `api/v1/history?system=${encodeURIComponent(ctx.system)}&limit=100`)).history;
  } catch (e) {
    panel.innerHTML = `<p class="error">历史读取失败：${escapeHtml(e.message)}</p>`;
    return;
  }
  const viewing = ctx.view.kind === 'at' ? Number(ctx.view.id) : null;
  const options = entries
    .map((e) => `<option value="${e.version}" ${viewing === e.version ? 'selected' : ''}>版本 ${e.version} · ${escapeHtml(when(e.at))} · ${escapeHtml(e.title ?? e.kind)}</option>`)
    .join('');
  const rows = entries
    .map((e) => `<tr data-version="${e.version}" class="${viewing === e.version ? 'open' : ''}">
      <td>${e.version}</td><td>${escapeHtml(when(e.at))}</td><td>${escapeHtml(e.author ?? '')}</td>
      <td>${escapeHtml(e.title ?? e.kind)}${e.reverts ? `<br><small>撤销版本 ${e.reverts}</small>` : ''}<br><small>${escapeHtml((e.grids ?? []).join('、'))}</small></td>
      <td><button type="button" data-at="${e.version}">查看</button>
      ${ctx.role === 'approver' && e.kind === 'edit' ? `<button type="button" class="danger" data-revert="${e.version}">撤销</button>` : ''}</td></tr>`)
    .join('');
  panel.innerHTML = `
    <label class="inline">查看版本 <select id="version-picker"><option value="">当前（最新）</option>${options}</select></label>
    ${viewing ? `<p class="viewing">正在查看版本 ${viewing} 时的地图（只读），点击地图查询当时所属网格。</p>` : ''}
    <table class="history"><thead><tr><th>版本</th><th>时间</th><th>作者</th><th>内容</th><th></th></tr></thead>
    <tbody>${rows || '<tr><td colspan="5">还没有发布过修改</td></tr>'}</tbody></table>`;
  panel.querySelector('#version-picker').onchange = (e) => (e.target.value ? ctx.showVersion(Number(e.target.value)) : ctx.showCurrent());
  for (const b of panel.querySelectorAll('[data-at]')) b.onclick = () => ctx.showVersion(Number(b.dataset.at));
  for (const b of panel.querySelectorAll('[data-revert]')) {
    b.onclick = async () => {
      if (!window.confirm(`撤销版本 ${b.dataset.revert} 的修改？将生成一个新版本。`)) return;
      try {
        const r = await api('POST', `api/v1/history/${b.dataset.revert}/revert`);
        ctx.setStatus(`已撤销版本 ${r.reverted}，新版本 ${r.data_version}`);
        await ctx.showCurrent();
      } catch (e) {
        ctx.showError(`撤销失败：${e.message}`);
      }
    };
  }
}
