// Small DOM and formatting helpers.

/** h('p', {class: 'x', onclick: fn}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Set text only when it changed (keeps screen readers and layout calm). */
export function setText(el, text) {
  text = text ?? '';
  if (el.textContent !== text) el.textContent = text;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return '<1 s';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

export function secondsBetween(a, b) {
  if (!a || !b) return null;
  return (new Date(b) - new Date(a)) / 1000;
}

/** "modelA.safetensors [abc123]" -> "modelA" */
export function shortModel(title) {
  if (!title) return '';
  const name = title.replace(/\s*\[[0-9a-f]+\]\s*$/i, '');
  return name.split(/[\\/]/).pop().replace(/\.(safetensors|ckpt|pt|bin)$/i, '');
}

export const STATUS_LABEL = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  interrupted: 'Interrupted',
  cancelled: 'Cancelled',
};

export function updateBadge(el, status) {
  el.className = `badge status-${status}`;
  setText(el, STATUS_LABEL[status] || status);
}

/** "Next in line", "2 ahead of you" (`own`) or "2 ahead"; null when the server gave no place. */
export function aheadText(ahead, own = true) {
  if (ahead === null || ahead === undefined) return null;
  if (ahead === 0) return 'Next in line';
  return `${ahead} ahead${own ? ' of you' : ''}`;
}

/**
 * An ETA in seconds, rounded so that the text does not change on every poll: under a
 * minute in 10 s steps, else whole minutes. `shown`: the value returned last time for
 * the same place; it is kept while the new one is within most of a step of it, so that
 * an ETA hovering on a boundary does not flip between two texts. null: unknown.
 */
export function steadyEta(seconds, shown = null) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  const wasSeconds = shown !== null && shown < 60;
  const inSeconds = seconds < (wasSeconds ? 60 : 50);
  const step = inSeconds ? 10 : 60;
  if (shown !== null && wasSeconds === inSeconds && Math.abs(seconds - shown) < step * 0.75) return shown;
  return Math.max(step, Math.round(seconds / step) * step);
}

/** A value of steadyEta() as words: "40 s", "3 min", "1 h 05 min". */
export function etaWords(rounded) {
  if (rounded < 60) return `${rounded} s`;
  const m = Math.round(rounded / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "Step 5/20 · Batch 1/2 · ETA 3 s" while running. */
export function progressText(p) {
  if (!p) return 'Starting…';
  const parts = [p.step ? `Step ${p.step}/${p.steps}` : 'Loading the model…'];
  if (p.job_count > 1) parts.push(`Batch ${p.job_no + 1}/${p.job_count}`);
  parts.push(`ETA ${p.eta_seconds == null ? '—' : duration(p.eta_seconds)}`);
  return parts.join(' · ');
}

/** Keep `values` under `key` for the next visit (nothing when storage is full or off). */
export function remember(key, values) {
  try {
    localStorage.setItem(key, JSON.stringify(values));
  } catch {
    // storage full or disabled: nothing to remember
  }
}

/** What `remember` kept under `key`, or {}. */
export function recall(key) {
  try {
    return JSON.parse(localStorage.getItem(key)) || {};
  } catch {
    return {};
  }
}
