// Push instead of polling: GET v1/events, read with fetch (EventSource cannot send the
// Authorization header) and parsed as server-sent events. While the stream is open the
// task list applies its events and polls only now and then; when it closes, polling
// takes over at once, and the stream is tried again with a growing delay, resuming
// after the last event seen (Last-Event-ID), so nothing is missed.

import { apiUrl } from './api.js';
import { authHeader } from './auth.js';

const RETRY_FIRST = 1000;
const RETRY_MAX = 30000;

const handlers = new Set();
const changeListeners = new Set();
let open = false;
let started = false;
let lastId = null;
let lastAuth;       // the key the last id belongs to: another key starts afresh
let controller = null;
let retry = RETRY_FIRST;

export function isStreaming() {
  return open;
}

/** fn(kind, data) for every event: submitted, position, started, progress, preview, final. */
export function onStreamEvent(fn) {
  handlers.add(fn);
}

/** fn(open) whenever the stream opens or closes. */
export function onStreamChange(fn) {
  changeListeners.add(fn);
}

export function startStream() {
  if (started) return;
  started = true;
  connect();
}

function setOpen(value) {
  if (open === value) return;
  open = value;
  for (const fn of changeListeners) fn(value);
}

async function connect() {
  controller = new AbortController();
  const auth = authHeader();
  if (auth !== lastAuth) lastId = null;
  lastAuth = auth;
  const headers = { Accept: 'text/event-stream' };
  if (auth) headers.Authorization = auth;
  if (lastId !== null) headers['Last-Event-ID'] = lastId;
  try {
    const res = await fetch(apiUrl('events'), { headers, cache: 'no-store', signal: controller.signal });
    const type = res.headers.get('content-type') || '';
    if (res.ok && res.body && type.startsWith('text/event-stream')) {
      setOpen(true);
      retry = RETRY_FIRST;
      await read(res.body.getReader());
    }
  } catch {
    // cut, refused or unreachable: polling covers it until the next try
  }
  setOpen(false);
  setTimeout(connect, retry);
  retry = Math.min(retry * 2, RETRY_MAX);
}

async function read(reader) {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (authHeader() !== lastAuth) {
        controller.abort(); // signed in as someone else: their stream, from the start
        return;
      }
      dispatch(frame);
    }
  }
}

function dispatch(frame) {
  const fields = {};
  for (const line of frame.split('\n')) {
    if (!line || line.startsWith(':')) continue; // comments keep the connection alive
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
  }
  if (fields.id !== undefined) lastId = fields.id;
  if (!fields.event || fields.data === undefined) return;
  let data;
  try {
    data = JSON.parse(fields.data);
  } catch {
    return;
  }
  for (const fn of handlers) fn(fields.event, data);
}
