// Operations console: plain JavaScript over the JSON API (/api, documented at /api/docs).
'use strict';

const main = document.getElementById('main');
const state = { me: null };

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

let refreshTimer;
async function overviewView() {
  const box = h('div', {});
  const load = async () => {
    const o = await api('/api/overview');
    box.replaceChildren(
      h('h2', {}, 'Overview'),
      h('div', { class: 'cards' },
        ...Object.entries(o.copiesByState).map(([s, n]) => h('div', { class: 'card' }, h('div', { class: 'n' }, String(n)), h('div', {}, `copies ${s}`))),
        h('div', { class: `card ${o.deadLetters ? 'bad' : ''}` }, h('div', { class: 'n', id: 'dead-letter-count' }, String(o.deadLetters)), h('div', {}, 'dead letters')),
        h('div', { class: `card ${o.atRisk.length ? 'warn' : ''}` }, h('div', { class: 'n' }, String(o.atRisk.length)), h('div', {}, 'copies at risk')),
        h('div', { class: 'card' }, h('div', { class: 'n' }, String(o.manualDispatchWaiting)), h('div', {}, 'waiting for manual dispatch')),
        h('div', { class: 'card' }, h('div', { class: 'n' }, String(o.deliveriesPerMinute)), h('div', {}, 'deliveries per minute'))),
      h('h3', {}, 'Deadlines at risk'),
      o.atRisk.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
        h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'Recipient'), h('th', {}, 'State'), h('th', {}, 'Deadline'), h('th', {}, 'Time left'), h('th', {}, 'Fallback')),
        o.atRisk.map((r) => h('tr', {}, h('td', {}, r.messageId), h('td', {}, r.recipientHsa), h('td', {}, r.state), h('td', {}, fmtTime(r.notifyBy)),
          h('td', { class: r.secondsLeft < 0 ? 'late' : '' }, timeLeft(r.secondsLeft)), h('td', {}, r.fallback ? 'produced' : '')))),
      h('h3', {}, 'Last errors'),
      o.lastErrors.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
        h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Message'), h('th', {}, 'Recipient'), h('th', {}, 'Error')),
        o.lastErrors.map((e) => h('tr', {}, h('td', {}, fmtTime(e.at)), h('td', {}, e.messageId), h('td', {}, e.recipientHsa), h('td', {}, e.error)))),
      h('p', { class: 'muted' }, `Refreshes every 10 s. Last: ${new Date().toLocaleTimeString('sv-SE')}`));
  };
  await load();
  refreshTimer = setInterval(() => load().catch(() => undefined), 10_000);
  return box;
}

const FILTER_FIELDS = [['reason', 'Reason', ['', 'invalid-message', 'unknown-recipient', 'delivery-failed', 'unprocessable']],
  ['dialect', 'Dialect', ['', 'lifecare', 'webcare', 'samsa', 'canonical']], ['recipient', 'Recipient HSA-id'],
  ['type', 'Type', ['', 'admission', 'discharge-estimate', 'care-contact', 'sip-invitation', 'ready-for-discharge', 'discharged', 'message', 'cancellation', 'acknowledgement']],
  ['from', 'From (date)'], ['to', 'To (date)'], ['q', 'Message or episode id'], ['status', 'Status', ['open', 'resolved', 'all']]];

function currentFilter() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  return Object.fromEntries([...params].filter(([, v]) => v !== ''));
}

