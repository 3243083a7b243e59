// Admins: the users panel in the queue view. Create a user (the new key is shown once,
// with a copy button), revoke a user, make or revoke a key, edit role and limits (an
// empty limit field: the default). Loaded when the view is shown and after each change;
// the usage line is refreshed in the background without touching what is being edited.

import { api } from './api.js';
import { clock, h, setText } from './dom.js';
import { currentUser, isAdmin } from './me.js';
import { poll, stop } from './poll.js';

const EVERY = 10000;
const LIMITS = [
  ['max_queued', 'Queued at once'],
  ['max_per_hour', 'Tasks per hour'],
  ['max_steps', 'Steps'],
  ['max_pixels', 'Pixels (w×h)'],
  ['max_images', 'Images a task'],
  ['checkpoints', 'Checkpoints'],
];
const rows = new Map(); // name -> row parts
let defaults = {};      // the Settings defaults of the limits (GET /users `defaults`; null: none)

const $ = (id) => document.getElementById(id);

// ---- loading ------------------------------------------------------------------------

async function refresh() {
  try {
    const answer = await api.users({ background: true });
    defaults = answer.defaults || {};
    render(answer.data);
    setText($('users-error'), '');
  } catch (e) {
    if (e.status === 0) throw e;
    setText($('users-error'), `Could not list the users: ${e.message}`);
  }
  return EVERY;
}

function reload() {
  poll('admin:users', refresh, 0);
}

function render(users) {
  const list = $('user-list');
  const seen = new Set();
  users.forEach((user, i) => {
    seen.add(user.name);
    let row = rows.get(user.name);
    if (!row) {
      row = makeRow(user.name);
      rows.set(user.name, row);
    }
    fillRow(row, user);
    if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
  });
  for (const [name, row] of rows) {
    if (!seen.has(name)) {
      row.li.remove();
      rows.delete(name);
    }
  }
  setText($('users-summary'), `${users.length} user${users.length === 1 ? '' : 's'}`);
}

// ---- one user ------------------------------------------------------------------------

function makeRow(name) {
  const r = { name };
  r.role = h('span', { class: 'badge role' });
  r.you = h('span', { class: 'muted small', hidden: true }, '(you)');
  r.usage = h('span', { class: 'meta' });
  r.limits = h('p', { class: 'muted small user-limits' });
  r.keys = h('ul', { class: 'keys', 'aria-label': `Keys of ${name}` });
  r.msg = h('p', { class: 'msg', role: 'status' });
  r.revoke = h('button', { type: 'button', class: 'danger small', 'aria-label': `Revoke user ${name}`, onclick: () => revokeUser(r) }, 'Revoke user');
  r.editor = makeEditor(r);
  r.li = h('li', { class: 'user', dataset: { user: name } },
    h('div', { class: 'task-head' }, h('strong', { class: 'user-name' }, name), r.you, r.role, r.usage),
    r.limits,
    r.keys,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `New key for ${name}`, onclick: () => newKey(r) }, 'New key'),
      r.revoke,
      r.msg),
    r.editor.details);
  return r;
}

function limitText(limits) {
  const parts = [];
  for (const [name, label] of LIMITS) {
    const v = limits[name];
    if (v === null || v === undefined || (Array.isArray(v) && !v.length)) continue;
    parts.push(`${label.toLowerCase()}: ${Array.isArray(v) ? v.join(', ') : v}`);
  }
  return parts.length ? `Limits: ${parts.join(' · ')}` : 'No limits';
}

