'use strict';

async function deviationsView() {
  const rows = await api('/api/deviations');
  return h('div', {}, h('h2', {}, 'Deviations'), rows.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
    h('tr', {}, ['When', 'Kind', 'Message', 'Unit', 'Detail'].map((t) => h('th', {}, t))),
    rows.map((d) => h('tr', {}, h('td', {}, fmtTime(d.at)), h('td', {}, d.kind), h('td', {}, d.messageId || ''), h('td', {}, d.unitHsa || ''), h('td', {}, d.detail || '')))));
}

pages.deviations = deviationsView;
