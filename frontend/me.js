// Who is signed in (GET /me): the name and role in the top bar, and the caller's
// limits and usage next to the submit button ("3 of 5 queued · 7 of 20 this hour";
// nothing when unlimited). Reloaded on start, on a new key, after each submit and
// whenever one of the caller's tasks changes state.

import { api } from './api.js';
import { setText } from './dom.js';

let me = null;        // the last answer of /me, or null (not signed in / not loaded)
let loading = null;   // one request at a time; a reload asked for meanwhile runs after it
let again = false;
const listeners = new Set();

const $ = (id) => document.getElementById(id);

/** The signed-in user ({name, role, limits, usage, ...}) or null. */
export function currentUser() {
  return me;
}

export function isAdmin() {
  return me?.role === 'admin';
}

/** fn(me) after every load whose answer changed who is signed in or their role. */
export function onMe(fn) {
  listeners.add(fn);
}

export function loadMe() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = fetchMe().finally(() => {
    loading = null;
    if (again) {
      again = false;
      loadMe();
    }
  });
  return loading;
}

let generation = 0; // bumped when the key changes

async function fetchMe() {
  const asked = generation;
  let found;
  try {
    found = await api.me({ background: true });
  } catch (e) {
    if (e.status === 0) return; // the banner says it; loaded again when the server is back
    if (e.status === 429) { // over the person's reads a second (a script of theirs polling fast): keep what is known
      setTimeout(loadMe, 2000);
      return;
    }
    found = null;
  }
  if (asked !== generation) return; // signed out or in meanwhile: an answer about the old key
  const before = me;
  me = found;
  render();
  if (before?.name !== me?.name || before?.role !== me?.role) {
    for (const fn of listeners) fn(me);
  }
}

/** Forget who was signed in (the key changed); the next loadMe() says who is now. */
export function resetMe() {
  generation += 1;
  const before = me;
  me = null;
  render();
  if (before) for (const fn of listeners) fn(me);
}

function render() {
  const who = $('who');
  setText(who, me ? `${me.name} · ${me.role}` : '');
  who.title = me ? `Signed in as ${me.name} (${me.role})` : '';
  renderUsage();
}

function renderUsage() {
  const usage = $('usage');
  const note = $('limits-note');
  const limits = me?.limits || {};
  const used = me?.usage || { queued: 0, last_hour: 0 };
  const parts = [];
  let full = false;
  if (limits.max_queued) {
    parts.push(`${used.queued} of ${limits.max_queued} queued`);
    full ||= used.queued >= limits.max_queued;
  }
  if (limits.max_per_hour) {
    parts.push(`${used.last_hour} of ${limits.max_per_hour} this hour`);
    full ||= used.last_hour >= limits.max_per_hour;
  }
  setText(usage, parts.join(' · '));
  usage.classList.toggle('full', full);
  const each = [];
  if (limits.max_steps) each.push(`${limits.max_steps} steps`);
  if (limits.max_pixels) each.push(`${limits.max_pixels.toLocaleString('en-US')} pixels`);
  if (limits.max_images) each.push(`${limits.max_images} image${limits.max_images > 1 ? 's' : ''}`);
  setText(note, each.length ? `Each task: up to ${each.join(', ')}.` : '');
}
