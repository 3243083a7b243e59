// The hires fix (txt2img) and the refiner: their controls, lists from webui, and the
// fields they add to a task. Values are remembered in this browser like the form's.

import { api } from './api.js';
import { h, recall, remember, shortModel } from './dom.js';

const SAVED = 'taskqueue.hires.v1';
const $ = (id) => document.getElementById(id);
// API field -> its control; hires_denoising is sent as `denoising_strength` (txt2img's)
const HIRES = { hr_upscaler: 'text', hr_scale: 'number', hr_second_pass_steps: 'int', hires_denoising: 'number' };
const REFINER = { refiner_checkpoint: 'text', refiner_switch_at: 'number' };
const ALL = { ...HIRES, ...REFINER };

function read(id) {
  const raw = $(`f-${id}`).value.trim();
  if (raw === '') return undefined;
  if (ALL[id] === 'text') return raw;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw; // sent as typed: the server's message names it
}

/** The fields these controls add to a `kind` task (none when they are off). */
export function hiresPayload(kind) {
  const body = {};
  if (kind === 'txt2img' && $('f-enable_hr').checked) {
    body.enable_hr = true;
    for (const name of Object.keys(HIRES)) {
      const value = read(name);
      if (value !== undefined) body[name === 'hires_denoising' ? 'denoising_strength' : name] = value;
    }
  }
  const refiner = read('refiner_checkpoint');
  if (refiner) {
    body.refiner_checkpoint = refiner;
    const at = read('refiner_switch_at');
    if (at !== undefined) body.refiner_switch_at = at;
  }
  return body;
}

function showHires() {
  $('hires-body').hidden = !$('f-enable_hr').checked;
}

/** txt2img only: img2img has no hires fix. */
export function setHiresMode(kind) {
  $('hires-fields').hidden = kind !== 'txt2img';
}

function setValue(id, value) {
  const el = $(`f-${id}`);
  if (value === undefined || value === null) return;
  value = String(value);
  if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === value)) {
    el.append(h('option', { value }, `${value} (not offered now)`));
  }
  el.value = value;
}

/** "Use these settings again": the controls as the task asked. */
export function fillHires(params) {
  $('f-enable_hr').checked = Boolean(params.enable_hr);
  if (params.enable_hr) {
    for (const name of Object.keys(HIRES)) {
      setValue(name, name === 'hires_denoising' ? params.denoising_strength : params[name]);
    }
  }
  $('f-refiner_checkpoint').value = '';
  if (params.refiner_checkpoint) setValue('refiner_checkpoint', params.refiner_checkpoint);
  if (params.refiner_switch_at !== undefined) setValue('refiner_switch_at', params.refiner_switch_at);
  showHires();
  saveHires();
}

export function saveHires() {
  const values = { enable_hr: $('f-enable_hr').checked };
  for (const name of Object.keys(ALL)) values[name] = $(`f-${name}`).value;
  remember(SAVED, values);
}

function saved() {
  return recall(SAVED);
}

function options(select, values, wanted) {
  select.replaceChildren(...values.map(([value, text]) => h('option', { value }, text)));
  if (wanted !== undefined && wanted !== null && values.some(([v]) => v === wanted)) select.value = wanted;
}

/** Fill the upscaler and refiner lists (the refiner's from `checkpoints`). */
export async function loadHires(checkpoints) {
  const remembered = saved();
  const keep = (id) => ($(`f-${id}`).dataset.loaded ? $(`f-${id}`).value : remembered[id]);
  if (checkpoints) {
    const el = $('f-refiner_checkpoint');
    const wanted = keep('refiner_checkpoint');
    options(el, [['', 'None'], ...checkpoints.map((c) => [c.title, shortModel(c.title)])], wanted);
    if (wanted && el.value !== wanted) setValue('refiner_checkpoint', wanted);
    el.dataset.loaded = '1';
  }
  try {
    const { data } = await api.upscalers();
    const el = $('f-hr_upscaler');
    const wanted = keep('hr_upscaler');
    options(el, data.map((u) => [u.name, u.name]), wanted);
    el.dataset.loaded = '1';
  } catch {
    // the server is not answering (the banner says it) or refused: the default stays
  }
}

export function initHires() {
  const remembered = saved();
  $('f-enable_hr').checked = Boolean(remembered.enable_hr);
  for (const name of ['hr_scale', 'hr_second_pass_steps', 'hires_denoising', 'refiner_switch_at']) {
    if (remembered[name] !== undefined) $(`f-${name}`).value = remembered[name];
  }
  $('f-enable_hr').addEventListener('change', showHires);
  showHires();
}
