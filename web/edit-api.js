// The editor's one door to the server: every request goes through `api`,
// which adds the signed-in account's token and turns an error answer into an
// ApiError carrying the status and the server's {"error":{code,message}}.
//
// The token is kept in localStorage so a planner pastes it once; signing out
// removes it. The server keeps only its hash, so nothing here can recover it.

const TOKEN_KEY = 'gridmap.editor.token';

/** Absolute URL of a server path, relative to the page (keeps a proxy prefix). */
export const url = (path) => new URL(path, document.baseURI).href;

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export const token = () => localStorage.getItem(TOKEN_KEY);
export const setToken = (t) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY));

/** Headers a same-origin request needs: the bearer token when signed in. */
export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** `method path` with an optional JSON body; the parsed answer, or throws ApiError. */
export async function api(method, path, body) {
  const headers = { ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', `无法连接服务器：${e.message}`);
  }
  let parsed = null;
  try {
    parsed = await resp.json();
  } catch {
    // A non-JSON body (a proxy's error page): reported by status below.
  }
  if (!resp.ok) {
    const err = parsed?.error ?? {};
    throw new ApiError(resp.status, err.code ?? 'http', err.message ?? `${resp.status} ${resp.statusText}`, parsed);
  }
  return parsed;
}

export const ROLE_LABEL = { viewer: '查看员', editor: '规划员', approver: '审核员' };

/**
 * The role of the stored token. The API has no "who am I" route; a write
 * to proposal 0 (ids start at 1) answers by role before it looks the
 * proposal up: 401 an unknown token, 403 a role below the one the route
 * needs, 404 enough role. Nothing is written and nothing is audited.
 */
export async function probeRole() {
  const probe = async (action) => {
    try {
      await api('POST', `api/v1/proposals/0/${action}`);
      return true;
    } catch (e) {
      if (e.status === 404) return true;
      if (e.status === 403) return false;
      throw e;
    }
  };
  if (!(await probe('submit'))) return 'viewer';
  return (await probe('publish')) ? 'approver' : 'editor';
}
