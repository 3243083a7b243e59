// Polling only what is live. Each job is a function returning the delay (ms) before its
// next run, or null when there is nothing more to watch (a final task). Delays stretch
// while the tab is hidden; jobs park while the server is unreachable and all run at
// once when it answers again or the tab comes back.

import { isReachable, onConnectionChange } from './connection.js';

const HIDDEN_FACTOR = 10;
const HIDDEN_MIN = 10000;
const HIDDEN_MAX = 60000;
const ERROR_MAX = 30000;

const jobs = new Map(); // key -> {fn, timer, delay, running, failures}

function stretch(delay) {
  if (!document.hidden) return delay;
  return Math.min(Math.max(delay * HIDDEN_FACTOR, HIDDEN_MIN), HIDDEN_MAX);
}

function arm(key, job, delay) {
  clearTimeout(job.timer);
  job.delay = delay;
  job.timer = setTimeout(() => run(key, job), stretch(delay));
}

async function run(key, job) {
  if (jobs.get(key) !== job || job.running) return;
  if (!isReachable()) {
    job.parked = true;
    return;
  }
  job.running = true;
  let next;
  try {
    next = await job.fn();
    job.failures = 0;
  } catch (e) {
    if (e?.status === 0) {
      // connection.js now probes; this job runs again when the server is back
      job.running = false;
      job.parked = true;
      return;
    }
    job.failures = (job.failures || 0) + 1;
    // over the person's reads a second: the server held the answer until a read is
    // allowed again, so the usual pace is right; other errors back off
    next = e?.status === 429 ? job.delay : Math.min(job.delay * 2 ** job.failures, ERROR_MAX);
    console.warn(`poll ${key}:`, e);
  }
  job.running = false;
  if (jobs.get(key) !== job) return; // stopped or replaced meanwhile
  if (next === null || next === undefined) jobs.delete(key);
  else arm(key, job, next);
}

/** Start (or restart) a job: first run after `delay` ms. */
export function poll(key, fn, delay = 0) {
  stop(key);
  const job = { fn, timer: null, delay: delay || 1000, running: false, failures: 0 };
  jobs.set(key, job);
  clearTimeout(job.timer);
  job.timer = setTimeout(() => run(key, job), delay);
}

export function isPolling(key) {
  return jobs.has(key);
}

export function stop(key) {
  const job = jobs.get(key);
  if (job) {
    clearTimeout(job.timer);
    jobs.delete(key);
  }
}

/** Run a job now instead of waiting for its timer. */
export function nudge(key) {
  const job = jobs.get(key);
  if (job && !job.running) {
    clearTimeout(job.timer);
    run(key, job);
  }
}

function wakeAll() {
  for (const key of [...jobs.keys()]) nudge(key);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) wakeAll();
});
onConnectionChange((up) => {
  if (up) wakeAll();
});
