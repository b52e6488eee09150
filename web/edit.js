// gridmap editor: the planners' desktop page (/edit). Signs in with an
// account token, opens or starts a proposal, and edits its grids on the map
// through the HTTP API only; shows the impact, submits, publishes, and goes
// back in time through the history.
//
// Plain ES modules, no bundler, like the public page: MapLibre is a classic
// script (window.maplibregl). The modules split by capability: edit-api
// (requests, token, role), edit-map (style, views, working set), edit-geom
// (exact geometry, shared vertices, snapping), edit-draw (drag and line
// tools), edit-edits (sending edits, refusals, forms), edit-impact,
// edit-proposals, edit-history.

import { ApiError, ROLE_LABEL, api, probeRole, setToken, token, url } from './edit-api.js';
import { frameStats, installDrawing } from './edit-draw.js';
import { askSplit, clearRefusal, renderForms, sendEdit, sendReshape } from './edit-edits.js';
import { refreshImpact } from './edit-impact.js';
import { renderHistory } from './edit-history.js';
import { createMap, drawWork, fitFeature, gridAt, highlightSelection, loadView, loadWorkingSet, showMarks, viewQuery } from './edit-map.js';
import { rememberProposal, rememberedProposal, renderCurrent, renderProposalList } from './edit-proposals.js';
import { $, escapeHtml } from './edit-ui.js';

const ctx = {
  system: null,
  role: null,
  proposal: null,
  view: { kind: 'current' },
  selected: null,
  partner: null,
  work: null,
  tool: 'vertex',
  levels: [],
  styleLayers: {},
  impact: null,
  lastDragEnd: 0,
  canEdit() {
    return (ctx.role === 'editor' || ctx.role === 'approver') && ctx.view.kind !== 'at' && (!ctx.proposal || ctx.proposal.state === 'draft');
  },
  setStatus(text) {
    const el = $('#status');
    el.textContent = text ?? '';
    el.hidden = !text;
  },
  showError(text) {
    const el = $('#error');
    el.innerHTML = text ? `${escapeHtml(text)} <button type="button" class="close" aria-label="关闭">×</button>` : '';
    el.hidden = !text;
    el.querySelector('.close')?.addEventListener('click', () => ctx.showError(''));
  },
};
window.gridmapEditor = { ctx, frameStats };

// ---- panels ----------------------------------------------------------------

function renderAccount() {
  const box = $('#account');
  if (!ctx.role) {
    box.innerHTML = `<form id="signin" class="inline"><input name="token" type="password" placeholder="粘贴账户令牌 gm_…" required autocomplete="off" aria-label="账户令牌"><button type="submit">登录</button></form>`;
    $('#signin').onsubmit = (e) => {
      e.preventDefault();
      signIn(e.target.token.value.trim());
    };
    return;
  }
  box.innerHTML = `<span class="who">已登录：<b id="role">${ROLE_LABEL[ctx.role]}</b></span> <button type="button" id="signout">退出</button>`;
  $('#signout').onclick = signOut;
}

function levelLabel(level) {
  return ctx.levels.find((l) => l.name === level)?.label ?? level;
}

function renderSelection() {
  const box = $('#selection');
  const f = ctx.work?.byCode.get(ctx.selected);
  if (!f) {
    box.innerHTML = '<p class="hint">在地图上点击选择网格（层级见上方“选择层级”），Shift+点击选择相邻网格。</p>';
  } else {
    const p = f.properties;
    const partner = ctx.work.byCode.get(ctx.partner);
    box.innerHTML = `<div class="grid-info" data-code="${escapeHtml(p.code)}">
      <h3><span class="level">${escapeHtml(levelLabel(p.level))}</span> <span id="selected-name">${escapeHtml(p.name)}</span></h3>
      <p><small>编码 <span id="selected-code">${escapeHtml(p.code)}</span>${p.parent ? ` · 上级 ${escapeHtml(p.parent)}` : ''} · ${Math.round(p.area_m2 ?? 0).toLocaleString('zh-CN')} 平方米 · 下级 ${p.children?.length ?? 0} 个</small></p>
      <p><small>网格员：${escapeHtml((p.workers ?? []).map((w) => `${w.name}（${w.share}）`).join('、') || '无')}</small></p>
      ${partner ? `<p>相邻网格：<b id="partner-name">${escapeHtml(partner.properties.name)}</b> <small>${escapeHtml(partner.properties.code)}</small></p>` : ''}
    </div>`;
  }
  renderForms(ctx, $('#tools'), draw);
}

async function renderProposalPanels() {
  renderCurrent(ctx, $('#current'));
  await renderProposalList(ctx, $('#proposals'));
}

// ---- views -----------------------------------------------------------------

/** Points the grid tiles at the view's TileJSON again (new revision, or another view) and reloads the working set. */
async function refreshView(restyle) {
  if (restyle || !ctx.map.getSource('grids')) {
    await loadView(ctx);
  } else {
    const q = viewQuery(ctx);
    const rev = ctx.view.kind === 'proposal' ? `&r=${ctx.proposal?.revision ?? 0}` : '';
    ctx.map.getSource('grids').setUrl(url(`tiles/${encodeURIComponent(ctx.system)}.json${q ? `?${q}${rev}` : ''}`));
  }
  $('body').dataset.view = ctx.view.kind;
  $('#view-label').textContent = { current: '当前数据', proposal: `提案 #${ctx.view.id} 预览`, at: `历史版本 ${ctx.view.id}（只读）` }[ctx.view.kind];
  await loadWorkingSet(ctx);
  if (ctx.selected && !ctx.work?.byCode.has(ctx.selected)) {
    ctx.selected = null;
    ctx.partner = null;
    await loadWorkingSet(ctx);
  }
  highlightSelection(ctx);
  renderSelection();
}

