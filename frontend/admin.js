// The queue view: every queued and running task in the server's run order, each with
// its ETA, and the whole queue's ETA on top. The caller's own tasks in full with Stop /
// Cancel and "Move to front / back"; other people's as anonymous entries ("someone
// else's task · modelA · 512×512") without prompt, owner or button. Admins see every
// task in full with its owner, can stop and move any, and pause / resume the queue (user
// management is in users.js). Polled only while the view is shown.

import { api } from './api.js';
import { boxLabel } from './boxes.js';
import { h, setText, shortModel, updateBadge, aheadText, steadyEta, etaWords, progressText } from './dom.js';
import { currentUser, isAdmin } from './me.js';
import { poll, stop, nudge } from './poll.js';
import * as store from './store.js';

const EVERY = 1500;
const rows = new Map(); // task_id (or "anon:<n>") -> {li, parts}
const details = new Map(); // task_id -> params, or null while asked for (they never change)
const ASKING_AT_ONCE = 4;
let paused = null;
let totalEta = null; // the whole queue's ETA as last shown (steadyEta)

const $ = (id) => document.getElementById(id);

async function refresh() {
  let q;
  try {
    q = await api.queue({ background: true });
  } catch (e) {
    if (e.status !== 0) setText($('queue-error'), `Could not load the queue: ${e.message}`);
    throw e;
  }
  setText($('queue-error'), '');
  render(q);
  if (q.paused) showReason((await api.health({ background: true })).paused_reason);
  else showReason(null);
  return EVERY;
}

/** Why the queue paused itself (failures in a row); nothing for an admin's pause. */
function showReason(reason) {
  const box = $('queue-paused-reason');
  box.hidden = !reason;
  setText(box, reason ? `Reason: ${reason}` : '');
}

function render(q) {
  setPausedState(q.paused);
  const list = $('queue-list');
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const seen = new Set();
  let anon = 0;
  q.data.forEach((task, i) => {
    const key = task.task_id || `anon:${anon++}`;
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = makeRow(task.task_id);
      rows.set(key, row);
    }
    updateRow(row, task);
    if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
  });
  for (const [key, row] of rows) {
    if (!seen.has(key)) {
      row.li.remove();
      rows.delete(key);
    }
  }
  for (const id of details.keys()) if (!seen.has(id)) details.delete(id);
  // a row moved in the list loses the focus: give it back (a keyboard user moving a task)
  if (focused && focused.isConnected && document.activeElement !== focused) focused.focus();
  setText($('queue-summary'), summary(q));
}

/** "1 running · 3 queued · all done in about 6 min (2 yours)" */
function summary(q) {
  if (!q.count) {
    totalEta = null;
    return 'The queue is empty.';
  }
  const parts = [];
  if (q.running) parts.push(`${q.running} running`);
  parts.push(`${q.count - q.running} queued`);
  totalEta = steadyEta(q.eta_seconds, totalEta);
  if (totalEta !== null) parts.push(`all done in about ${etaWords(totalEta)}`);
  let text = parts.join(' · ');
  if (!isAdmin() && currentUser()) text += ` (${q.data.filter((t) => t.mine).length} yours)`;
  return text;
}

function makeRow(id) {
  const r = {};
  r.pos = h('span', { class: 'pos' });
  r.badge = h('span', { class: 'badge' });
  r.owner = h('span', { class: 'owner' });
  r.meta = h('span', { class: 'meta' });
  r.prompt = h('p', { class: 'prompt' });
  r.bar = h('progress', { max: '1', value: '0' });
  r.state = h('p', { class: 'state-text' });
  r.msg = h('p', { class: 'msg', role: 'status' });
  r.actions = h('div', { class: 'actions' });
  if (id) {
    r.button = h('button', { type: 'button', class: 'danger small', onclick: () => stopAny(id, r) }, 'Stop');
    r.front = h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Move to front', title: 'Move to front',
      onclick: () => move(id, r, 'front') }, '⤒ Front');
    r.back = h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Move to back', title: 'Move to back',
      onclick: () => move(id, r, 'back') }, '⤓ Back');
    r.moves = h('div', { class: 'moves' }, r.front, r.back);
    r.actions.append(r.moves, r.button, r.msg);
  }
  r.li = h('li', { class: id ? 'qrow' : 'qrow anon', dataset: id ? { taskId: id } : {} },
    r.pos,
    h('div', { class: 'qbody' },
      h('div', { class: 'task-head' }, r.badge, r.owner, r.meta),
      r.prompt,
      h('div', { class: 'state' }, r.bar, r.state)),
    id ? r.actions : null);
  return r;
}

/** The queue's entries carry no parameters: mine are in the store; others' (admins
 * only) are asked for once each, a few at a time, and filled in when they come. */
function paramsOf(task) {
  if (task.params && Object.keys(task.params).length) return task.params;
  const own = store.get(task.task_id);
  if (own?.params) return own.params;
  if (details.get(task.task_id)) return details.get(task.task_id);
  const asking = [...details.values()].filter((v) => v === null).length;
  if (!details.has(task.task_id) && asking < ASKING_AT_ONCE) {
    const id = task.task_id;
    details.set(id, null);
    api.task(id, { background: true }).then((full) => {
      if (!details.has(id)) return;
      details.set(id, full.params || {});
      const row = rows.get(id);
      if (row?.task) updateRow(row, row.task);
    }).catch(() => details.delete(id));
  }
  return null;
}