function fillRow(r, user) {
  r.user = user;
  // revoking oneself would lock this page out: another admin does that
  const self = user.name === currentUser()?.name;
  r.you.hidden = !self;
  r.revoke.hidden = self;
  setText(r.role, user.role);
  r.role.className = `badge role role-${user.role}`;
  setText(r.usage, `${user.usage.queued} queued · ${user.usage.last_hour} this hour`);
  setText(r.limits, limitText(user.effective_limits || {}));
  const keys = user.keys.map((k) => k.prefix).join(',');
  if (r.keys.dataset.keys !== keys) {
    r.keys.dataset.keys = keys;
    r.keys.replaceChildren(...user.keys.map((k) => h('li', { class: 'key-row' },
      h('code', {}, `${k.prefix}…`),
      h('span', { class: 'muted small' }, `made ${clock(k.created_at)}`),
      h('button', { type: 'button', class: 'link', 'aria-label': `Revoke key ${k.prefix} of ${user.name}`, onclick: () => revokeKey(r, k.prefix) }, 'Revoke key'))));
    if (!user.keys.length) r.keys.append(h('li', { class: 'muted small' }, 'No keys: this user cannot sign in.'));
  }
  if (!r.editor.details.open) fillEditor(r.editor, user);
}

function makeEditor(r) {
  const e = { inputs: {} };
  const fields = LIMITS.map(([name, label]) => {
    const id = `lim-${r.name}-${name}`.replace(/[^\w-]/g, '_');
    const input = h('input', name === 'checkpoints'
      ? { id, type: 'text', autocomplete: 'off', spellcheck: 'false' }
      : { id, type: 'number', min: '0', step: '1', inputmode: 'numeric' });
    input.dataset.limit = name;
    e.inputs[name] = input;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  });
  const roleId = `role-${r.name}`.replace(/[^\w-]/g, '_');
  e.role = h('select', { id: roleId }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
  e.error = h('p', { class: 'form-error', role: 'alert' });
  e.form = h('form', { class: 'limits-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); saveLimits(r); } },
    h('div', { class: 'field' }, h('label', { for: roleId }, 'Role'), e.role),
    h('div', { class: 'limits-grid' }, fields),
    h('p', { class: 'muted small' }, 'Empty: the default for everyone. 0: no limit. Checkpoints: names, separated by commas.'),
    e.error,
    h('button', { type: 'submit', class: 'primary small' }, 'Save limits'));
  // filled while closed (fillRow), so that opening it never overwrites what is typed
  e.details = h('details', { class: 'limits-edit' }, h('summary', {}, 'Edit role and limits'), e.form);
  return e;
}

function fillEditor(e, user) {
  e.role.value = user.role;
  for (const [name] of LIMITS) {
    const own = user.limits?.[name];
    const input = e.inputs[name];
    input.value = own === null || own === undefined ? '' : Array.isArray(own) ? own.join(', ') : String(own);
    const d = defaults[name];
    const none = d === null || d === undefined || d === 0 || (Array.isArray(d) && !d.length);
    input.placeholder = `default: ${none ? 'none' : Array.isArray(d) ? d.join(', ') : d}`;
    input.removeAttribute('aria-invalid');
  }
  setText(e.error, '');
}

// ---- actions ----------------------------------------------------------------------------

function said(r, text, error = false) {
  r.msg.className = error ? 'msg error' : 'msg';
  setText(r.msg, text);
}

async function saveLimits(r) {
  const e = r.editor;
  const limits = {};
  for (const [name] of LIMITS) {
    const raw = e.inputs[name].value.trim();
    e.inputs[name].removeAttribute('aria-invalid');
    if (raw === '') limits[name] = null;
    else if (name === 'checkpoints') limits[name] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else limits[name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  setText(e.error, '');
  try {
    const user = await api.updateUser(r.name, { role: e.role.value, limits });
    e.details.open = false;
    fillRow(r, user);
    said(r, 'Saved.');
  } catch (err) {
    const parts = [...err.messages];
    for (const [field, msgs] of Object.entries(err.fields)) {
      parts.push(`${field}: ${msgs.join('; ')}`);
    }
    for (const input of Object.values(e.inputs)) {
      const named = Object.keys(err.fields).includes(input.dataset.limit) || parts.some((p) => p.includes(input.dataset.limit));
      if (named) input.setAttribute('aria-invalid', 'true');
    }
    setText(e.error, err.status === 422 && parts.length ? parts.join('; ') : err.message);
  }
  reload();
}

async function newKey(r) {
  said(r, '');
  try {
    const { key } = await api.addKey(r.name);
    showKey(`New key for ${r.name}:`, key);
  } catch (e) {
    said(r, e.message, true);
  }
  reload();
}

async function revokeKey(r, prefix) {
  try {
    await api.deleteKey(r.name, prefix);
    said(r, `Key ${prefix}… revoked.`);
  } catch (e) {
    said(r, e.message, true);
  }
  reload();
}

async function revokeUser(r) {
  const button = r.revoke;
  if (!button.dataset.armed) {
    button.dataset.armed = '1';
    setText(button, `Revoke ${r.name}? Their keys stop working.`);
    setTimeout(() => {
      if (button.dataset.armed) {
        delete button.dataset.armed;
        setText(button, 'Revoke user');
      }
    }, 6000);
    return;
  }
  delete button.dataset.armed;
  button.disabled = true;
  try {
    await api.deleteUser(r.name);
    r.li.remove();
    rows.delete(r.name);
    setText($('users-error'), '');
  } catch (e) {
    button.disabled = false;
    setText(button, 'Revoke user');
    said(r, e.message, true);
  }
  reload();
}

// ---- create, and the key shown once ----------------------------------------------------------

function showKey(text, key) {
  setText($('new-key-text'), text);
  setText($('new-key-value'), key);
  setText($('new-key-copy'), 'Copy key');
  $('new-key').hidden = false;
  $('new-key-copy').focus();
}

async function copyKey() {
  const key = $('new-key-value').textContent;
  const button = $('new-key-copy');
  try {
    await navigator.clipboard.writeText(key);
    setText(button, 'Copied');
  } catch {
    // no clipboard access (permissions, plain http): select it for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents($('new-key-value'));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    setText(button, 'Selected: press Ctrl+C');
  }
}

function hideKey() {
  $('new-key').hidden = true;
  setText($('new-key-value'), '');
}

async function create(ev) {
  ev.preventDefault();
  const name = $('u-name');
  const button = $('user-create');
  name.removeAttribute('aria-invalid');
  setText($('users-error'), '');
  if (!name.value.trim()) {
    name.setAttribute('aria-invalid', 'true');
    setText($('users-error'), 'Enter a name for the new user.');
    name.focus();
    return;
  }
  button.disabled = true;
  try {
    const made = await api.createUser({ name: name.value.trim(), role: $('u-role').value });
    name.value = '';
    showKey(`${made.name} (${made.role}) was created. Their key:`, made.key);
  } catch (e) {
    if (e.fields.name) name.setAttribute('aria-invalid', 'true');
    const parts = [...e.messages, ...Object.entries(e.fields).map(([f, m]) => `${f}: ${m.join('; ')}`)];
    setText($('users-error'), e.status === 422 && parts.length ? parts.join('; ') : e.message);
  } finally {
    button.disabled = false;
  }
  reload();
}

// ---- showing ----------------------------------------------------------------------------------

let visible = false;

/** The queue view is shown (or hidden), or who is signed in changed. */
export function showUsers(show = visible) {
  visible = show;
  const panel = $('users-panel');
  panel.hidden = !(show && isAdmin());
  if (!panel.hidden) reload();
  else stop('admin:users');
}

/** Another user signed in: nothing of the last one's view stays. */
export function resetUsers() {
  for (const row of rows.values()) row.li.remove();
  rows.clear();
  hideKey();
  setText($('users-error'), '');
  showUsers();
}

export function initUsers() {
  $('user-form').addEventListener('submit', create);
  $('new-key-copy').addEventListener('click', copyKey);
  $('new-key-done').addEventListener('click', hideKey);
}
