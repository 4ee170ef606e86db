'use strict';

// The audit log (docs/console.md "Audit log"): filters by who, action, target and period, pages of
// 100 with the total, a bulk job's entries grouped under the job (expandable), targets as links.

const AUDIT_FIELDS = [['user', 'User', 'text'], ['action', 'Action', 'text'], ['target', 'Target (part of it)', 'text'], ['from', 'From (date)', 'date'], ['to', 'To (date)', 'date']];
const AUDIT_PAGE = 100;

function auditDetail(a) {
  const d = a.detail;
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object' || Array.isArray(d)) return JSON.stringify(d);
  const { messageId, bulkJob: _job, ...rest } = d;
  const shown = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.entries(v).filter(([k, x]) => k !== 'recipientIds' && x !== null && x !== '').map(([k, x]) => `${k}=${x}`).join(', ')
    : v === null ? '–' : String(v));
  const text = Object.entries(rest).map(([k, v]) => `${k}: ${shown(v)}`).join('; ');
  return messageId ? [messageLink(messageId), text ? ` ${text}` : ''] : text;
}

function auditRow(a, extra = {}) {
  return h('tr', { 'data-audit': a.id, ...extra },
    h('td', { class: 'nowrap' }, fmtTime(a.at)), h('td', {}, a.username), h('td', {}, a.role), h('td', { class: 'nowrap' }, a.action),
    h('td', { class: 'nowrap' }, targetLink(a.target)), h('td', {}, auditDetail(a)));
}

async function auditView() {
  const params = routeParams();
  const filter = Object.fromEntries([...params].filter(([k, v]) => v !== '' && (AUDIT_FIELDS.some(([f]) => f === k) || k === 'job')));
  const before = params.get('before');
  const offset = Math.max(0, Number(params.get('at')) || 0);
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams();
    for (const [k] of AUDIT_FIELDS) if (form[k].value) chosen.set(k, form[k].value);
    location.hash = `#/audit?${chosen}`;
  } },
    AUDIT_FIELDS.map(([k, label, type]) => h('label', {}, label, h('input', { name: k, type, value: filter[k] || '' }))),
    h('button', { type: 'submit' }, 'Filter'));
  const page = await api(`/api/audit?${new URLSearchParams({ ...filter, limit: String(AUDIT_PAGE), ...(before ? { before } : {}) })}`);
  const table = h('table', { id: 'audit' }, h('tr', {}, ['When', 'User', 'Role', 'Action', 'Target', 'Detail'].map((t) => h('th', {}, t))));
  for (const a of page.items) {
    const row = auditRow(a);
    table.append(row);
    if (a.items) {
      // The job's dead letters: one entry each, shown under the job on demand.
      const button = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false' }, `Show its ${a.items} entries`);
      let shown = [];
      button.addEventListener('click', async () => {
        if (shown.length) {
          for (const r of shown) r.remove();
          shown = [];
          button.setAttribute('aria-expanded', 'false');
          button.textContent = `Show its ${a.items} entries`;
          return;
        }
        const jobId = a.target.slice('bulk-job:'.length);
        const items = await api(`/api/audit?job=${encodeURIComponent(jobId)}&limit=500`);
        shown = items.items.map((i) => auditRow(i, { class: 'audit-item' }));
        row.after(...shown);
        button.setAttribute('aria-expanded', 'true');
        button.textContent = `Hide its ${a.items} entries`;
      });
      row.lastChild.append(' ', button);
    }
  }
  const nextHash = page.next ? `#/audit?${new URLSearchParams({ ...filter, before: page.next, at: String(offset + page.items.length) })}` : undefined;
  return h('div', {}, h('h2', {}, filter.job ? `Audit log: bulk job ${filter.job}` : 'Audit log'), form,
    h('p', { id: 'audit-range', class: 'pager' }, h('span', {}, rangeText(offset, page.items.length, page.total)),
      offset > 0 || filter.job ? h('a', { href: '#/audit' }, '« First page, no filter') : '',
      nextHash ? h('a', { href: nextHash }, 'Next page ›') : ''),
    h('p', { class: 'muted' }, 'A bulk job is one row; its dead letters are listed under it.'),
    table);
}

pages.audit = auditView;
