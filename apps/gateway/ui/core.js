// Operations console: plain JavaScript over the JSON API (/api, documented at /api/docs), no build step.
// core.js holds what every page shares (h, api, formatting, links, the router); each page is one
// file in pages/ that registers its view in `pages` (index.html loads them in order, start.js last).
'use strict';

const main = document.getElementById('main');
const state = { me: null };
/** route name → async (id, params) => Node; filled by the files in pages/. */
const pages = {};
let refreshTimer;

const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return el;
};

async function api(path, options = {}) {
  const { probe, ...init } = options;
  const res = await fetch(path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(options.headers || {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (res.status === 401 && !options.probe) { state.me = null; render(); throw new Error('Signed out'); }
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const err = new Error(body?.message?.message || body?.message || `HTTP ${res.status}`);
    err.body = body;
    throw err;
  }
  return body;
}

const fmtTime = (t) => (t ? new Date(t).toLocaleString('sv-SE', { timeZone: 'Europe/Stockholm' }) : '');
const timeLeft = (s) => {
  const sign = s < 0 ? '−' : '';
  const a = Math.abs(s);
  return `${sign}${Math.floor(a / 3600)} h ${Math.floor((a % 3600) / 60)} min`;
};
const isOperator = () => state.me?.role === 'operator';
const message = (text, cls = 'ok') => h('p', { class: cls, role: 'status' }, text);

function loginView() {
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    try {
      state.me = await api('/api/login', { method: 'POST', probe: true, body: { username: form.username.value, password: form.password.value } });
      location.hash = '#/overview';
      render();
    } catch (err) { form.querySelector('.error').textContent = err.message; }
  } },
    h('h2', {}, 'Sign in'),
    h('label', {}, 'User name', h('input', { name: 'username', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', { class: 'error' }));
  return form;
}


/** A link to a message's page (its timeline). */
const messageLink = (id) => (id ? h('a', { href: `#/messages/${encodeURIComponent(id)}` }, id) : '–');

const routeParams = () => new URLSearchParams(location.hash.split('?')[1] || '');

let renderGeneration = 0;
async function render() {
  clearInterval(refreshTimer);
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!state.me) {
    try { state.me = await api('/api/me', { probe: true }); } catch { state.me = null; }
  }
  nav.hidden = !state.me;
  if (!state.me) { who.replaceChildren(); main.replaceChildren(loginView()); return; }
  who.replaceChildren(`${state.me.username} (${state.me.role})`, h('button', { class: 'secondary', onclick: async () => { await api('/api/logout', { method: 'POST' }); state.me = null; render(); } }, 'Sign out'));
  const route = location.hash.replace(/^#\//, '').split('?')[0] || 'overview';
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', route.startsWith(a.getAttribute('href').slice(2)));
  const [page, ...rest] = route.split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  const view = pages[page] || pages.overview;
  // A slow answer for a page the user has already left must not replace the page now shown.
  const generation = ++renderGeneration;
  let node;
  try { node = await view(id, routeParams()); }
  catch (err) { node = message(err.message, 'error'); }
  if (generation === renderGeneration) main.replaceChildren(node);
}

// Units' names from the directory (GET /api/units), loaded once and shared by every page.
const units = { byHsa: new Map(), loading: null };
const loadUnits = () => {
  units.loading ||= api('/api/units').then((list) => { units.byHsa = new Map(list.map((u) => [u.hsaId, u])); }).catch(() => { units.loading = null; });
  return units.loading;
};
/** A unit by its name and HSA id, linked to the Recipients page; `name` when the answer had it, else the directory's. */
function unitLink(hsa, name) {
  if (!hsa) return '–';
  const a = h('a', { href: '#/recipients', class: 'unit', title: `HSA id ${hsa}` });
  const fill = () => {
    const known = name || units.byHsa.get(hsa)?.name;
    a.replaceChildren(...(known ? [known, ' ', h('span', { class: 'muted' }, `(${hsa})`)] : [hsa]));
  };
  fill();
  if (!name && !units.byHsa.has(hsa)) loadUnits().then(fill);
  return a;
}
