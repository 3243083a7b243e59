// The API key: kept in localStorage, sent as a Bearer token, asked for when the server
// answers 401 ("Sign in"), forgotten on "Sign out". In open single-user mode the server
// never asks, so nothing shows. Who the key belongs to is shown by me.js.

const STORAGE_KEY = 'taskqueue.apiKey';

let pending = null;   // one dialog at a time, shared by every request that got a 401
let declined = false; // the user closed the dialog: background polls stop asking
const listeners = new Set();

export function getKey() {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function authHeader() {
  const key = getKey();
  return key ? `Bearer ${key}` : null;
}

export function onKeyChange(fn) {
  listeners.add(fn);
}

function changed() {
  renderControls();
  for (const fn of listeners) fn(getKey());
}

export function setKey(key) {
  localStorage.setItem(STORAGE_KEY, key);
  declined = false;
  changed();
}

export function forgetKey() {
  localStorage.removeItem(STORAGE_KEY);
  changed();
}

/** Resolves to the new key, or null when the user cancelled. Background requests do
 * not open the dialog again after the user cancelled it once. */
export function askForKey(reason, { background = false } = {}) {
  if (background && declined) return Promise.resolve(null);
  if (!pending) pending = openDialog(reason).finally(() => { pending = null; });
  return pending;
}

function openDialog(reason) {
  const dialog = document.getElementById('key-dialog');
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  document.getElementById('key-reason').textContent = reason;
  input.value = '';
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener('close', done);
      const key = dialog.returnValue === 'save' ? input.value.trim() : '';
      if (key) {
        setKey(key);
        resolve(key);
      } else {
        declined = true;
        renderControls();
        resolve(null);
      }
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', done);
    form.onsubmit = (e) => {
      // "Save" with an empty field: keep the dialog open and say why
      if (e.submitter?.value === 'save' && !input.value.trim()) {
        e.preventDefault();
        input.setCustomValidity('Enter the key, or Cancel.');
        input.reportValidity();
      }
    };
    input.oninput = () => input.setCustomValidity('');
    dialog.showModal();
    input.focus();
  });
}

function renderControls() {
  const key = getKey();
  document.getElementById('key-state').textContent = !key && declined ? 'Not signed in' : '';
  document.getElementById('key-forget').hidden = !key;
  document.getElementById('key-enter').hidden = Boolean(key) || !declined;
}

export function initAuth() {
  document.getElementById('key-forget').addEventListener('click', () => forgetKey());
  document.getElementById('key-enter').addEventListener('click', () => askForKey('Enter your API key to sign in.'));
  renderControls();
}
