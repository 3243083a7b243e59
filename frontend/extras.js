// webui's saved styles, LoRAs and embeddings, put into the prompt from the form: a style
// is applied as webui's own "Apply styles" does (its `{prompt}` is where the prompt goes,
// else it follows the prompt), a LoRA is added as <lora:alias:1>, an embedding by its name.

import { api } from './api.js';
import { h, setText } from './dom.js';

const $ = (id) => document.getElementById(id);
let styles = new Map(); // name -> {prompt, negative_prompt}
let target = 'f-prompt'; // the prompt last typed in: embeddings go there

/** webui's merge_prompts (modules/styles.py). */
export function mergePrompt(style, prompt) {
  if (style.includes('{prompt}')) return style.replace('{prompt}', prompt);
  return [prompt.trim(), style.trim()].filter(Boolean).join(', ');
}

/** `text` after what the prompt holds, separated by ", " (nothing when it is empty). */
export function appendTo(prompt, text) {
  const kept = prompt.replace(/[\s,]+$/, '');
  return kept ? `${kept}, ${text}` : text;
}

function setPrompt(id, value) {
  const el = $(id);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true })); // remembered, and its error cleared
}

function fill(select, items, empty) {
  const chosen = select.value;
  select.replaceChildren(...items.map(({ value, text }) => h('option', { value }, text)));
  if (!items.length) select.append(h('option', { value: '' }, empty));
  if (items.some((i) => i.value === chosen)) select.value = chosen;
  select.disabled = !items.length;
  $(`${select.id}-add`).disabled = !items.length;
}

async function list(name, select, toItems, empty) {
  try {
    const { data } = await api[name]();
    fill(select, toItems(data), empty);
    return data;
  } catch (e) {
    if (e.status !== 0) fill(select, [], `Could not list: ${e.message}`);
    return null;
  }
}

/** (Re)load the three lists; keeps what is selected. */
export async function loadExtras() {
  await Promise.all([
    list('styles', $('x-style'), (data) => {
      styles = new Map(data.map((s) => [s.name, s]));
      return data.map((s) => ({ value: s.name, text: s.name }));
    }, 'webui has no saved style'),
    list('loras', $('x-lora'), (data) => data.map((l) => ({
      value: l.alias, text: l.alias === l.name ? l.name : `${l.alias} (${l.name})`,
    })), 'webui has no LoRA'),
    list('embeddings', $('x-embedding'), (data) => data.map((e) => ({ value: e.name, text: e.name })),
      'webui has no embedding'),
  ]);
}

function applyStyle() {
  const style = styles.get($('x-style').value);
  if (!style) return;
  setPrompt('f-prompt', mergePrompt(style.prompt, $('f-prompt').value));
  if (style.negative_prompt) setPrompt('f-negative_prompt', mergePrompt(style.negative_prompt, $('f-negative_prompt').value));
  setText($('extras-status'), `Style "${style.name}" applied.`);
}

function add(selectId, into, what) {
  const value = $(selectId).value;
  if (!value) return;
  const text = what === 'LoRA' ? `<lora:${value}:1>` : value;
  setPrompt(into, appendTo($(into).value, text));
  const where = into === 'f-prompt' ? 'prompt' : 'negative prompt';
  setText($('extras-status'), `${what} ${text} added to the ${where}.`);
}

export function initExtras() {
  for (const id of ['f-prompt', 'f-negative_prompt']) {
    $(id).addEventListener('focus', () => { target = id; });
  }
  $('x-style-add').addEventListener('click', applyStyle);
  $('x-lora-add').addEventListener('click', () => add('x-lora', 'f-prompt', 'LoRA'));
  $('x-embedding-add').addEventListener('click', () => add('x-embedding', target, 'Embedding'));
}
