// The submit form: txt2img / img2img, its choice lists, remembered values, the init
// image, and server errors shown next to the field they name.

import { api, native } from './api.js';
import { h, recall, remember, shortModel } from './dom.js';
import { initExtras, loadExtras } from './extras.js';
import { fillHires, hiresPayload, initHires, loadHires, saveHires, setHiresMode } from './hires.js';
import { fillScripts, initScripts, loadScripts, scriptPayload, setScriptsMode } from './scripts.js';

const SAVED = 'taskqueue.form.v1';

// API field -> how to read it from its control
const FIELDS = {
  checkpoint: 'text',
  prompt: 'text',
  negative_prompt: 'text',
  sampler_name: 'text',
  scheduler: 'text',
  steps: 'int',
  cfg_scale: 'number',
  width: 'int',
  height: 'int',
  seed: 'int',
  batch_size: 'int',
  n_iter: 'int',
  denoising_strength: 'number',
};
const IMG2IMG_ONLY = new Set(['denoising_strength', 'init_images']);

let form;
let initImage = null; // {name, dataUrl}
let onSubmitted = () => {};
let onAnswered = () => {}; // after every answer to a submit, accepted or not (usage changed)

const $ = (id) => document.getElementById(id);

export function mode() {
  return form.elements.mode.value;
}

function setMode(value) {
  for (const radio of form.elements.mode) radio.checked = radio.value === value;
  $('img2img-fields').hidden = value !== 'img2img';
  $('submit-button').textContent = `Queue ${value}`;
  setHiresMode(value);
  setScriptsMode(value);
}

function control(name) {
  return form.elements.namedItem(name);
}

/** The payload as typed. Empty number fields are left out (the server's default);
 * what is not a number is sent as typed, so that the server's message names it. */
function payload() {
  const kind = mode();
  const body = {};
  for (const [name, type] of Object.entries(FIELDS)) {
    if (kind === 'txt2img' && IMG2IMG_ONLY.has(name)) continue;
    const el = control(name);
    if (!el) continue;
    const raw = el.value.trim();
    if (name.endsWith('prompt')) {
      body[name] = el.value;
    } else if (type === 'text') {
      if (raw !== '') body[name] = raw;
    } else if (raw !== '') {
      const n = Number(raw);
      body[name] = Number.isFinite(n) ? n : raw;
    }
  }
  if (kind === 'img2img') body.init_images = initImage ? [initImage.dataUrl] : [];
  return Object.assign(body, hiresPayload(kind), scriptPayload());
}

// ---- remembered values ----------------------------------------------------------

function save() {
  const values = { mode: mode() };
  for (const name of Object.keys(FIELDS)) {
    const el = control(name);
    if (el) values[name] = el.value;
  }
  remember(SAVED, values);
}

function saved() {
  return recall(SAVED);
}

function setValue(name, value) {
  const el = control(name);
  if (!el || value === undefined || value === null) return;
  value = String(value);
  if (el.tagName === 'SELECT' && value !== '' && ![...el.options].some((o) => o.value === value)) {
    el.append(h('option', { value }, `${value} (not offered now)`));
  }
  el.value = value;
}

// ---- choice lists ------------------------------------------------------------------

function fieldError(name, text) {
  const p = $(`f-${name}-error`);
  if (p) p.textContent = text || '';
}

let checkpointList = null; // the last list from the server, for the refiner and X/Y/Z plot

async function loadCheckpoints(wanted) {
  const select = control('checkpoint');
  try {
    const { data, loaded, default: mine } = await api.checkpoints();
    checkpointList = data;
    select.replaceChildren(
      ...data.map((c) => h('option', { value: c.title },
        `${shortModel(c.title)}${c.hash ? ` [${c.hash}]` : ''}${c.title === loaded ? ' — loaded' : ''}`)),
    );
    if (!data.length) select.append(h('option', { value: '' }, 'webui has no checkpoint'));
    // the one chosen here last time, else the person's own (webui's page, /me), else the box's
    const known = (title) => title && data.some((c) => c.title === title);
    const pick = [wanted, mine, loaded, data[0]?.title].find(known) || '';
    select.value = pick;
    fieldError('checkpoint', '');
    return true;
  } catch (e) {
    if (e.status === 0) return false; // the banner says it; loaded again when the server is back
    select.replaceChildren(h('option', { value: '' }, "webui's default"));
    fieldError('checkpoint', `Could not list checkpoints: ${e.message}`);
    return false;
  }
}

/** A <select> from webui's list, or a free text input when webui will not tell. */
async function loadChoices(name, path, valueOf, wanted, fallback) {
  const current = control(name);
  let items = null;
  try {
    items = (await native(path)).map(valueOf).filter(Boolean);
  } catch {
    items = null;
  }
  const value = wanted || current.value || fallback;
  let el;
  if (items && items.length) {
    el = h('select', {}, items.map((v) => h('option', { value: v }, v)));
    if (!items.includes(value)) el.append(h('option', { value }, value));
  } else {
    el = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  }
  el.id = current.id;
  el.name = name;
  el.setAttribute('aria-describedby', `${current.id}-error`);
  current.replaceWith(el);
  el.value = value;
}

let listsLoaded = false;