ctx.select = async (code, partner, fit) => {
  clearRefusal();
  ctx.selected = code;
  ctx.partner = partner ?? null;
  await loadWorkingSet(ctx);
  highlightSelection(ctx);
  renderSelection();
  const f = ctx.work?.byCode.get(code);
  if (fit && f) fitFeature(ctx, f);
};

ctx.showCurrent = async () => {
  ctx.view = { kind: 'current' };
  await refreshView(true);
  await renderHistory(ctx, $('#history'));
};

ctx.showVersion = async (version) => {
  ctx.view = { kind: 'at', id: version };
  await refreshView(true);
  await renderHistory(ctx, $('#history'));
  ctx.setStatus(`正在查看版本 ${version}`);
};

ctx.openProposal = async (id) => {
  clearRefusal();
  ctx.showError('');
  if (!id) {
    ctx.proposal = null;
    rememberProposal(null);
    ctx.view = { kind: 'current' };
  } else {
    try {
      ctx.proposal = await api('GET', `api/v1/proposals/${id}`);
    } catch (e) {
      rememberProposal(null);
      ctx.showError(`无法打开提案 #${id}：${e.message}`);
      return;
    }
    rememberProposal(id);
    // A published or rejected proposal is history: the current data shows it.
    ctx.view = ['draft', 'submitted'].includes(ctx.proposal.state) ? { kind: 'proposal', id } : { kind: 'current' };
  }
  await refreshView(true);
  await Promise.all([renderProposalPanels(), refreshImpact(ctx, $('#impact'))]);
};

/** After the server answered an edit or an action: its proposal replaces ours and everything is redrawn from it. */
ctx.proposalChanged = async (answer, published) => {
  const kindBefore = ctx.view.kind;
  ctx.proposal = answer;
  ctx.view = ['draft', 'submitted'].includes(answer.state) ? { kind: 'proposal', id: answer.id } : { kind: 'current' };
  await refreshView(kindBefore !== ctx.view.kind || published);
  await Promise.all([renderProposalPanels(), refreshImpact(ctx, $('#impact')), published ? renderHistory(ctx, $('#history')) : null]);
};

ctx.ensureDraft = async () => {
  if (ctx.proposal?.state === 'draft') return;
  if (ctx.proposal) throw new Error(`提案 #${ctx.proposal.id} 已${ctx.proposal.state === 'submitted' ? '提交' : '结束'}，不能再编辑；请新建提案`);
  const title = `草稿 ${new Date().toLocaleString('zh-CN', { hour12: false })}`;
  const p = await api('POST', 'api/v1/proposals', { system: ctx.system, title });
  ctx.proposal = p;
  rememberProposal(p.id);
};

// ---- drawing ---------------------------------------------------------------

let draw;

async function onPick(e) {
  if (performance.now() - ctx.lastDragEnd < 400) return;
  showMarks(ctx, []);
  try {
    const level = $('#pick-level').value || null;
    const g = await gridAt(ctx, e.lngLat, level);
    if (!g) {
      ctx.setStatus('此处没有网格');
      return;
    }
    if (e.originalEvent.shiftKey && ctx.selected && g.code !== ctx.selected) await ctx.select(ctx.selected, g.code);
    else await ctx.select(g.code, null);
    ctx.setStatus(`已选择 ${g.name}（${g.code}）`);
  } catch (err) {
    ctx.showError(`查询网格失败：${err.message}`);
  }
}

async function onVertexMoved(from, to, restore) {
  ctx.lastDragEnd = performance.now();
  await sendEdit(ctx, { op: 'move_vertex', from, to }, restore);
}

async function onLineDone(purpose, line) {
  if (purpose === 'split') await askSplit(ctx, $('#tools'), line);
  else if (purpose === 'reshape') await sendReshape(ctx, line);
  drawWork(ctx);
}

// ---- sign in -----------------------------------------------------------------

async function signIn(t) {
  ctx.showError('');
  setToken(t);
  try {
    ctx.role = await probeRole();
  } catch (e) {
    setToken(null);
    ctx.role = null;
    renderAccount();
    ctx.showError(e instanceof ApiError && e.status === 401 ? '令牌无效或已被吊销' : `登录失败：${e.message}`);
    return;
  }
  $('body').dataset.role = ctx.role;
  renderAccount();
  const remembered = rememberedProposal();
  await ctx.openProposal(remembered);
  await renderHistory(ctx, $('#history'));
  $('body').dataset.ready = '1';
}

function signOut() {
  setToken(null);
  rememberProposal(null);
  location.reload();
}

async function main() {
  const tiles = await api('GET', 'tiles');
  const wanted = new URLSearchParams(location.search).get('system');
  const ts = tiles.tilesets.find((t) => t.system === wanted) ?? tiles.tilesets[0];
  if (!ts) throw new Error('服务器上没有网格体系');
  ctx.system = ts.system;
  createMap(ctx, 'map');
  await new Promise((r) => ctx.map.once('load', r));
  await loadView(ctx);
  $('#pick-level').innerHTML = `<option value="">最细一级</option>${ctx.levels.map((l) => `<option value="${escapeHtml(l.name)}">${escapeHtml(l.label ?? l.name)}</option>`).join('')}`;
  if (ts.bounds) ctx.map.fitBounds([[ts.bounds[0], ts.bounds[1]], [ts.bounds[2], ts.bounds[3]]], { padding: 40, animate: false });
  draw = installDrawing(ctx, { onVertexMoved, onLineDone, onPick });
  window.gridmapEditor.draw = draw;
  renderAccount();
  renderSelection();
  if (token()) await signIn(token());
  else $('body').dataset.ready = '1';
}

main().catch((e) => ctx.showError(`编辑器启动失败：${e.message}`));
