// Wiring: the three views (#create, #gallery, #queue), and what to reload when the
// server comes back, the key changes or another user signs in. Everything shown is
// rebuilt from the server.

import { initAdmin, resetQueue, showQueue } from './admin.js';
import { initAuth, onKeyChange } from './auth.js';
import { onBoxes, resetBoxes, showBoxes } from './boxes.js';
import { initConnection, onConnectionChange } from './connection.js';
import { fillFrom, initForm, loadLists } from './form.js';
import { initGallery, open } from './gallery.js';
import { loadMe, onMe, resetMe } from './me.js';
import * as store from './store.js';
import { addSubmitted, initTasks, loadMore, loadTasks } from './tasks.js';
import { initUsers, resetUsers, showUsers } from './users.js';

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
  showUsers(name === 'queue');
  showBoxes(name === 'queue');
  return name;
}

function reloadAll() {
  loadMe();
  loadLists();
  loadTasks();
}

function start() {
  initAuth();
  initConnection();
  initForm({ submitted: addSubmitted, answered: loadMe });
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
  initUsers();
  onBoxes(loadTasks); // several boxes now (or one again): the cards name theirs (or stop)
  window.addEventListener('hashchange', () => {
    const name = route();
    document.getElementById(`view-${name}`).querySelector('h2')?.focus?.();
  });
  route();
  reloadAll();

  // one of my tasks changed state (started, ended): my usage changed
  store.subscribe((event) => {
    if (event.type === 'upsert' && event.before && event.before.status !== event.task.status) loadMe();
  });
  // another user or role: the queue view and the admin's panel are rebuilt for them
  onMe(() => {
    resetQueue();
    resetUsers();
    resetBoxes();
  });
  onConnectionChange((up) => {
    if (up) reloadAll();
  });
  onKeyChange(() => {
    store.clear(); // another key may be another user
    resetMe();
    reloadAll();
  });
}

start();