/** Fill (or refill, when the server is back) the lists; keeps what is selected. */
export async function loadLists() {
  // the first time, the remembered choice; later, whatever is selected now
  const want = (name) => (listsLoaded ? control(name).value : saved()[name]) || control(name).value;
  const [ok] = await Promise.all([
    loadCheckpoints(want('checkpoint')),
    loadChoices('sampler_name', 'samplers', (s) => s.name, want('sampler_name'), 'Euler'),
    loadChoices('scheduler', 'schedulers', (s) => s.label || s.name, want('scheduler'), 'Automatic'),
  ]);
  listsLoaded ||= ok;
  await Promise.all([loadHires(checkpointList), loadScripts(checkpointList), loadExtras()]);
}

// ---- init image ---------------------------------------------------------------------

function readImage(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) {
    fieldError('init_images', `${file.name} is not an image.`);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    initImage = { name: file.name, dataUrl: reader.result };
    fieldError('init_images', '');
    showInitImage();
  };
  reader.onerror = () => fieldError('init_images', `Could not read ${file.name}.`);
  reader.readAsDataURL(file);
}

function showInitImage() {
  const img = $('init-preview');
  img.hidden = !initImage;
  if (initImage) {
    img.src = initImage.dataUrl;
    img.alt = `Init image: ${initImage.name}`;
  } else {
    img.removeAttribute('src');
  }
  $('drop-text').textContent = initImage ? `${initImage.name} — choose another, or drop one here` : 'Choose an image, or drop one here';
  $('init-clear').hidden = !initImage;
}

function wireImage() {
  const input = $('f-init_image');
  const zone = $('drop-zone');
  input.addEventListener('change', () => readImage(input.files[0]));
  $('init-clear').addEventListener('click', () => {
    initImage = null;
    input.value = '';
    showInitImage();
    input.focus();
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    readImage(e.dataTransfer.files[0]);
  });
}

// ---- errors ---------------------------------------------------------------------------

function clearErrors() {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  $('form-error').textContent = '';
}

function showError(err) {
  const general = [...(err.messages || [])];
  let first = null;
  for (const [name, msgs] of Object.entries(err.fields || {})) {
    const box = form.querySelector(`.field[data-field="${name}"]`);
    if (!box || box.closest('[hidden]')) {
      general.push(`${name}: ${msgs.join('; ')}`);
      continue;
    }
    fieldError(name, msgs.join('; '));
    const el = name === 'init_images' ? $('f-init_image') : control(name);
    el?.setAttribute('aria-invalid', 'true');
    first ||= name === 'init_images' ? $('drop-zone') : el;
  }
  if (err.status === 413 && mode() === 'img2img') {
    fieldError('init_images', err.message);
    first ||= $('drop-zone');
  } else if (err.status !== 422 || general.length) {
    $('form-error').textContent = err.status === 422 ? general.join('; ') : err.message;
  }
  first?.focus();
}

// ---- submit and reuse -------------------------------------------------------------------

async function submit(e) {
  e.preventDefault();
  clearErrors();
  save();
  const button = $('submit-button');
  const status = $('form-status');
  button.disabled = true;
  status.textContent = 'Sending…';
  try {
    const accepted = await api.submit(mode(), payload());
    status.textContent = accepted.position
      ? `Queued at position ${accepted.position}.`
      : 'Queued.';
    onSubmitted(accepted);
  } catch (err) {
    status.textContent = '';
    showError(err);
  } finally {
    button.disabled = false;
    onAnswered();
  }
}

/** "Use these settings again": the form as the task was accepted. */
export function fillFrom(task) {
  clearErrors();
  setMode(task.type);
  const params = task.params || {};
  for (const name of Object.keys(FIELDS)) {
    if (name === 'checkpoint') continue;
    if (name in params) setValue(name, params[name]);
    else if (name.endsWith('prompt')) setValue(name, '');
  }
  setValue('checkpoint', task.checkpoint);
  fillHires(params);
  fillScripts(params);
  save();
  $('form-status').textContent = task.type === 'img2img' && !initImage
    ? 'Settings loaded. Pick the init image again: the server does not hand it back.'
    : 'Settings loaded from the task.';
}

export function initForm({ submitted, answered = () => {} }) {
  form = $('submit-form');
  onSubmitted = submitted;
  onAnswered = answered;
  const remembered = saved();
  for (const name of Object.keys(FIELDS)) {
    if (name in remembered && control(name)?.tagName !== 'SELECT') setValue(name, remembered[name]);
  }
  setMode(remembered.mode === 'img2img' ? 'img2img' : 'txt2img');
  for (const radio of form.elements.mode) {
    radio.addEventListener('change', () => {
      setMode(mode());
      clearErrors();
      save();
    });
  }
  initHires();
  initScripts();
  initExtras();
  form.addEventListener('change', save);
  form.addEventListener('change', saveHires);
  let typing = null;
  form.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(save, 300);
  });
  form.addEventListener('submit', submit);
  // a field being fixed: its message goes
  form.addEventListener('input', (e) => {
    const box = e.target.closest('.field');
    if (box?.dataset.field && e.target.getAttribute('aria-invalid')) {
      e.target.removeAttribute('aria-invalid');
      fieldError(box.dataset.field, '');
    }
  });
  wireImage();
}