async function deadLettersView() {
  const filter = currentFilter();
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k] of FILTER_FIELDS) if (form[k].value) params.set(k, form[k].value);
    location.hash = `#/dead-letters?${params}`;
  } },
    FILTER_FIELDS.map(([k, label, options]) => h('label', {}, label, options
      ? h('select', { name: k }, options.map((o) => h('option', { value: o, selected: filter[k] === o }, o || 'any')))
      : h('input', { name: k, value: filter[k] || '', type: k === 'from' || k === 'to' ? 'date' : 'text' }))),
    h('button', { type: 'submit' }, 'Filter'));
  const table = h('table', { id: 'dead-letters' });
  const more = h('button', { class: 'secondary', hidden: true }, 'More');
  let next = null;
  const load = async () => {
    const page = await api(`/api/dead-letters?${new URLSearchParams({ ...filter, ...(next ? { cursor: next } : {}) })}`);
    for (const d of page.items) {
      table.append(h('tr', { class: 'clickable', onclick: () => { location.hash = `#/dead-letters/${d.id}`; } },
        h('td', {}, fmtTime(d.createdAt)), h('td', {}, d.reason), h('td', {}, d.messageId || '–'), h('td', {}, d.episodeId || '–'),
        h('td', {}, d.type || '–'), h('td', {}, d.dialect || '–'), h('td', {}, d.recipientHsa || '–'),
        h('td', {}, d.lastError || (d.problemCount ? `${d.problemCount} problem(s)` : '')), h('td', {}, d.resolution || '')));
    }
    next = page.next;
    more.hidden = !next;
  };
  table.append(h('tr', {}, ['Time', 'Reason', 'Message id', 'Episode', 'Type', 'Dialect', 'Recipient', 'Problem', 'Resolution'].map((t) => h('th', {}, t))));
  more.addEventListener('click', () => load());
  await load();
  const bulk = h('div', { class: 'actions' });
  if (isOperator()) {
    const status = h('span', {});
    const run = async (action) => {
      const { count } = await api('/api/dead-letters/bulk/preview', { method: 'POST', body: { filter } });
      if (count === 0) { status.textContent = 'Nothing to do: the filter selects no open dead letters.'; return; }
      let reason;
      if (action === 'discard') { reason = prompt(`Discard ${count} dead letters. Reason (required):`); if (!reason) return; }
      if (!confirm(`${action === 'replay' ? 'Replay' : 'Discard'} ${count} dead letters selected by this filter?`)) return;
      const job = await api('/api/dead-letters/bulk', { method: 'POST', body: { filter, action, reason, confirm: count } });
      // Widths go through the CSSOM: the Content-Security-Policy refuses inline style attributes.
      const fill = h('div', {});
      fill.style.width = '0%';
      const bar = h('div', { class: 'progress' }, fill);
      const label = h('span', {});
      const cancel = h('button', { class: 'secondary', onclick: () => api(`/api/bulk-jobs/${job.id}/cancel`, { method: 'POST' }) }, 'Cancel');
      status.replaceChildren(bar, label, cancel);
      const poll = setInterval(async () => {
        const j = await api(`/api/bulk-jobs/${job.id}`);
        bar.firstChild.style.width = `${Math.round(((j.done + j.failed) / j.total) * 100)}%`;
        label.textContent = ` ${j.done + j.failed} of ${j.total} (${j.failed} failed) – ${j.status}`;
        label.id = 'bulk-status';
        if (j.status !== 'running') { clearInterval(poll); cancel.remove(); }
      }, 500);
    };
    bulk.append(h('button', { onclick: () => run('replay').catch((e) => alert(e.message)) }, 'Replay all filtered…'),
      h('button', { class: 'secondary', onclick: () => run('discard').catch((e) => alert(e.message)) }, 'Discard all filtered…'), status);
  }
  return h('div', {}, h('h2', {}, 'Dead-letter queue'), form, bulk, table, more);
}

async function deadLetterView(id) {
  const d = await api(`/api/dead-letters/${id}`);
  const out = h('div', { id: 'action-result' });
  const act = async (fn) => {
    try {
      const r = await fn();
      out.replaceChildren(message(`Done: ${r.status}${r.messageId ? ` (${r.messageId})` : ''}`));
      setTimeout(() => { if (location.hash === `#/dead-letters/${id}`) render(); }, 1500);
    }
    catch (err) {
      const problems = err.body?.message?.problems || err.body?.problems;
      out.replaceChildren(message(err.message, 'error'), problems ? h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, `${p.path}: ${p.message}`))) : '');
    }
  };
  const editor = h('textarea', { id: 'payload-editor', spellcheck: 'false' }, d.payload ?? '');
  const actions = isOperator() && !d.resolvedAt ? h('div', {},
    h('div', { class: 'actions' },
      h('button', { id: 'replay', onclick: () => act(() => api(`/api/dead-letters/${id}/replay`, { method: 'POST' })) }, 'Replay'),
      h('button', { class: 'secondary', onclick: () => { const reason = prompt('Reason for discarding (required):'); if (reason) act(() => api(`/api/dead-letters/${id}/discard`, { method: 'POST', body: { reason } })); } }, 'Discard…')),
    d.payload !== null ? h('div', {}, h('h3', {}, 'Correct and replay'), editor,
      h('div', { class: 'actions' }, h('button', { id: 'correct', onclick: () => act(() => api(`/api/dead-letters/${id}/correct`, { method: 'POST', body: { payload: editor.value, dialect: d.dialect } })) }, 'Validate and replay the corrected message'))) : '') : '';
  return h('div', {},
    h('p', {}, h('a', { href: '#/dead-letters' }, '← Dead letters')),
    h('h2', {}, `Dead letter ${d.id}: ${d.reason}`),
    h('table', {}, [['Message id', d.messageId], ['Episode', d.episodeId], ['Type', d.type], ['Dialect', d.dialect], ['Recipient', d.recipientHsa], ['Created', fmtTime(d.createdAt)], ['Last error', d.lastError],
      ['Resolution', d.resolvedAt ? `${d.resolution} by ${d.resolvedBy} at ${fmtTime(d.resolvedAt)} ${d.resolutionDetail || ''}` : 'open']].map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v ?? '–')))),
    d.problems.length ? h('div', {}, h('h3', {}, 'Problems'), h('ul', { class: 'problems' }, d.problems.map((p) => h('li', {}, `${p.path}: ${p.message}`)))) : '',
    d.attempts.length ? h('div', {}, h('h3', {}, 'Delivery history'), h('table', {}, d.attempts.map((a) => h('tr', {}, h('td', {}, fmtTime(a.at)), h('td', {}, a.state), h('td', {}, a.detail || ''))))) : '',
    out, actions,
    h('h3', {}, 'Canonical form'), d.canonical ? h('pre', {}, JSON.stringify(d.canonical, null, 2)) : h('p', { class: 'muted' }, 'Not readable.'),
    h('h3', {}, 'Original payload'), d.payloadHidden ? h('p', { class: 'muted' }, 'Shown to operators only (holds identity numbers).') : h('pre', {}, d.payload ?? ''));
}

