// One task as a card: built once, then filled in place on every update, so that the
// fixed-size thumbnail and progress boxes never move and focus stays where it is.

import { imageSrc, showImage } from './api.js';
import { boxLabel } from './boxes.js';
import { h, setText, clock, duration, secondsBetween, shortModel, updateBadge, aheadText, steadyEta, etaWords, progressText } from './dom.js';

/** The card's elements. onOpen(): its images; onAction(): Stop / Cancel / Remove. */
export function makeCard(taskId, { onOpen, onAction }) {
  const c = {};
  c.img = h('img', { alt: '', decoding: 'async' });
  c.placeholder = h('span', { class: 'thumb-text' });
  c.count = h('span', { class: 'thumb-count', hidden: true });
  // the img2img input as a small inset (a background, so that `.thumb img` stays the one image)
  c.input = h('span', { class: 'thumb-input', role: 'img', 'aria-label': 'Input image', hidden: true });
  c.thumb = h('button', { type: 'button', class: 'thumb', onclick: onOpen }, c.img, c.placeholder, c.input, c.count);
  c.badge = h('span', { class: 'badge' });
  c.meta = h('span', { class: 'meta' });
  c.prompt = h('p', { class: 'prompt' });
  c.bar = h('progress', { max: '1', value: '0' });
  c.state = h('p', { class: 'state-text' });
  c.action = h('button', { type: 'button', class: 'secondary small', onclick: onAction });
  c.msg = h('p', { class: 'msg', role: 'status' });
  c.li = h('li', { class: 'task', dataset: { taskId } },
    c.thumb,
    h('div', { class: 'task-body' },
      h('div', { class: 'task-head' }, c.badge, c.meta),
      c.prompt,
      h('div', { class: 'state' }, c.bar, c.state),
      h('div', { class: 'actions' }, c.action, c.msg)));
  return c;
}

/** "2 ahead of you · about 3 min" (the server's `ahead` and `eta_seconds`; the ETA
 * rounded and held steady on the card between polls). */
function queuedText(c, task, paused) {
  const place = aheadText(task.ahead);
  if (place === null) return paused ? 'Waiting: the queue is paused' : 'Waiting for its turn';
  c.eta = steadyEta(task.eta_seconds, c.eta ?? null);
  const parts = [place];
  if (c.eta !== null) parts.push(`about ${etaWords(c.eta)}`);
  if (paused) parts.push('queue paused');
  return parts.join(' · ');
}

function stateText(c, task, paused) {
  const n = task.images.length;
  const grids = (task.grids || []).length;
  const images = `${n} image${n === 1 ? '' : 's'}${grids ? ` and ${grids > 1 ? `${grids} grids` : 'a grid'}` : ''}`;
  switch (task.status) {
    case 'queued':
      return queuedText(c, task, paused);
    case 'running':
      return progressText(task.progress);
    case 'done': {
      const took = secondsBetween(task.started_at, task.finished_at);
      return `${images}${took === null ? '' : ` in ${duration(took)}`}`;
    }
    case 'failed':
      return task.error || 'Failed without a message.';
    case 'interrupted':
      return n ? `Stopped early: ${n} partial image${n > 1 ? 's' : ''}` : 'Stopped before any image was finished';
    case 'cancelled':
      return 'Cancelled before it started';
    default:
      return '';
  }
}

/** Running: the live preview (a blob URL, or none yet). Otherwise the first image's
 * thumbnail (small JPEG; the viewer opens the full PNG). An img2img task without an
 * output to show shows its input image instead, and a small inset of it otherwise. */
function fillThumb(c, task, previewUrl) {
  const running = task.status === 'running';
  const n = task.images.length;
  const grids = (task.grids || []).length;
  const input = (task.inputs || [])[0] || null;
  let shown = true;
  let alt = 'First image';
  if (!running && grids) {
    showImage(c.img, task.grids[0]); // a script's grid (X/Y/Z plot, prompt matrix) sums the task up
    alt = 'Grid';
  } else if (!running && n) {
    showImage(c.img, (task.thumbnails || [])[0] || task.images[0]);
  } else if (running && previewUrl) {
    if (c.img.getAttribute('src') !== previewUrl) c.img.src = previewUrl;
    alt = 'Live preview';
  } else if (input) {
    showImage(c.img, input);
    alt = 'Input image';
  } else {
    c.img.removeAttribute('src');
    shown = false;
    alt = '';
  }
  const label = running ? 'No preview yet'
    : { queued: 'Waiting', failed: 'Failed', cancelled: 'Cancelled', interrupted: 'No image' }[task.status] || '';
  c.img.hidden = !shown;
  c.img.alt = alt;
  c.img.classList.toggle('is-input', alt === 'Input image');
  const inset = Boolean(input) && alt !== 'Input image';
  c.input.hidden = !inset;
  if (inset && c.input.dataset.server !== input) {
    c.input.dataset.server = input;
    c.input.style.backgroundImage = `url("${imageSrc(input)}")`;
  }
  setText(c.placeholder, shown ? (alt === 'Input image' ? `${label} · input` : '') : label);
  const clickable = !running && n + grids > 0;
  c.thumb.disabled = !clickable;
  c.thumb.tabIndex = clickable ? 0 : -1;
  const what = [grids ? `the grid${grids > 1 ? 's' : ''}` : '', n ? `${n > 1 ? `${n} images` : 'image'}` : '']
    .filter(Boolean).join(' and the ');
  c.thumb.setAttribute('aria-label', clickable ? `Open ${grids ? what : `the ${what}`}` : alt || label);
  c.count.hidden = running || (n < 2 && !grids);
  setText(c.count, grids ? `grid + ${n}` : `×${n}`);
}

/** The action button: Cancel (queued), Stop (running), Remove (final). `stopping`:
 * the user asked to stop and the server has not confirmed yet (stays disabled). */
function fillAction(c, task, stopping) {
  const live = task.status === 'queued' || task.status === 'running';
  const mode = live ? task.status : 'final';
  if (c.action.dataset.mode === mode) return;
  c.action.dataset.mode = mode;
  delete c.action.dataset.armed;
  c.action.disabled = live && stopping;
  const word = { queued: 'Cancel', running: 'Stop', final: 'Remove' }[mode];
  setText(c.action, word);
  c.action.setAttribute('aria-label', `${word} this task`);
  c.action.className = live ? 'danger small' : 'secondary small';
}

export function fillCard(c, task, { paused = false, previewUrl = null, stopping = false } = {}) {
  c.li.className = `task is-${task.status}`;
  updateBadge(c.badge, task.status);
  const p = task.params || {};
  const wxh = task.size || (p.width && p.height ? `${p.width}x${p.height}` : '');
  const size = wxh ? ` · ${wxh.replace('x', '×')}` : '';
  const box = boxLabel(task);
  setText(c.meta, `${task.type} · ${shortModel(task.checkpoint)}${size} · ${clock(task.created_at)}${box ? ` · on ${box}` : ''}`);
  setText(c.prompt, p.prompt || '(no prompt)');
  c.prompt.title = p.prompt || '';
  const running = task.status === 'running';
  c.bar.hidden = !running && task.status !== 'queued';
  const fraction = running && task.progress ? task.progress.fraction : 0;
  if (Number(c.bar.value) !== fraction) c.bar.value = fraction;
  c.bar.setAttribute('aria-label', running ? `Progress ${Math.round(fraction * 100)}%` : 'Not started');
  setText(c.state, stateText(c, task, paused));
  c.state.classList.toggle('error', task.status === 'failed');
  fillThumb(c, task, previewUrl);
  fillAction(c, task, stopping);
}
