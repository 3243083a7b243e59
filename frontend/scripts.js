// The selectable scripts that need no custom UI: X/Y/Z plot over checkpoints and Prompt
// matrix. Their `script_args` are built from GET /scripts (webui's defaults, in order),
// so the page follows the running webui's argument layout.

import { ApiError, api } from './api.js';
import { h, shortModel } from './dom.js';

const XYZ = 'X/Y/Z plot';
const MATRIX = 'Prompt matrix';
const OFFERED = [XYZ, MATRIX];
const $ = (id) => document.getElementById(id);

let tabs = null; // {txt2img: {name: script}, img2img: {...}} from GET /scripts
let kind = 'txt2img';
let wanted = ''; // the script asked for before the list came (a reused task)

function offered() {
  const found = tabs?.[kind] || {};
  return OFFERED.filter((name) => found[name] && !found[name].alwayson);
}

function render() {
  const select = $('f-script_name');
  const chosen = select.value || wanted;
  const names = offered();
  select.replaceChildren(h('option', { value: '' }, 'None'), ...names.map((n) => h('option', { value: n }, n)));
  select.value = names.includes(chosen) ? chosen : '';
  show();
}

function show() {
  const name = $('f-script_name').value;
  $('xyz-fields').hidden = name !== XYZ;
  $('matrix-hint').hidden = name !== MATRIX;
}

export function setScriptsMode(value) {
  kind = value;
  render();
}

function problem(msg) {
  return new ApiError(422, msg, { fields: { script_args: [msg] } });
}

/** X/Y/Z plot with a Checkpoint axis: the script's defaults, X type = the index of
 * "Checkpoint name" among its choices, X values = the checkpoints picked, no Y or Z
 * axis, and each image kept ("Include Sub Images") as chosen. */
function xyzArgs(script) {
  const args = script.args.map((a) => a.value);
  const axis = (script.args[0]?.choices || []).indexOf('Checkpoint name');
  if (args.length < 11 || axis < 0) throw problem('This webui\'s X/Y/Z plot has no "Checkpoint name" axis.');
  const picked = [...$('xyz-checkpoints').querySelectorAll('input:checked')].map((c) => c.value);
  if (!picked.length) throw problem('Pick at least one checkpoint for the X axis.');
  Object.assign(args, { 0: axis, 1: '', 2: picked, 3: 0, 4: '', 5: [], 6: 0, 7: '', 8: [], 10: $('xyz-sub').checked });
  return args;
}

/** The fields the chosen script adds to a task; throws (422-like) when it cannot run. */
export function scriptPayload() {
  const name = $('f-script_name').value;
  const script = tabs?.[kind]?.[name];
  if (!name || !script) return {};
  const args = name === XYZ ? xyzArgs(script) : script.args.map((a) => a.value);
  return { script_name: name, script_args: args };
}

/** "Use these settings again". */
export function fillScripts(params) {
  wanted = OFFERED.includes(params.script_name) ? params.script_name : '';
  $('f-script_name').value = '';
  render();
  if (wanted === XYZ && Array.isArray(params.script_args?.[2])) {
    // a title gains " [hash]" once webui has hashed the file: the same checkpoint either way
    const bare = (title) => String(title).replace(/\s*\[[0-9a-f]+\]$/i, '');
    const titles = new Set(params.script_args[2].map(bare));
    for (const box of $('xyz-checkpoints').querySelectorAll('input')) box.checked = titles.has(bare(box.value));
    $('xyz-sub').checked = Boolean(params.script_args[10]);
  }
}

/** Fill the script list and the checkpoint axis (keeps what is picked). */
export async function loadScripts(checkpoints) {
  if (checkpoints) {
    const list = $('xyz-checkpoints');
    const picked = new Set([...list.querySelectorAll('input:checked')].map((c) => c.value));
    list.replaceChildren(...checkpoints.map((c, i) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: c.title, id: `xyz-ckpt-${i}`, checked: picked.has(c.title) }),
      ` ${shortModel(c.title)}`)));
  }
  try {
    const found = await api.scripts();
    tabs = Object.fromEntries(Object.entries(found).map(([tab, scripts]) => [tab, Object.fromEntries(scripts.map((s) => [s.name, s]))]));
  } catch {
    // not answering (the banner says it) or refused: no scripts offered until it is back
  }
  render();
}

export function initScripts() {
  $('f-script_name').addEventListener('change', () => {
    wanted = '';
    show();
  });
}
