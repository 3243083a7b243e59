// "My tasks": loading, polling and the Stop / Remove actions; the cards themselves are
// in taskcard.js. Polled while live: running ~1 s with its live preview, queued ~3 s,
// final never.

import { api } from './api.js';
import { h, setText, STATUS_LABEL } from './dom.js';
import { isPolling, nudge, poll, stop } from './poll.js';
import * as store from './store.js';
import { isStreaming, onStreamChange, onStreamEvent, startStream } from './stream.js';
import { fillCard, makeCard } from './taskcard.js';

const RUNNING_EVERY = 1000;
const QUEUED_EVERY = 3000;
const LIST_EVERY = 10000; // new tasks from elsewhere (another tab, a script with the same key)
const STREAMED_EVERY = 30000; // while the event stream is open: only a check now and then
const PAGE = 30;

const cards = new Map();    // task_id -> {li, parts...}
const previews = new Map(); // task_id -> {bytes, url}
const stopping = new Set(); // task ids the user asked to stop, until the server confirms
let paused = false;
let openImage = () => {};

const $ = (id) => document.getElementById(id);

// ---- polling ----------------------------------------------------------------------------

function every(status) {
  if (status !== 'running' && status !== 'queued') return null;
  if (isStreaming()) return STREAMED_EVERY;
  return status === 'running' ? RUNNING_EVERY : QUEUED_EVERY;
}

async function tick(id) {
  let task;
  try {
    task = await api.task(id, { background: true });
  } catch (e) {
    if (e.status === 404) {
      store.remove(id);
      return null;
    }
    throw e;
  }
  store.upsert(task);
  if (task.status === 'running') await refreshPreview(id);
  return every(task.status);
}

function track(task) {
  const key = `task:${task.task_id}`;
  if (store.isLive(task)) {
    if (!isPolling(key)) poll(key, () => tick(task.task_id), every(task.status));
  } else {
    stop(key);
  }
}

