// Edits: each one goes to the open proposal through POST
// /api/v1/proposals/{id}/edits. On success the proposal's answer replaces
// ours and the map is redrawn from the server; on a refusal (422 a broken
// rule, 400 a bad edit) the map is put back as it was and the message is
// shown beside each grid it names.

import { api } from './edit-api.js';
import { labelPoint } from './edit-geom.js';
import { escapeHtml } from './edit-ui.js';

const maplibregl = window.maplibregl;

let popups = [];

export function clearRefusal() {
  for (const p of popups) p.remove();
  popups = [];
}

/** Grid codes named in a server message that the working set or the proposal knows. */
export function codesIn(ctx, message) {
  const known = new Set([...(ctx.work?.byCode.keys() ?? []), ...(ctx.proposal?.grids ?? []).map((g) => g.code)]);
  const words = message.match(/[0-9A-Za-z_.-]+/g) ?? [];
  return [...new Set(words.filter((w) => known.has(w)))];
}

/** Shows `message` in the error box and in a popup at each grid it names. */
export function showRefusal(ctx, message) {
  clearRefusal();
  ctx.showError(message);
  for (const code of codesIn(ctx, message)) {
    const f = ctx.work?.byCode.get(code) ?? ctx.proposal?.grids.find((g) => g.code === code && g.geometry);
    const at = f && labelPoint(f);
    if (!at) continue;
    const el = document.createElement('div');
    el.className = 'refusal';
    el.innerHTML = `<b>${escapeHtml(f.properties?.name ?? f.name ?? code)}</b> ${escapeHtml(code)}<br>${escapeHtml(message)}`;
    popups.push(new maplibregl.Popup({ closeButton: true, closeOnClick: false, maxWidth: '320px' }).setLngLat(at).setDOMContent(el).addTo(ctx.map));
  }
}

/**
 * Sends one edit to the open draft (creating a draft first when none is
 * open). `restore` puts the map back when the server refuses it.
 */
export async function sendEdit(ctx, edit, restore) {
  clearRefusal();
  ctx.busy = true;
  try {
    await ctx.ensureDraft();
    const answer = await api('POST', `api/v1/proposals/${ctx.proposal.id}/edits`, edit);
    await ctx.proposalChanged(answer);
    ctx.setStatus(`已保存到提案 #${answer.id}（第 ${answer.edits.length} 项编辑）`);
    return true;
  } catch (e) {
    restore?.();
    showRefusal(ctx, e.status ? `${e.status === 422 ? '不符合规则' : '编辑被拒绝'}：${e.message}` : e.message);
    return false;
  } finally {
    ctx.busy = false;
  }
}

/**
 * The next free codes under the grid's parent, following the siblings'
 * numbering (same length, numeric tail): every sibling of the current data
 * and every code the proposal adds is taken.
 */
export async function freeCodes(ctx, code, n) {
  const f = ctx.work?.byCode.get(code);
  const parent = f?.properties.parent;
  const siblings = parent
    ? (await api('GET', `api/v1/grids?system=${encodeURIComponent(ctx.system)}&parent=${encodeURIComponent(parent)}&limit=10000`)).grids.map((g) => g.code)
    : [];
  const taken = new Set([...siblings, ...(ctx.work?.byCode.keys() ?? []), ...(ctx.proposal?.grids ?? []).map((g) => g.code)]);
  const m = code.match(/^(.*?)(\d+)$/);
  const out = [];
  if (m) {
    const [, head, tail] = m;
    let k = Number(tail);
    for (const c of taken) {
      const mm = c.match(/^(.*?)(\d+)$/);
      if (mm && mm[1] === head && mm[2].length === tail.length) k = Math.max(k, Number(mm[2]));
    }
    while (out.length < n) {
      k += 1;
      const c = head + String(k).padStart(tail.length, '0');
      if (!taken.has(c)) out.push(c);
    }
  } else {
    for (let i = 1; out.length < n; i++) if (!taken.has(`${code}-${i}`)) out.push(`${code}-${i}`);
  }
  return out;
}

