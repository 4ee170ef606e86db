'use strict';

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

pages.dispatch = dispatchView;
