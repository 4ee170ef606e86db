'use strict';

async function auditView() {
  const rows = await api('/api/audit');
  return h('div', {}, h('h2', {}, 'Audit log'), h('table', {},
    h('tr', {}, ['When', 'User', 'Role', 'Action', 'Target', 'Detail'].map((t) => h('th', {}, t))),
    rows.map((a) => h('tr', {}, h('td', {}, fmtTime(a.at)), h('td', {}, a.username), h('td', {}, a.role), h('td', {}, a.action), h('td', {}, a.target || ''), h('td', {}, a.detail ? JSON.stringify(a.detail) : '')))));
}

pages.audit = auditView;
