// The one place that talks HTTP: the auth header, 401 -> ask for the key and retry,
// "server unreachable" detection, and every error answer turned into an ApiError that
// says what went wrong and, for 422, which field.

import { askForKey, authHeader, getKey } from './auth.js';
import { failed, succeeded } from './connection.js';

// Relative to the page (/queue/), so the page also works behind a proxy sub-path.
const API_BASE = new URL('v1/', document.baseURI);
const SERVER_PREFIX = '/queue/v1/';

export class ApiError extends Error {
  constructor(status, message, { fields = {}, messages = [] } = {}) {
    super(message);
    this.status = status;     // 0: the server did not answer
    this.fields = fields;     // field name -> [messages] (422)
    this.messages = messages; // messages that name no field
  }
}

const STATUS_TEXT = {
  401: 'An API key is needed, or the saved one was refused.',
  403: 'Only an admin can do that.',
  404: 'Not found: it may have been deleted, or it is not yours.',
  409: 'Not possible now',
  413: 'Too large',
  422: 'Please check the highlighted fields.',
  429: 'Over your limit',
};

/** An API URL as the server writes it (/queue/v1/...) -> one relative to this page. */
export function apiUrl(path) {
  if (path.startsWith(SERVER_PREFIX)) path = path.slice(SERVER_PREFIX.length);
  return new URL(path, API_BASE);
}

/** A task id is 32 hex digits: noise in a message shown next to that very task. */
function tidy(text) {
  return String(text).replace(/\s*\b[0-9a-f]{32}\b/g, '').replace(/\s+/g, ' ').trim();
}

async function errorFrom(res) {
  let detail = null;
  try {
    detail = (await res.json()).detail;
  } catch {
    // not JSON: keep the status text
  }
  const fields = {};
  const messages = [];
  if (Array.isArray(detail)) {
    for (const item of detail) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const msg = item.msg || 'invalid';
      if (loc[0] === 'body' && typeof loc[1] === 'string') {
        const where = typeof loc[2] === 'number' ? `image ${loc[2] + 1}: ` : '';
        (fields[loc[1]] ||= []).push(where + msg);
      } else {
        messages.push(loc.length > 1 ? `${loc.slice(1).join('.')}: ${msg}` : msg);
      }
    }
  } else if (detail) {
    messages.push(tidy(typeof detail === 'string' ? detail : JSON.stringify(detail)));
  }
  const head = STATUS_TEXT[res.status] || `The server answered ${res.status} ${res.statusText}`.trim();
  let message = head;
  if (res.status === 422) {
    message = messages.length ? messages.join('; ') : head;
  } else if (res.status === 401 || res.status === 403 || res.status === 404) {
    message = head;
  } else if (messages.length) {
    message = `${head}: ${messages.join('; ')}`;
  }
  if (res.status === 429) {
    const after = res.headers.get('Retry-After');
    if (after) message += ` Try again in ${after} s.`;
  }
  return new ApiError(res.status, message, { fields, messages });
}

/**
 * One API call. `background`: a poll, not something the user just did (it does not
 * re-open the key dialog the user closed). `raw`: return the Response (images).
 * `revalidate`: the answer carries an ETag; the browser keeps it and asks with
 * If-None-Match, and the server answers 304 (no body) while nothing changed.
 * A read over the person's rate (429) was held by the server until it may try again:
 * it is sent again at once.
 */
export async function request(path, { method = 'GET', body, query, background = false, raw = false, revalidate = false } = {}) {
  const url = apiUrl(path);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null) url.searchParams.set(k, v);
  }
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: 'application/json' };
    const auth = authHeader();
    if (auth) headers.Authorization = auth;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(url, {
        method, headers, cache: revalidate ? 'no-cache' : 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      failed();
      throw new ApiError(0, 'The server is not answering.');
    }
    if (res.status === 502 || res.status === 503 || res.status === 504) {
      failed();
      throw new ApiError(0, 'The server is not answering.');
    }
    succeeded();
    // signed out or in as someone else meanwhile: this answer is the last user's; ask again
    if (method === 'GET' && authHeader() !== auth && attempt < 3) continue;
    if (method === 'GET' && res.status === 429 && attempt < 3) continue;
    if (res.status === 401 && attempt < 3) {
      const reason = getKey() ? 'The server refused the saved API key. Enter a valid one.' : 'This server needs an API key.';
      if (await askForKey(reason, { background })) continue;
    }
    if (!res.ok) throw await errorFrom(res);
    if (raw) return res;
    if (res.status === 204) return null;
    return (res.headers.get('content-type') || '').includes('json') ? res.json() : res;
  }
}