async function dispatchView() {
  const docs = await api('/api/manual-dispatch?status=all');
  return h('div', {}, h('h2', {}, 'Manual dispatch'),
    docs.length === 0 ? h('p', { class: 'muted' }, 'No fallback documents.') : h('table', { id: 'dispatch' },
      h('tr', {}, ['Deadline', 'Message', 'Recipient', 'Kind', 'Trigger', 'Reference', 'Status', ''].map((t) => h('th', {}, t))),
      docs.map((d) => h('tr', {}, h('td', {}, fmtTime(d.deadline)), h('td', {}, d.messageId), h('td', {}, d.recipientHsa), h('td', {}, d.kind), h('td', {}, d.trigger), h('td', {}, d.reference),
        h('td', {}, d.status === 'sent' ? `sent by ${d.sentVia}, ${d.sentBy}, ${fmtTime(d.sentAt)}${d.deliveredAt && d.deliveredAt !== d.sentAt ? `; arrives ${fmtTime(d.deliveredAt)}` : ''}`
          : d.status === 'withdrawn' ? `withdrawn ${fmtTime(d.withdrawnAt)}: cancelled by ${d.withdrawnBy}` : 'waiting'),
        h('td', {}, isOperator() ? h('a', { href: `/api/manual-dispatch/${d.id}/pdf`, download: `${d.reference}.pdf` }, 'PDF') : '', ' ',
          d.status === 'waiting' && isOperator() ? h('button', { onclick: async () => { await api(`/api/manual-dispatch/${d.id}/sent`, { method: 'POST', body: { via: d.kind } }); render(); } }, `Mark sent by ${d.kind}`) : '')))));
}

async function deviationsView() {
  const rows = await api('/api/deviations');
  return h('div', {}, h('h2', {}, 'Deviations'), rows.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
    h('tr', {}, ['When', 'Kind', 'Message', 'Unit', 'Detail'].map((t) => h('th', {}, t))),
    rows.map((d) => h('tr', {}, h('td', {}, fmtTime(d.at)), h('td', {}, d.kind), h('td', {}, d.messageId || ''), h('td', {}, d.unitHsa || ''), h('td', {}, d.detail || '')))));
}

function barChart(series, value, label, max) {
  const width = 640, height = 180, pad = 30;
  const top = Math.max(max ?? 0, ...series.map((r) => value(r) ?? 0), 1);
  const bar = (width - pad) / Math.max(series.length, 1);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 30}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    svg.append(el);
  };
  series.forEach((r, i) => {
    const v = value(r);
    const h = v === null ? 0 : (v / top) * height;
    add('rect', { x: pad + i * bar + 4, y: height - h, width: bar - 8, height: h, fill: r.liableDays ? '#b45309' : '#1f3a5f' });
    add('text', { x: pad + i * bar + bar / 2, y: height + 14, 'font-size': 10, 'text-anchor': 'middle' }, r.month.slice(2));
    if (v !== null) add('text', { x: pad + i * bar + bar / 2, y: height - h - 3, 'font-size': 10, 'text-anchor': 'middle' }, String(v));
  });
  add('text', { x: 0, y: 10, 'font-size': 10 }, String(top));
  add('line', { x1: pad, y1: height, x2: width, y2: height, stroke: '#888' });
  return h('figure', {}, h('figcaption', {}, label), svg);
}

