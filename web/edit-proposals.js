// Proposals: the list (mine and everyone's, by state), opening one (its
// tiles become the map), a new draft, submit for an editor, publish and
// reject for an approver. A 409 on publish names the grids changed since
// the draft touched them; the panel lists them and offers to show them as
// they are now. The open proposal's id is remembered so a reload reopens it.

import { ApiError, api } from './edit-api.js';
import { codesIn, showRefusal } from './edit-edits.js';
import { STATE_LABEL, escapeHtml, when } from './edit-ui.js';

const OPEN_KEY = 'gridmap.editor.proposal';

export const rememberedProposal = () => Number(localStorage.getItem(OPEN_KEY)) || null;
export const rememberProposal = (id) => (id ? localStorage.setItem(OPEN_KEY, String(id)) : localStorage.removeItem(OPEN_KEY));

export async function renderProposalList(ctx, panel) {
  let list;
  try {
    list = (await api('GET', `api/v1/proposals?system=${encodeURIComponent(ctx.system)}`)).proposals;
  } catch (e) {
    panel.innerHTML = `<p class="error">提案列表读取失败：${escapeHtml(e.message)}</p>`;
    return;
  }
  list.sort((a, b) => b.id - a.id);
  const rows = list
    .map((p) => `<tr data-id="${p.id}" class="${ctx.proposal?.id === p.id ? 'open' : ''}">
      <td>#${p.id}</td><td>${escapeHtml(p.title)}</td><td class="state-${p.state}">${STATE_LABEL[p.state] ?? p.state}</td>
      <td>${escapeHtml(p.author)}</td><td>${p.edits}</td>
      <td><button type="button" data-open="${p.id}">打开</button></td></tr>`)
    .join('');
  panel.innerHTML = `
    ${ctx.role !== 'viewer' ? `<form id="new-proposal" class="inline"><input name="title" placeholder="新提案标题，如 调整翠苑一区边界" required maxlength="200"><button type="submit">新建提案</button></form>` : ''}
    <table class="proposals"><thead><tr><th>编号</th><th>标题</th><th>状态</th><th>作者</th><th>编辑</th><th></th></tr></thead>
    <tbody>${rows || '<tr><td colspan="6">还没有提案</td></tr>'}</tbody></table>`;
  const form = panel.querySelector('#new-proposal');
  if (form) {
    form.onsubmit = async (e) => {
      e.preventDefault();
      try {
        const p = await api('POST', 'api/v1/proposals', { system: ctx.system, title: form.title.value.trim() });
        await ctx.openProposal(p.id);
      } catch (err) {
        ctx.showError(`新建提案失败：${err.message}`);
      }
    };
  }
  for (const b of panel.querySelectorAll('[data-open]')) b.onclick = () => ctx.openProposal(Number(b.dataset.open));
}

/** The open proposal's header: title, state, and the actions the role and state allow. */
export function renderCurrent(ctx, panel) {
  const p = ctx.proposal;
  if (!p) {
    panel.innerHTML = '<p class="hint">未打开提案：编辑时会自动新建草稿。</p>';
    return;
  }
  const canSubmit = p.state === 'draft' && ctx.role !== 'viewer';
  const canReview = p.state === 'submitted' && ctx.role === 'approver';
  const reviews = (p.reviews ?? []).map((r) => `<li>${escapeHtml(r.account)} ${escapeHtml(r.action)}${r.note ? `：${escapeHtml(r.note)}` : ''}</li>`).join('');
  panel.innerHTML = `
    <div class="current-proposal">
      <h3>#${p.id} ${escapeHtml(p.title)} <span class="state state-${p.state}" id="proposal-state">${STATE_LABEL[p.state] ?? p.state}</span></h3>
      <p><small>作者 ${escapeHtml(p.author)} · 基于版本 ${p.base_version} · ${p.edits.length} 项编辑 · 更新于 ${escapeHtml(when(p.updated))}</small></p>
      ${p.published_version ? `<p>已发布为版本 ${p.published_version}</p>` : ''}
      ${reviews ? `<ul class="reviews">${reviews}</ul>` : ''}
      <div class="actions">
        ${canSubmit ? '<button type="button" id="submit-proposal">提交审核</button>' : ''}
        ${canReview ? '<input id="review-note" placeholder="审核意见（可选）"><button type="button" id="publish-proposal">发布</button><button type="button" id="reject-proposal" class="danger">驳回</button>' : ''}
        <button type="button" id="close-proposal">关闭提案</button>
      </div>
      <div id="conflict" hidden></div>
    </div>`;
  const note = () => ({ note: panel.querySelector('#review-note')?.value ?? '' });
  const act = async (action, body) => {
    try {
      const answer = await api('POST', `api/v1/proposals/${p.id}/${action}`, body);
      await ctx.proposalChanged(answer, action === 'publish');
      ctx.setStatus({ submit: '已提交审核', publish: `已发布为版本 ${answer.data_version ?? answer.published_version}`, reject: '已驳回' }[action]);
    } catch (e) {
      if (action === 'publish' && e instanceof ApiError && e.status === 409 && e.code === 'conflict') showConflict(ctx, panel, e);
      else showRefusal(ctx, `${{ submit: '提交', publish: '发布', reject: '驳回' }[action]}失败：${e.message}`);
    }
  };
  panel.querySelector('#submit-proposal')?.addEventListener('click', () => act('submit'));
  panel.querySelector('#publish-proposal')?.addEventListener('click', () => act('publish', note()));
  panel.querySelector('#reject-proposal')?.addEventListener('click', () => act('reject', note()));
  panel.querySelector('#close-proposal').onclick = () => ctx.openProposal(null);
}

/** A publish refused because grids changed meanwhile: which ones, and a way to see them as they are now. */
function showConflict(ctx, panel, e) {
  const box = panel.querySelector('#conflict');
  const codes = codesIn(ctx, e.message).length ? codesIn(ctx, e.message) : (e.message.match(/\b[0-9]{6,}\b/g) ?? []);
  box.hidden = false;
  box.className = 'error';
  box.innerHTML = `<p>发布冲突：以下网格在此提案之后已被他人修改：</p>
    <ul>${codes.map((c) => `<li><button type="button" data-code="${escapeHtml(c)}">${escapeHtml(c)}</button></li>`).join('')}</ul>
    <p><small>${escapeHtml(e.message)}</small></p>
    <button type="button" id="reload-conflict">重新载入这些网格的现状</button>`;
  for (const b of box.querySelectorAll('[data-code]')) b.onclick = () => ctx.select(b.dataset.code, null, true);
  box.querySelector('#reload-conflict').onclick = async () => {
    // The current data, not the proposal's copy: what the others published.
    await ctx.showCurrent();
    if (codes[0]) await ctx.select(codes[0], codes[1] ?? null, true);
    ctx.setStatus(`显示 ${codes.join('、')} 的现状；请在现状上重新编辑`);
  };
}