function sameBytes(a, b) {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The live preview, swapped only when its bytes changed. */
async function refreshPreview(id) {
  let bytes;
  try {
    bytes = await api.preview(id);
  } catch (e) {
    if (e.status === 0) throw e;
    return; // a preview that fails is not worth a message
  }
  if (!bytes) return;
  const before = previews.get(id);
  if (before && sameBytes(before.bytes, bytes)) return;
  const url = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
  previews.set(id, { bytes, url });
  const task = store.get(id);
  if (task && cards.has(id)) render(task);
  if (before) setTimeout(() => URL.revokeObjectURL(before.url), 5000);
}

// ---- the event stream (stream.js): applied as it comes; polling is the fallback ----------

function applyEvent(kind, data) {
  const id = data.task_id;
  const task = id && store.get(id);
  if (kind === 'final' && data.params) {
    store.upsert(data); // the whole task object
  } else if (!task) {
    if (kind === 'submitted' || kind === 'started') poll(`task:${id}`, () => tick(id), 0); // from elsewhere
  } else if (kind === 'progress') {
    const { fraction, step, steps, job_no, job_count, eta_seconds } = data;
    store.upsert({ ...task, status: 'running', position: null, ahead: null, eta_seconds,
      progress: { fraction, step, steps, job_no, job_count, eta_seconds } });
  } else if (kind === 'position') {
    store.upsert({ ...task, position: data.position, ahead: data.ahead });
  } else if (kind === 'preview') {
    refreshPreview(id).catch(() => {});
  } else if (kind !== 'submitted') {
    nudge(`task:${id}`); // started (its full record), or ended and deleted since: ask
  }
}

onStreamEvent(applyEvent);
onStreamChange((open) => {
  if (open) return;
  for (const task of store.all()) if (store.isLive(task)) nudge(`task:${task.task_id}`); // polling takes over now
});

function dropPreview(id) {
  const p = previews.get(id);
  if (p) {
    previews.delete(id);
    setTimeout(() => URL.revokeObjectURL(p.url), 5000);
  }
}

async function refreshLive() {
  const [{ data }, health] = await Promise.all([
    api.tasks({ status: 'queued,running', limit: 100 }, { background: true }),
    api.health({ background: true }),
  ]);
  const seen = new Set(data.map((t) => t.task_id));
  for (const task of data) store.upsert(task);
  // live here, gone from the server's live list: it just ended; its own poll fetches it now
  for (const task of store.all()) {
    if (store.isLive(task) && !seen.has(task.task_id)) nudge(`task:${task.task_id}`);
  }
  setPaused(Boolean(health.paused), health.paused_reason);
  // while tasks wait, a pause or resume matters: look more often
  return store.all().some((t) => t.status === 'queued') ? QUEUED_EVERY : LIST_EVERY;
}

/** `reason`: why the queue paused itself (failures in a row), from /health. */
function setPaused(value, reason = null) {
  setText($('paused-reason'), value && reason ? `Reason: ${reason}` : '');
  if (paused === value) return;
  paused = value;
  $('paused-notice').hidden = !paused;
  for (const task of store.all()) if (task.status === 'queued') render(task);
}

// ---- loading ---------------------------------------------------------------------------------

/** The first page of the caller's tasks (on start, and after the server was away). */
export async function loadTasks() {
  const errorBox = $('tasks-error');
  try {
    const { data, count } = await api.tasks({ limit: Math.max(PAGE, store.size()) });
    const seen = new Set(data.map((t) => t.task_id));
    const oldest = data.length ? data[data.length - 1].created_at : null;
    // deleted elsewhere meanwhile: anything newer than the page's oldest but not in it
    for (const task of store.all()) {
      if (!seen.has(task.task_id) && oldest && task.created_at >= oldest) store.remove(task.task_id);
    }
    for (const task of data) store.upsert(task);
    store.setTotal(count);
    errorBox.textContent = '';
  } catch (e) {
    if (e.status !== 0) errorBox.textContent = `Could not load your tasks: ${e.message}`;
  }
  poll('tasks:live', refreshLive, 0);
  startStream();
}

export async function loadMore() {
  const button = $('tasks-more');
  button.disabled = true;
  try {
    const { data, count } = await api.tasks({ limit: PAGE, offset: store.size() });
    for (const task of data) store.upsert(task);
    store.setTotal(count);
  } catch (e) {
    $('tasks-error').textContent = `Could not load older tasks: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

/** Just accepted by the server: show it at once, then poll it. */
export async function addSubmitted(accepted) {
  try {
    store.upsert(await api.task(accepted.task_id));
  } catch {
    poll(`task:${accepted.task_id}`, () => tick(accepted.task_id), 0);
  }
}

// ---- actions ---------------------------------------------------------------------------------

async function stopTask(id) {
  const card = cards.get(id);
  const task = store.get(id);
  card.action.disabled = true;
  setText(card.msg, task?.status === 'queued' ? 'Cancelling…' : 'Stopping…');
  card.msg.className = 'msg';
  try {
    const answer = await api.interrupt(id);
    if (answer.status === 'running') stopping.add(id);
    store.upsert(answer);
    const said = { cancelled: 'Cancelled.', running: 'Stopping after the current step…', interrupted: 'Stopped.' };
    setText(card.msg, said[answer.status] || `It ended first: ${STATUS_LABEL[answer.status]?.toLowerCase()}.`);
    nudge(`task:${id}`);
  } catch (e) {
    card.action.disabled = false;
    showCardError(card, e);
    if (e.status === 404) gone(id, e);
    else nudge(`task:${id}`);
    if (e.status === 409) api.task(id).then(store.upsert).catch(() => {});
  }
}

async function removeTask(id) {
  const card = cards.get(id);
  const button = card.action;
  if (!button.dataset.armed) {
    // two steps: a finished task's images go with it
    button.dataset.armed = '1';
    const n = store.get(id)?.images.length || 0;
    const ask = n ? `Delete with ${n} image${n > 1 ? 's' : ''}?` : 'Really remove?';
    setText(button, ask);
    button.setAttribute('aria-label', `${ask} Press again to confirm.`);
    setTimeout(() => {
      if (cards.get(id) === card && button.dataset.armed) disarm(button);
    }, 5000);
    return;
  }
  button.disabled = true;
  try {
    await api.remove(id);
    store.remove(id);
  } catch (e) {
    button.disabled = false;
    disarm(button);
    showCardError(card, e);
    if (e.status === 404) gone(id, e);
  }
}

function disarm(button) {
  delete button.dataset.armed;
  setText(button, 'Remove');
  button.setAttribute('aria-label', 'Remove this task');
}

/** 404: the card goes, so the message goes above the list. */
function gone(id, e) {
  const prompt = store.get(id)?.params?.prompt;
  setText($('tasks-error'), `${prompt ? `"${prompt.slice(0, 40)}": ` : ''}${e.message} It was taken off the list.`);
  store.remove(id);
}

function showCardError(card, e) {
  card.msg.className = 'msg error';
  setText(card.msg, e.message);
}

// ---- rendering ---------------------------------------------------------------------------------

function render(task) {
  const id = task.task_id;
  let card = cards.get(id);
  if (!card) {
    card = makeCard(id, {
      onOpen: () => openImage(id, 0),
      onAction: () => {
        const t = store.get(id);
        if (t && store.isLive(t)) stopTask(id);
        else removeTask(id);
      },
    });
    cards.set(id, card);
    insertSorted(card.li, task);
  }
  fillCard(card, task, { paused, previewUrl: previews.get(id)?.url, stopping: stopping.has(id) });
  if (!store.isLive(task) && stopping.delete(id)) {
    card.msg.className = 'msg';
    setText(card.msg, task.status === 'interrupted' ? 'Stopped.' : `It ended first: ${STATUS_LABEL[task.status].toLowerCase()}.`);
  }
}

function insertSorted(li, task) {
  const list = $('task-list');
  for (const other of list.children) {
    const t = store.get(other.dataset.taskId);
    if (t && t.created_at < task.created_at) {
      list.insertBefore(li, other);
      return;
    }
  }
  list.append(li);
}

function summarize() {
  const counts = {};
  for (const t of store.all()) counts[t.status] = (counts[t.status] || 0) + 1;
  const parts = [];
  if (counts.running) parts.push(`${counts.running} running`);
  if (counts.queued) parts.push(`${counts.queued} queued`);
  const finished = store.size() - (counts.running || 0) - (counts.queued || 0);
  if (finished) parts.push(`${finished} finished`);
  setText($('tasks-summary'), parts.join(' · '));
  $('tasks-empty').hidden = store.size() > 0;
  $('tasks-more').hidden = !store.hasMore();
}

function announce(task, before) {
  if (!before || before.status === task.status) return;
  const prompt = (task.params?.prompt || task.type).slice(0, 40);
  setText($('tasks-announce'), `Task "${prompt}" is ${STATUS_LABEL[task.status].toLowerCase()}.`);
}

export function initTasks({ onOpenImage }) {
  openImage = onOpenImage;
  $('tasks-more').addEventListener('click', loadMore);
  $('task-list').after(h('p', { id: 'tasks-announce', class: 'sr-only', 'aria-live': 'polite' }));
  store.subscribe((event) => {
    if (event.type === 'upsert') {
      // one of ours just started: the queue is not paused (any more)
      if (event.before?.status === 'queued' && event.task.status === 'running') setPaused(false);
      render(event.task);
      track(event.task);
      announce(event.task, event.before);
      if (!store.isLive(event.task)) dropPreview(event.task.task_id);
    } else if (event.type === 'remove') {
      const id = event.task.task_id;
      stop(`task:${id}`);
      dropPreview(id);
      cards.get(id)?.li.remove();
      cards.delete(id);
    }
    summarize();
  });
}
