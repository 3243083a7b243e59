// The caller's tasks as last seen from the server, shared by the task list and the
// gallery. Whoever fetches a task upserts it here; views subscribe to changes.

export const LIVE = new Set(['queued', 'running']);

const tasks = new Map(); // task_id -> task
const listeners = new Set();
let total = null;        // `count` of the last /tasks page: how many the server has

export function isLive(task) {
  return LIVE.has(task.status);
}

export function subscribe(fn) {
  listeners.add(fn);
}

function emit(event) {
  for (const fn of listeners) fn(event);
}

/** A task's view, newer than what is kept; a live view of a task already seen final
 * is an old answer that arrived late (a poll sent while it ran) and is dropped. */
export function upsert(task) {
  const before = tasks.get(task.task_id) || null;
  if (before && !isLive(before) && isLive(task)) return;
  tasks.set(task.task_id, task);
  if (!before && total !== null) total += 1; // new on the server too (a page load resets it)
  emit({ type: 'upsert', task, before });
}

export function remove(taskId) {
  const task = tasks.get(taskId);
  if (!task) return;
  tasks.delete(taskId);
  if (total !== null) total = Math.max(0, total - 1);
  emit({ type: 'remove', task });
}

export function get(taskId) {
  return tasks.get(taskId) || null;
}

/** Newest first, as the server lists them. */
export function all() {
  return [...tasks.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

export function size() {
  return tasks.size;
}

export function setTotal(count) {
  total = count;
  emit({ type: 'total' });
}

/** More tasks on the server than loaded here? */
export function hasMore() {
  return total !== null && total > tasks.size;
}

/** Forget everything (another key: another user's tasks). */
export function clear() {
  for (const id of [...tasks.keys()]) remove(id);
  total = null;
}
