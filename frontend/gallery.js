// The gallery of finished images and the full-size viewer: infotext, download,
// "use these settings again", delete.

import { api, showImage } from './api.js';
import { h, setText, shortModel } from './dom.js';
import * as store from './store.js';

const tiles = new Map(); // "<task_id>:<index>" (":g<index>" for a grid) -> <li>
let entries = [];        // [{task_id, index, grid}] in gallery order, for prev/next
let current = null;      // the entry in the viewer
let reuse = () => {};

const $ = (id) => document.getElementById(id);

function withImages() {
  return store.all().filter((t) => !store.isLive(t) && (t.images.length || (t.grids || []).length));
}

/** A task's pictures in gallery order: a script's grids first, then its images. */
function pictures(task) {
  return [...(task.grids || []).map((url, index) => ({ url, index, grid: true })),
    ...task.images.map((url, index) => ({ url, index, grid: false }))];
}

const same = (a, b) => a && b && a.task_id === b.task_id && a.index === b.index && a.grid === b.grid;

function render() {
  const grid = $('gallery-grid');
  entries = [];
  const wanted = [];
  for (const task of withImages()) {
    for (const { url, index, grid } of pictures(task)) {
      entries.push({ task_id: task.task_id, index, grid });
      const key = `${task.task_id}:${grid ? 'g' : ''}${index}`;
      let li = tiles.get(key);
      if (!li) {
        const img = h('img', { alt: '', loading: 'lazy', decoding: 'async' });
        const what = grid ? 'grid' : `image ${index + 1} of ${task.images.length}`;
        const label = `${task.params?.prompt || task.type} (${what}, ${shortModel(task.checkpoint)})`;
        li = h('li', { class: grid ? 'tile is-grid' : 'tile' },
          h('button', { type: 'button', 'aria-label': `Open: ${label}`, title: task.params?.prompt || '', onclick: () => open(task.task_id, index, grid) }, img),
          grid ? h('span', { class: 'tile-label', 'aria-hidden': 'true' }, 'Grid') : null);
        tiles.set(key, li);
      }
      // the small thumbnail here (a grid has none: itself); the viewer opens the full PNG
      showImage(li.querySelector('img'), grid ? url : (task.thumbnails || [])[index] || url);
      wanted.push(li);
    }
  }
  // keep existing nodes (no reload, no flicker), only fix membership and order
  const keep = new Set(wanted);
  for (const [key, li] of tiles) {
    if (!keep.has(li)) {
      li.remove();
      tiles.delete(key);
    }
  }
  wanted.forEach((li, i) => {
    if (grid.children[i] !== li) grid.insertBefore(li, grid.children[i] || null);
  });
  const n = entries.length;
  $('gallery-empty').hidden = n > 0;
  setText($('gallery-count'), n ? String(n) : '');
  setText($('gallery-summary'), n ? `${n} image${n > 1 ? 's' : ''}` : '');
  $('gallery-more').hidden = !store.hasMore();
}

// ---- viewer ----------------------------------------------------------------------------------

/** `grid`: open the task's grid `index`; null: its first grid if it has one (a task's
 * card opens its grid), else image `index`. */
export function open(taskId, index = 0, grid = null) {
  const task = store.get(taskId);
  if (!task) return;
  const grids = (task.grids || []).length;
  grid = grid === null ? grids > 0 : grid && grids > 0;
  const count = grid ? grids : task.images.length;
  if (!count) return;
  current = { task_id: taskId, index: grid && index >= grids ? 0 : Math.min(index, count - 1), grid };
  showCurrent();
  const dialog = $('viewer');
  if (!dialog.open) dialog.showModal();
  $('viewer-close').focus();
}

function showCurrent() {
  const task = store.get(current.task_id);
  const list = current.grid ? task.grids : task.images;
  const url = list[current.index];
  const what = current.grid ? `grid${list.length > 1 ? ` ${current.index + 1} of ${list.length}` : ''}`
    : `image ${current.index + 1} of ${list.length}`;
  const img = $('viewer-image');
  img.removeAttribute('src');
  img.alt = `${task.params?.prompt || task.type}: ${what}`;
  const link = $('viewer-download');
  link.download = `task-${task.task_id.slice(0, 8)}-${current.grid ? 'grid-' : ''}${current.index + 1}.png`;
  showImage(img, url, link);
  const input = (task.inputs || [])[0];
  $('viewer-input').hidden = !input;
  if (input) showImage($('viewer-input-image'), input);
  setText($('viewer-title'), `${shortModel(task.checkpoint)} · ${what}`);
  const infotext = current.grid ? task.infotexts[0] : task.infotexts[current.index] || task.infotexts[0];
  setText($('viewer-infotext'), infotext || '(no infotext)');
  const at = entries.findIndex((e) => same(e, current));
  $('viewer-prev').disabled = at <= 0;
  $('viewer-next').disabled = at < 0 || at >= entries.length - 1;
  const del = $('viewer-delete');
  delete del.dataset.armed;
  del.disabled = false;
  setText(del, 'Delete task');
  setText($('viewer-error'), '');
}

function step(by) {
  const at = entries.findIndex((e) => same(e, current));
  const next = entries[at + by];
  if (at >= 0 && next) {
    current = { ...next };
    showCurrent();
  }
}

async function deleteCurrent() {
  const button = $('viewer-delete');
  const task = store.get(current.task_id);
  if (!button.dataset.armed) {
    button.dataset.armed = '1';
    const n = task.images.length;
    setText(button, `Delete the task and its ${n > 1 ? `${n} images` : 'image'}?`);
    return;
  }
  button.disabled = true;
  try {
    await api.remove(task.task_id);
    const at = entries.findIndex((e) => e.task_id === task.task_id);
    store.remove(task.task_id);
    const next = entries[at] || entries[at - 1];
    if (next) {
      current = { ...next };
      showCurrent();
    } else {
      $('viewer').close();
    }
  } catch (e) {
    button.disabled = false;
    setText($('viewer-error'), e.message);
    if (e.status === 404) store.remove(task.task_id);
  }
}

export function initGallery({ onReuse, onMore }) {
  reuse = onReuse;
  const dialog = $('viewer');
  $('viewer-close').addEventListener('click', () => dialog.close());
  $('viewer-prev').addEventListener('click', () => step(-1));
  $('viewer-next').addEventListener('click', () => step(1));
  $('viewer-delete').addEventListener('click', deleteCurrent);
  $('viewer-reuse').addEventListener('click', () => {
    const task = store.get(current.task_id);
    dialog.close();
    reuse(task);
  });
  $('gallery-more').addEventListener('click', onMore);
  dialog.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'PRE') return; // arrows scroll the infotext
    if (e.key === 'ArrowLeft') step(-1);
    if (e.key === 'ArrowRight') step(1);
  });
  // a click on the backdrop closes it
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });
  store.subscribe((event) => {
    if (event.type === 'upsert' && store.isLive(event.task)) return; // nothing to show yet
    render();
  });
  render();
}
