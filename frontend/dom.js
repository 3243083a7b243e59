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

/** "N ahead of you · position P" while queued. */
export function placeText(position, paused) {
  if (!position) return paused ? 'Waiting: the queue is paused' : 'Waiting for its turn';
  const ahead = position - 1;
  const head = ahead === 0 ? 'Next in line' : `${ahead} ahead of you`;
  return `${head} · position ${position}${paused ? ' · queue paused' : ''}`;
}

/** "Step 5/20 · Batch 1/2 · ETA 3 s" while running. */
export function progressText(p) {
  if (!p) return 'Starting…';
  const parts = [p.step ? `Step ${p.step}/${p.steps}` : 'Loading the model…'];
  if (p.job_count > 1) parts.push(`Batch ${p.job_no + 1}/${p.job_count}`);
  parts.push(`ETA ${p.eta_seconds == null ? '—' : duration(p.eta_seconds)}`);
  return parts.join(' · ');
}