async function reportsView() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const month = params.get('month') || new Date().toISOString().slice(0, 7);
  const municipality = params.get('municipality') || '';
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = `#/reports?month=${form.month.value}&municipality=${form.municipality.value}`; } },
    h('label', {}, 'Month', h('input', { name: 'month', type: 'month', value: month })),
    h('label', {}, 'Municipality (kommunkod) for the chart', h('input', { name: 'municipality', value: municipality })),
    h('button', { type: 'submit' }, 'Show'),
    h('a', { href: `/api/reports/monthly?month=${month}&format=csv`, download: `svu-report-${month}.csv` }, 'Download CSV'));
  const reports = await api(`/api/reports/monthly?month=${month}`);
  const pct = (x) => (x === null ? '–' : `${Math.round(x * 100)} %`);
  const table = reports.length === 0 ? h('p', { class: 'muted' }, 'No episodes this month.') : h('table', { id: 'reports' },
    h('tr', {}, ['Group', '', 'Episodes', 'Notifications within 24 h', 'Average days waiting', '0', '1', '2', '3', '4–7', '8+', 'Liable days', 'Kronor', 'Rule set', 'Why', 'Deviations'].map((t) => h('th', {}, t))),
    reports.map((r) => h('tr', {}, h('td', {}, r.groupBy === 'municipality' ? 'municipality' : 'hospital unit'), h('td', {}, r.name ? `${r.group} ${r.name}` : r.group), h('td', {}, String(r.episodes)),
      h('td', {}, `${pct(r.shareOnTime)} (${r.notificationsOnTime}/${r.notifications})`), h('td', {}, r.averageWaitingDays ?? '–'),
      ...['0', '1', '2', '3', '4-7', '8+'].map((b) => h('td', {}, String(r.waitingDistribution[b]))), h('td', {}, r.liableDays ?? '–'),
      h('td', {}, r.liableKronor === null ? '–' : `${r.liableKronor.toLocaleString('sv-SE')} kr`), h('td', {}, r.ruleSet ?? '–'),
      h('td', { class: 'reason' }, r.liabilityReason ?? '–'),
      h('td', {}, Object.entries(r.deviations).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '–'))));
  let chart = '';
  if (municipality) {
    const series = await api(`/api/reports/series?municipality=${encodeURIComponent(municipality)}&month=${month}&months=12`);
    chart = h('div', { id: 'chart' },
      barChart(series, (r) => r.averageWaitingDays, `Municipality ${municipality}: average days waiting after ready-for-discharge (months with liable days in amber)`),
      barChart(series, (r) => (r.shareOnTime === null ? null : Math.round(r.shareOnTime * 100)), `Municipality ${municipality}: admission notifications within 24 hours, %`, 100));
  }
  return h('div', {}, h('h2', {}, `Follow-up ${month}`), form, chart, table);
}

async function auditView() {
  const rows = await api('/api/audit');
  return h('div', {}, h('h2', {}, 'Audit log'), h('table', {},
    h('tr', {}, ['When', 'User', 'Role', 'Action', 'Target', 'Detail'].map((t) => h('th', {}, t))),
    rows.map((a) => h('tr', {}, h('td', {}, fmtTime(a.at)), h('td', {}, a.username), h('td', {}, a.role), h('td', {}, a.action), h('td', {}, a.target || ''), h('td', {}, a.detail ? JSON.stringify(a.detail) : '')))));
}

async function retentionView() {
  const r = await api('/api/retention');
  const names = { payloads: 'Payloads of settled messages', 'dead-letters': 'Resolved dead letters', documents: 'PDFs of documents sent by hand', audit: 'Audit log' };
  return h('div', {}, h('h2', {}, 'Retention'),
    h('p', {}, `Data older than its retention is pruned every ${r.everySeconds} s by the deadlines processes (docs/retention.md).`),
    h('table', {}, h('tr', {}, ['Kind', 'Kept (days)'].map((t) => h('th', {}, t))),
      r.kept.map((k) => h('tr', {}, h('td', {}, names[k.kind] || k.kind), h('td', {}, String(k.days))))),
    h('h3', {}, 'Pruned'),
    r.runs.length === 0 ? h('p', {}, 'Nothing pruned yet.') : h('table', {},
      h('tr', {}, ['When', 'Kind', 'Count', 'Older than'].map((t) => h('th', {}, t))),
      r.runs.map((run) => h('tr', {}, h('td', {}, fmtTime(run.at)), h('td', {}, names[run.kind] || run.kind), h('td', {}, String(run.count)), h('td', {}, fmtTime(run.cutoff))))));
}

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
  const [page, id] = route.split('/');
  const views = { reports: reportsView, overview: overviewView, 'dead-letters': () => (id ? deadLetterView(id) : deadLettersView()), dispatch: dispatchView, deviations: deviationsView, audit: auditView, retention: retentionView, recipients: () => recipientsView() };
  try { main.replaceChildren(await (views[page] || overviewView)()); }
  catch (err) { main.replaceChildren(message(err.message, 'error')); }
}

window.addEventListener('hashchange', render);
render();
