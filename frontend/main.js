// Wiring: the three views (#create, #gallery, #queue), and what to reload when the
// server comes back or the key changes. Everything shown is rebuilt from the server.

import { initAdmin, showQueue } from './admin.js';
import { initAuth, onKeyChange } from './auth.js';
import { initConnection, onConnectionChange } from './connection.js';
import { fillFrom, initForm, loadLists } from './form.js';
import { initGallery, open } from './gallery.js';
import * as store from './store.js';
import { addSubmitted, initTasks, loadMore, loadTasks } from './tasks.js';

const VIEWS = ['create', 'gallery', 'queue'];

function route() {
  const name = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'create';
  for (const view of VIEWS) {
    document.getElementById(`view-${view}`).hidden = view !== name;
  }
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  showQueue(name === 'queue');
  return name;
}

function start() {
  initAuth();
  initConnection();
  initForm({ submitted: addSubmitted });
  initTasks({ onOpenImage: open });
  initGallery({
    onMore: loadMore,
    onReuse: (task) => {
      fillFrom(task);
      // no hashchange: its handler would move the focus to the heading
      history.pushState(null, '', '#create');
      route();
      document.getElementById('f-prompt').focus();
    },
  });
  initAdmin();
  window.addEventListener('hashchange', () => {
    const name = route();
    document.getElementById(`view-${name}`).querySelector('h2')?.focus?.();
  });
  route();
  loadLists();
  loadTasks();

  onConnectionChange((up) => {
    if (up) {
      loadLists();
      loadTasks();
    }
  });
  onKeyChange(() => {
    store.clear(); // another key may be another user
    loadLists();
    loadTasks();
  });
}

start();
