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
  const { probe, onHeaders, ...init } = options;
  const res = await fetch(path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(options.headers || {}) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (res.status === 401 && !options.probe) { state.me = null; render(); throw new Error('Signed out'); }
  if (options.onHeaders) options.onHeaders(res.headers);
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
/** An episode id as a link to Find, which lists the episode's messages. */
const episodeLink = (id) => (id ? h('a', { href: `#/messages?q=${encodeURIComponent(id)}` }, id) : '–');

/**
 * An audit target as a link to where it is shown: dead-letter:<id> → the dead letter, bulk-job:<id>
 * → the bulk job, fallback-document:<id> → manual dispatch, recipient:<hsa> → recipients,
 * message:<id> → its timeline; anything else as text.
 */
function targetLink(target) {
  if (!target) return '';
  const [kind, ...rest] = target.split(':');
  const id = rest.join(':');
  const to = { 'dead-letter': `#/dead-letters/${encodeURIComponent(id)}`, 'bulk-job': `#/bulk-jobs/${encodeURIComponent(id)}`,
    'fallback-document': '#/dispatch', recipient: '#/recipients', message: `#/messages/${encodeURIComponent(id)}` }[rest.length ? kind : ''];
  return to ? h('a', { href: to }, target) : target;
}

/** "1–50 of 312" for a page that starts at `offset` (0-based) and shows `shown` of `total`. */
const rangeText = (offset, shown, total) => (total === 0 ? 'None.' : `${offset + 1}–${offset + shown} of ${total}`);

/** A visually hidden text (read by screen readers). */
const srOnly = (text) => h('span', { class: 'sr-only' }, text);

// ---- Accessibility, applied to whatever a page shows (a MutationObserver on <main>) ----
// Every page gets: tables whose header cells have a scope and a text (an empty one gets a hidden
// "Actions"), cells labelled with their column (data-label: the stacked rows at phone width show it),
// <pre> blocks and other scroll regions focusable with a name, and fields without a label named after
// the heading before them.
const nameFromContext = (el, fallback) => {
  if (el.dataset.name) return el.dataset.name;
  for (let prev = el.previousElementSibling; prev; prev = prev.previousElementSibling) {
    if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
  }
  const heading = el.parentElement?.closest('div, section')?.querySelector('h2, h3');
  return heading ? heading.textContent.trim() : fallback;
};

function accessible(root) {
  if (!(root instanceof Element)) return;
  for (const table of [root, ...root.querySelectorAll('table')].filter((t) => t.tagName === 'TABLE')) {
    const rows = [...table.querySelectorAll(':scope > tr, :scope > thead > tr, :scope > tbody > tr')];
    const head = rows[0] && [...rows[0].children].every((c) => c.tagName === 'TH') ? rows[0] : undefined;
    if (head) {
      head.classList.add('head');
      [...head.children].forEach((th, i) => {
        th.setAttribute('scope', 'col');
        // A column without a title gets a hidden one: Actions when its cells hold buttons, else Name.
        const actions = rows.some((tr) => tr !== head && tr.children[i]?.querySelector('button, a[download]'));
        if (!th.textContent.trim()) th.append(srOnly(actions ? 'Actions' : 'Name'));
      });
    }
    const labels = head ? [...head.children].map((th) => th.textContent.trim()) : [];
    for (const tr of rows) {
      if (tr === head) continue;
      [...tr.children].forEach((cell, i) => {
        if (cell.tagName === 'TH') { cell.setAttribute('scope', 'row'); if (!cell.textContent.trim()) cell.append(srOnly('–')); }
        else if (head && labels[i] && !cell.dataset.label) cell.dataset.label = labels[i];
      });
    }
  }
  for (const pre of [root, ...root.querySelectorAll('pre, .scroll')].filter((e) => e.matches('pre, .scroll'))) {
    if (!pre.hasAttribute('tabindex')) pre.setAttribute('tabindex', '0');
    if (!pre.hasAttribute('role')) pre.setAttribute('role', 'region');
    if (!pre.hasAttribute('aria-label') && !pre.hasAttribute('aria-labelledby')) pre.setAttribute('aria-label', nameFromContext(pre, 'Text'));
  }
  for (const field of [root, ...root.querySelectorAll('input, select, textarea')].filter((e) => e.matches('input, select, textarea'))) {
    if (field.type === 'hidden' || field.closest('label') || field.hasAttribute('aria-label') || field.hasAttribute('aria-labelledby')) continue;
    if (field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`)) continue;
    field.setAttribute('aria-label', nameFromContext(field, field.name || 'Field'));
  }
}

new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) accessible(n.parentElement?.closest('table') || n);
}).observe(main, { childList: true, subtree: true });

const routeParams = () => new URLSearchParams(location.hash.split('?')[1] || '');

let renderGeneration = 0;
async function render() {
  clearInterval(refreshTimer);
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!state.me) {
    try { state.me = await api('/api/me', { probe: true }); } catch { state.me = null; }
  }
  const toggle = document.getElementById('nav-toggle');
  nav.hidden = !state.me;
  toggle.hidden = !state.me;
  // At phone width the navigation is behind the Menu button; moving to a page closes it.
  document.body.classList.remove('nav-open');
  toggle.setAttribute('aria-expanded', 'false');
  if (!state.me) { who.replaceChildren(); main.replaceChildren(loginView()); return; }
  who.replaceChildren(`${state.me.username} (${state.me.role})`, h('button', { class: 'secondary', onclick: async () => { await api('/api/logout', { method: 'POST' }); state.me = null; render(); } }, 'Sign out'));
  const route = location.hash.replace(/^#\//, '').split('?')[0] || 'overview';
  for (const a of nav.querySelectorAll('a')) {
    const current = route.split('/')[0] === a.getAttribute('href').slice(2);
    a.classList.toggle('active', current);
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
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

document.getElementById('nav-toggle').addEventListener('click', (e) => {
  const open = document.body.classList.toggle('nav-open');
  e.currentTarget.setAttribute('aria-expanded', String(open));
});

/**
 * Asks for a required reason in the page, under `anchor` (no native prompt(): it cannot be styled,
 * read by every screen reader or tested like the rest): a labelled field with OK and Cancel.
 * Resolves to the trimmed reason, or null when cancelled.
 */
function askReason(anchor, { label, submit, value = '' }) {
  anchor.parentElement?.querySelector('form.ask-reason')?.remove();
  return new Promise((resolve) => {
    const id = `reason-${Math.random().toString(36).slice(2, 8)}`;
    const input = h('input', { id, name: 'reason', required: true, maxlength: '500', value });
    const done = (result) => { form.remove(); anchor.focus(); resolve(result); };
    const form = h('form', { class: 'ask-reason', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) done(input.value.trim()); } },
      h('label', { for: id }, label), input,
      h('button', { type: 'submit' }, submit),
      h('button', { type: 'button', class: 'secondary', onclick: () => done(null) }, 'Cancel'));
    anchor.after(form);
    input.focus();
  });
}
