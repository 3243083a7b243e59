// The boxes (webui processes) that run the queue's tasks: GET /boxes. A task card names
// the box that runs or ran its task once there are several (taskcard.js asks
// `boxLabel`), and the queue view lists every box with its loaded model and what it
// runs: for an admin the task and its owner, for a user "your task" or "busy".
// Looked at every minute (a box joining or leaving), and every few seconds while the
// queue view is shown.

import { api } from './api.js';
import { h, setText, shortModel } from './dom.js';
import { isAdmin } from './me.js';
import { poll } from './poll.js';
import * as store from './store.js';

const SHOWN_EVERY = 3000;
const HIDDEN_EVERY = 60000;
let boxes = []; // as GET /boxes last answered
let shown = false;
const listeners = new Set();

const $ = (id) => document.getElementById(id);

/** The name to show on a task's card, or null while one box runs the queue. */
export function boxLabel(task) {
  return boxes.length > 1 && task.box ? task.box : null;
}

/** `fn()` after the list of boxes changed (a card may now name its box). */
export function onBoxes(fn) {
  listeners.add(fn);
}

async function refresh() {
  let found;
  try {
    found = await api.boxes({ background: true });
  } catch (e) {
    if (e.status === 404) return null; // a server without the route: one box
    throw e;
  }
  const several = boxes.length > 1;
  boxes = found.data;
  if (several !== boxes.length > 1) for (const fn of listeners) fn();
  render();
  return shown ? SHOWN_EVERY : HIDDEN_EVERY;
}

function render() {
  const panel = $('boxes-panel');
  // one box: nothing to tell apart, unless an admin wants to see its model and task
  panel.hidden = !(boxes.length > 1 || isAdmin());
  setText($('boxes-summary'), `${boxes.length} box${boxes.length === 1 ? '' : 'es'}`
    + ` · ${boxes.filter((b) => b.busy).length} busy`);
  $('box-list').replaceChildren(...boxes.map(row));
}

function row(box) {
  const name = h('strong', { class: 'box-name' }, box.name);
  const here = box.this ? h('span', { class: 'muted small' }, ' (this server)') : null;
  return h('li', { class: 'box', dataset: { box: box.name } },
    h('div', { class: 'task-head' }, h('span', { class: `badge ${box.busy ? 'status-running' : 'status-done'}` },
      box.busy ? 'Busy' : 'Idle'), name, here),
    h('p', { class: 'meta box-model' }, box.checkpoint ? `Loaded: ${shortModel(box.checkpoint)}` : 'No model loaded'),
    h('p', { class: 'state-text box-task' }, runs(box)));
}

/** What the box runs, as far as the caller may see. */
function runs(box) {
  if (!box.busy) return 'Waiting for a task';
  const own = box.running ? store.get(box.running) : null;
  const prompt = own?.params?.prompt ? `: “${own.params.prompt.slice(0, 60)}”` : '';
  if (isAdmin()) return `Running ${box.owner === null ? 'a task' : `${box.owner}'s task`} ${box.running.slice(0, 8)}${prompt}`;
  return box.mine ? `Running your task${prompt}` : 'Running someone else\'s task';
}

export function showBoxes(visible) {
  shown = visible;
  poll('boxes', refresh, 0);
}

/** Another user signed in: what they may see differs. */
export function resetBoxes() {
  boxes = [];
  $('box-list').replaceChildren();
  poll('boxes', refresh, 0);
}
