// Small helpers the editor's panels share.

export const $ = (sel, root = document) => root.querySelector(sel);

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export const STATE_LABEL = { draft: '草稿', submitted: '待审核', published: '已发布', rejected: '已驳回' };

export const KIND_LABEL = { address: '地址', enterprise: '企业', fire_risk: '消防重点', food: '餐饮', internet_cafe: '网吧', school: '学校' };

/** A time stamp from the server (RFC 3339) in local Chinese form. */
export function when(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t ?? '') : d.toLocaleString('zh-CN', { hour12: false });
}