/** The forms of the tools panel that need more than the mouse: split names, merge code, name/attributes, workers. */
export function renderForms(ctx, panel, draw) {
  const sel = ctx.work?.byCode.get(ctx.selected);
  const partner = ctx.partner && ctx.work?.byCode.get(ctx.partner);
  if (!sel || !ctx.canEdit()) {
    panel.innerHTML = ctx.canEdit() ? '<p class="hint">在地图上点击一个网格开始编辑。</p>' : '';
    return;
  }
  const p = sel.properties;
  const attrs = JSON.stringify(p.attributes ?? {}, null, 1);
  panel.innerHTML = `
    <div class="tools">
      <button type="button" data-tool="reshape" title="在两个网格的共用边界上各点一点，中间画出新走向">改线</button>
      <button type="button" data-tool="split" title="从网格外画一条穿过网格的线">分割</button>
      <button type="button" data-tool="merge" ${partner ? '' : 'disabled'} title="按住 Shift 点击相邻网格选择合并对象">合并</button>
      <button type="button" data-tool="finish" hidden>完成画线</button>
      <button type="button" data-tool="cancel" hidden>取消画线</button>
    </div>
    <p class="hint">拖动橙色网格的白色顶点即可移动（共用此点的所有网格一起移动，按住 Alt 不吸附）。Shift+点击相邻网格可选为合并对象${partner ? `：已选 <b>${escapeHtml(partner.properties.name)}</b>` : ''}。</p>
    <form id="split-form" class="form" hidden>
      <h3>分割 ${escapeHtml(p.name)}</h3>
      <label>左侧编码 <input name="code0" required></label><label>左侧名称 <input name="name0" required></label>
      <label>右侧编码 <input name="code1" required></label><label>右侧名称 <input name="name1" required></label>
      <button type="submit">确定分割</button> <button type="button" data-cancel>取消</button>
    </form>
    <form id="merge-form" class="form" hidden>
      <h3>合并 ${escapeHtml(p.name)} 与 ${escapeHtml(partner?.properties.name ?? '')}</h3>
      <label>保留编码 <select name="code"><option>${escapeHtml(p.code)}</option>${partner ? `<option>${escapeHtml(partner.properties.code)}</option>` : ''}</select></label>
      <button type="submit">确定合并</button> <button type="button" data-cancel>取消</button>
    </form>
    <form id="update-form" class="form">
      <h3>名称与属性</h3>
      <label>名称 <input name="name" value="${escapeHtml(p.name)}" required></label>
      <label>属性（JSON） <textarea name="attributes" rows="3">${escapeHtml(attrs)}</textarea></label>
      <button type="submit">保存名称与属性</button>
    </form>
    <form id="worker-form" class="form">
      <h3>网格员</h3>
      <ul class="workers">${(p.workers ?? [])
        .map((w) => `<li>${escapeHtml(w.name)}（${escapeHtml(w.id ?? '')}） 份额 ${w.share} ${w.id ? `<button type="button" data-unassign="${escapeHtml(w.id)}">取消分配</button>` : ''}</li>`)
        .join('') || '<li>无网格员</li>'}</ul>
      <label>网格员编号 <input name="worker" required placeholder="如 W000001"></label>
      <label>份额 <input name="share" type="number" min="0.05" max="1.5" step="0.05" value="1" required></label>
      <button type="submit">分配到本网格</button>
    </form>`;
  const show = (drawing) => {
    panel.querySelector('[data-tool=finish]').hidden = !drawing;
    panel.querySelector('[data-tool=cancel]').hidden = !drawing;
  };
  show(draw.drawing());
  panel.querySelector('[data-tool=reshape]').onclick = () => {
    if (!partner) return ctx.showError('改线需要两个相邻网格：先 Shift+点击邻近网格');
    ctx.setStatus('改线：先点击共用边界上的起点，再画新走向，最后点击边界上的终点');
    draw.startLine('reshape');
    show(true);
  };
  panel.querySelector('[data-tool=split]').onclick = () => {
    ctx.setStatus('分割：从网格外开始点击，穿过网格，在网格外结束');
    draw.startLine('split');
    show(true);
  };
  panel.querySelector('[data-tool=finish]').onclick = () => draw.finishLine();
  panel.querySelector('[data-tool=cancel]').onclick = () => {
    draw.cancelLine();
    show(false);
  };
  const mergeForm = panel.querySelector('#merge-form');
  panel.querySelector('[data-tool=merge]').onclick = () => (mergeForm.hidden = false);
  for (const b of panel.querySelectorAll('[data-cancel]')) b.onclick = () => (b.closest('form').hidden = true);
  mergeForm.onsubmit = async (e) => {
    e.preventDefault();
    const code = mergeForm.code.value;
    const other = code === p.code ? partner.properties.code : p.code;
    if (await sendEdit(ctx, { op: 'merge', grids: [p.code, partner.properties.code], code })) {
      await ctx.select(code, null);
      if (other === ctx.selected) ctx.selected = code;
    }
  };
  panel.querySelector('#update-form').onsubmit = async (e) => {
    e.preventDefault();
    const form = e.target;
    let attributes;
    try {
      attributes = JSON.parse(form.attributes.value || '{}');
    } catch (err) {
      return ctx.showError(`属性不是有效的 JSON：${err.message}`);
    }
    await sendEdit(ctx, { op: 'update', grid: p.code, name: form.name.value.trim(), attributes });
  };
  const wf = panel.querySelector('#worker-form');
  wf.onsubmit = async (e) => {
    e.preventDefault();
    await sendEdit(ctx, { op: 'assign_worker', worker: wf.worker.value.trim(), grid: p.code, share: Number(wf.share.value) });
  };
  for (const b of wf.querySelectorAll('[data-unassign]')) {
    b.onclick = () => sendEdit(ctx, { op: 'unassign_worker', worker: b.dataset.unassign, grid: p.code });
  }
}

/** Asks for the split's codes and names, then sends it. */
export async function askSplit(ctx, panel, line) {
  const form = panel.querySelector('#split-form');
  const code = ctx.selected;
  const f = ctx.work.byCode.get(code);
  let fresh;
  try {
    [fresh] = await freeCodes(ctx, code, 1);
  } catch (e) {
    return ctx.showError(`读取同级网格编码失败：${e.message}`);
  }
  // The left piece keeps the grid's code (and its workers); the right one is new.
  form.code0.value = code;
  form.name0.value = f.properties.name;
  form.code1.value = fresh;
  form.name1.value = `${f.properties.name}（新）`;
  form.hidden = false;
  form.name1.focus();
  form.onsubmit = async (e) => {
    e.preventDefault();
    const edit = {
      op: 'split', grid: code, line,
      codes: [form.code0.value.trim(), form.code1.value.trim()],
      names: [form.name0.value.trim(), form.name1.value.trim()],
    };
    if (await sendEdit(ctx, edit)) form.hidden = true;
  };
}

/** Sends a reshape of the selected grid's border with the partner along `line`. */
export function sendReshape(ctx, line) {
  return sendEdit(ctx, { op: 'reshape_border', grids: [ctx.selected, ctx.partner], line });
}