export const api = {
  submit: (kind, payload) => request(kind, { method: 'POST', body: payload }),
  tasks: (query, opts) => request('tasks', { query, ...opts }),
  task: (id, opts) => request(`tasks/${id}`, { revalidate: true, ...opts }),
  interrupt: (id) => request(`tasks/${id}/interrupt`, { method: 'POST' }),
  remove: (id) => request(`tasks/${id}`, { method: 'DELETE' }),
  /** {to: 'front'} | {to: 'back'} | {before: task_id}: a queued task's place in the run order. */
  move: (id, body) => request(`tasks/${id}/move`, { method: 'POST', body }),
  queue: (opts) => request('queue', { revalidate: true, ...opts }),
  pause: () => request('queue/pause', { method: 'POST' }),
  resume: () => request('queue/resume', { method: 'POST' }),
  checkpoints: () => request('checkpoints'),
  // the form's lists after the checkpoints: they never re-open the key dialog the user closed
  scripts: () => request('scripts', { background: true }),
  /** webui's saved styles, LoRAs, embeddings, hires upscalers: {data: [...]} */
  styles: () => request('styles', { background: true }),
  loras: () => request('loras', { background: true }),
  embeddings: () => request('embeddings', { background: true }),
  upscalers: () => request('upscalers', { background: true }),
  me: (opts) => request('me', opts),
  users: (opts) => request('users', opts),
  createUser: (body) => request('users', { method: 'POST', body }),
  updateUser: (name, body) => request(`users/${encodeURIComponent(name)}`, { method: 'PATCH', body }),
  deleteUser: (name) => request(`users/${encodeURIComponent(name)}`, { method: 'DELETE' }),
  addKey: (name) => request(`users/${encodeURIComponent(name)}/keys`, { method: 'POST' }),
  deleteKey: (name, prefix) => request(`users/${encodeURIComponent(name)}/keys/${encodeURIComponent(prefix)}`, { method: 'DELETE' }),
  health: (opts) => request('health', opts),
  /** The boxes running the queue: {data: [{name, checkpoint, busy, running, mine, ...}], count} */
  boxes: (opts) => request('boxes', opts),
  /** The running task's preview as bytes, or null (204). */
  async preview(id) {
    const res = await request(`tasks/${id}/preview`, { raw: true, background: true });
    if (res.status === 204) return null;
    return new Uint8Array(await res.arrayBuffer());
  },
};

/** webui's own API (/sdapi/v1/...), next to ours: no queue key, no key dialog. */
export async function native(path) {
  const res = await fetch(new URL(`../sdapi/v1/${path}`, document.baseURI), { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new ApiError(res.status, `webui answered ${res.status}`);
  return res.json();
}

// Images (finished, thumbnails, img2img inputs). The server hands out URLs that need no
// Authorization header (signed with `exp` and `sig` once users exist), so an <img src>
// opens them directly: browser cache and lazy loading work.

/** A server image URL as this page's <img src>. */
export function imageSrc(serverUrl) {
  return apiUrl(serverUrl).href;
}

/** Show a server image in <img> (and optionally as an <a download> target); only
 * touched when the URL changed, so that a re-render does not reload it. */
export function showImage(img, serverUrl, link) {
  const src = imageSrc(serverUrl);
  if (img.getAttribute('src') !== src) img.src = src;
  if (link && link.getAttribute('href') !== src) link.href = src;
}
