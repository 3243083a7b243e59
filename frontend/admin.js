// The queue view: every queued and running task in run order with its owner,
// pause/resume, and Stop on any task. Polled only while the view is shown.
// (Non-admins see their own tasks and a count of the others'.)

import { api } from './api.js';
import { h, setText, shortModel, updateBadge, placeText, progressText } from './dom.js';
import { poll, stop, nudge } from './poll.js';

const EVERY = 1500;
const rows = new Map(); // task_id -> {li, parts}
let paused = null;

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
  return EVERY;
}

function render(q) {
  setPausedState(q.paused);
  const list = $('queue-list');
  const seen = new Set();
  q.data.forEach((task, i) => {
    seen.add(task.task_id);
    let row = rows.get(task.task_id);
    if (!row) {
      row = makeRow(task.task_id);
      rows.set(task.task_id, row);
    }
    updateRow(row, task);
    if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.li.remove();
      rows.delete(id);
    }
  }
  const hidden = q.count - q.data.length;
  const queued = q.count - q.running;
  let text = q.count ? `${q.running} running, ${queued} queued` : 'The queue is empty.';
  if (hidden > 0) text += ` (${hidden} of them other people's, not shown)`;
  setText($('queue-summary'), text);
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
  r.button = h('button', { type: 'button', class: 'danger small', onclick: () => stopAny(id, r) }, 'Stop');
  r.msg = h('p', { class: 'msg', role: 'status' });
  r.li = h('li', { class: 'qrow', dataset: { taskId: id } },
    r.pos,
    h('div', { class: 'qbody' },
      h('div', { class: 'task-head' }, r.badge, r.owner, r.meta),
      r.prompt,
      h('div', { class: 'state' }, r.bar, r.state)),
    h('div', { class: 'actions' }, r.button, r.msg));
  return r;
}

function updateRow(r, task) {
  const running = task.status === 'running';
  setText(r.pos, running ? '▶' : String(task.position ?? ''));
  r.pos.setAttribute('aria-label', running ? 'running now' : `position ${task.position}`);
  updateBadge(r.badge, task.status);
  setText(r.owner, task.owner);
  const p = task.params || {};
  setText(r.meta, `${task.type} · ${shortModel(task.checkpoint)}${p.width ? ` · ${p.width}×${p.height}` : ''} · ${p.steps ?? '?'} steps`);
  setText(r.prompt, p.prompt || '(no prompt)');
  r.prompt.title = p.prompt || '';
  r.bar.classList.toggle('idle', !running);
  const fraction = running && task.progress ? task.progress.fraction : 0;
  if (Number(r.bar.value) !== fraction) r.bar.value = fraction;
  r.bar.setAttribute('aria-label', running ? `Progress ${Math.round(fraction * 100)}%` : 'Not started');
  setText(r.state, running ? progressText(task.progress) : placeText(task.position, paused));
  const label = running ? 'Stop' : 'Cancel';
  if (r.button.dataset.label !== label) {
    r.button.dataset.label = label;
    setText(r.button, label);
    r.button.setAttribute('aria-label', `${label} the task of ${task.owner}`);
  }
}

async function stopAny(id, r) {
  r.button.disabled = true;
  r.msg.className = 'msg';
  setText(r.msg, 'Stopping…');
  try {
    const task = await api.interrupt(id);
    setText(r.msg, task.status === 'cancelled' ? 'Cancelled.' : 'Stopping after the current step…');
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
  } catch (e) {
    const text = e.status === 404 ? 'Only an admin can pause or resume the queue.' : e.message;
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

export function initAdmin() {
  $('queue-toggle').addEventListener('click', toggle);
}
