// Is the server answering? Any request that cannot reach it calls failed(); then one
// cheap health probe runs with a growing delay until the server answers again, and
// everything parked while it was away is woken up (see poll.js).

import { authHeader } from './auth.js';

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;

let reachable = true;
let delay = FIRST_DELAY;
let timer = null;
const listeners = new Set();

export function isReachable() {
  return reachable;
}

/** fn(reachable) is called on every change. */
export function onConnectionChange(fn) {
  listeners.add(fn);
}

export function failed() {
  if (!reachable) return;
  reachable = false;
  delay = FIRST_DELAY;
  show();
  scheduleProbe();
  for (const fn of listeners) fn(false);
}

export function succeeded() {
  if (reachable) return;
  reachable = true;
  clearTimeout(timer);
  document.getElementById('banner').hidden = true;
  for (const fn of listeners) fn(true);
}

function show() {
  document.getElementById('banner').hidden = false;
  const seconds = Math.round(delay / 1000);
  document.getElementById('banner-text').textContent =
    `The server is not answering. Trying again in ${seconds} s; your tasks keep running on the server.`;
}

function scheduleProbe() {
  clearTimeout(timer);
  timer = setTimeout(probe, delay);
}

async function probe() {
  clearTimeout(timer);
  try {
    const headers = {};
    const auth = authHeader();
    if (auth) headers.Authorization = auth;
    const res = await fetch('v1/health', { headers, cache: 'no-store' });
    if (res.status < 500) {
      succeeded();
      return;
    }
  } catch {
    // still away
  }
  delay = Math.min(delay * 2, MAX_DELAY);
  show();
  scheduleProbe();
}

export function initConnection() {
  document.getElementById('banner-retry').addEventListener('click', probe);
}