function size(task) {
  const s = task.size || (task.params?.width ? `${task.params.width}x${task.params.height}` : '');
  return s ? ` · ${s.replace('x', '×')}` : '';
}

function updateRow(r, task) {
  r.task = task;
  const running = task.status === 'running';
  setText(r.pos, running ? '▶' : String(task.position ?? ''));
  r.pos.setAttribute('aria-label', running ? 'running now' : `position ${task.position}`);
  updateBadge(r.badge, task.status);
  const box = running && boxLabel(task) ? ` · on ${task.box}` : '';
  const model = shortModel(task.checkpoint) + box;
  if (!task.task_id) {
    // someone else's: what, where and how big; never whose or what it shows
    setText(r.meta, `someone else's task · ${model}${size(task)}`);
    r.prompt.hidden = true;
  } else {
    setText(r.owner, task.owner);
    const p = paramsOf(task);
    setText(r.meta, `${task.type} · ${model}${size(task)}${p?.steps ? ` · ${p.steps} steps` : ''}`);
    setText(r.prompt, p ? p.prompt || '(no prompt)' : '…');
    r.prompt.title = p?.prompt || '';
  }
  r.bar.classList.toggle('idle', !running);
  const fraction = running && task.progress ? task.progress.fraction : 0;
  if (Number(r.bar.value) !== fraction) r.bar.value = fraction;
  r.bar.setAttribute('aria-label', running ? `Progress ${Math.round(fraction * 100)}%` : 'Not started');
  // "N ahead of you" is said of one's own tasks only
  setText(r.state, running ? progressText(task.progress) : queuedText(r, task));
  if (!r.button) return;
  // one's own queued tasks move among one's own; an admin moves anyone's
  r.moves.hidden = running || !(task.mine || isAdmin());
  const label = running ? 'Stop' : 'Cancel';
  if (r.button.dataset.label !== label) {
    r.button.dataset.label = label;
    setText(r.button, label);
    r.button.setAttribute('aria-label', `${label} the task of ${task.owner}`);
  }
}

/** "2 ahead · done in about 3 min" */
function queuedText(r, task) {
  const place = aheadText(task.ahead, task.mine) ?? (paused ? 'Waiting: the queue is paused' : 'Waiting for its turn');
  r.eta = steadyEta(task.eta_seconds, r.eta ?? null);
  return r.eta === null ? place : `${place} · done in about ${etaWords(r.eta)}`;
}

async function move(id, r, to) {
  // not disabled meanwhile: a disabled button loses the keyboard focus
  if (r.moving) return;
  r.moving = true;
  r.msg.className = 'msg';
  setText(r.msg, '');
  try {
    await api.move(id, { to });
    setText(r.msg, to === 'front' ? 'Moved to the front.' : 'Moved to the back.');
    setTimeout(() => {
      if (r.msg.textContent.startsWith('Moved')) setText(r.msg, '');
    }, 4000);
  } catch (e) {
    r.msg.className = 'msg error';
    setText(r.msg, e.status === 409 ? 'It is not queued any more.' : e.message);
  } finally {
    r.moving = false;
  }
  nudge('admin:queue');
  nudge('tasks:live'); // the cards in "My tasks" say the new places too
}

async function stopAny(id, r) {
  r.button.disabled = true;
  r.msg.className = 'msg';
  setText(r.msg, 'Stopping…');
  try {
    const task = await api.interrupt(id);
    const said = { cancelled: 'Cancelled.', interrupted: 'Stopped.' };
    setText(r.msg, said[task.status] || 'Stopping after the current step…');
  } catch (e) {
    r.button.disabled = false;
    r.msg.className = 'msg error';
    setText(r.msg, e.message);
  }
  nudge('admin:queue');
}

function setPausedState(value) {
  paused = value;
  const state = $('queue-state');
  state.className = `badge ${value ? 'status-interrupted' : 'status-running'}`;
  setText(state, value ? 'Paused' : 'Running');
  const toggle = $('queue-toggle');
  setText(toggle, value ? 'Resume queue' : 'Pause queue');
  toggle.setAttribute('aria-pressed', String(Boolean(value)));
}

async function toggle() {
  const button = $('queue-toggle');
  button.disabled = true;
  setText($('queue-error'), '');
  try {
    const answer = paused ? await api.resume() : await api.pause();
    setPausedState(answer.paused);
    if (!answer.paused) showReason(null);
  } catch (e) {
    const text = e.status === 403 ? 'Only an admin can pause or resume the queue.' : e.message;
    setText($('queue-error'), text);
  } finally {
    button.disabled = false;
  }
  nudge('admin:queue');
}

export function showQueue(visible) {
  if (visible) poll('admin:queue', refresh, 0);
  else stop('admin:queue');
}

/** Another user signed in (or the role changed): rebuild the list for them. */
export function resetQueue() {
  for (const row of rows.values()) row.li.remove();
  rows.clear();
  $('queue-toggle').hidden = !isAdmin();
  setText($('queue-summary'), '');
  nudge('admin:queue');
}

export function initAdmin() {
  $('queue-toggle').addEventListener('click', toggle);
}
