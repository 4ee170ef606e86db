'use strict';

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

pages.retention = retentionView;
