/*
 * api.js - the one place the UI talks to the RHIS server.
 *
 * Why: every request must carry the bearer token, every error arrives as a FHIR
 * OperationOutcome whose diagnostics the user should read, and a 401 anywhere means
 * the session is over. Keeping that here leaves the pages free of HTTP details.
 */
import { t, getLang, hasKey } from './i18n.js';

const TOKEN_KEY = 'rhis.token';

export class ApiError extends Error {
  constructor(message, status, outcome) {
    super(message);
    this.status = status;
    this.outcome = outcome;
  }
}

let onUnauthorized = () => {};

/* Registers what to do when the server answers 401 to an authenticated call. */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

export function setToken(tok) {
  try {
    if (tok) sessionStorage.setItem(TOKEN_KEY, tok);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the session lasts as long as the page */ }
}

const hasHan = (str) => /[\u3400-\u9fff]/.test(str);

/*
 * The message to show for an error response. The OperationOutcome's diagnostics
 * are shown as written when they are in the UI's language (or the UI is English);
 * otherwise the dictionary's message for the error code (details.text, or the
 * caller's per-status key) leads and the server's words follow in brackets.
 */
function errorMessage(body, status, statusKeys) {
  const issues = body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue) ? body.issue : [];
  const diag = issues.map((i) => i.diagnostics || '').filter(Boolean).join('；');
  const code = issues[0] && issues[0].details && issues[0].details.text;
  if (diag && (getLang() === 'en' || hasHan(diag))) return diag;
  let key = statusKeys && statusKeys[status];
  if (!key && code && hasKey(`err.code.${code}`)) key = `err.code.${code}`;
  if (!key && status === 429) key = 'err.429';
  const local = key ? t(key) : null;
  if (local && diag) return getLang() === 'en' ? `${local} (${diag})` : `${local}（${diag}）`;
  return local || diag || t('err.generic', { status });
}

/*
 * Sends one request; resolves to the parsed JSON body (null for 204) or rejects
 * with ApiError. opts: {method, body (object, sent as JSON), auth (default true),
 * statusKeys ({401: 'login.bad'}: dictionary keys for error statuses),
 * headers (extra request headers; values must be ISO-8859-1, encode others)}.
 */
export async function api(path, opts = {}) {
  const { method = 'GET', body, auth = true, statusKeys } = opts;
  const headers = { ...opts.headers, Accept: 'application/json, application/fhir+json' };
  const tok = getToken();
  if (auth && tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(t('err.network'), 0, null);
  }

  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (res.ok) return data;

  const err = new ApiError(errorMessage(data, res.status, statusKeys), res.status, data);
  if (res.status === 401 && auth) {
    setToken(null);
    onUnauthorized(err);
  }
  throw err;
}

/* Builds a query string from an object, skipping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
