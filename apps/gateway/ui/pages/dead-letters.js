'use strict';

const FILTER_FIELDS = [['reason', 'Reason', ['', 'invalid-message', 'unknown-recipient', 'delivery-failed', 'unprocessable']],
  ['dialect', 'Dialect', ['', 'lifecare', 'webcare', 'samsa', 'canonical']], ['recipient', 'Recipient HSA-id'],
  ['type', 'Type', ['', 'admission', 'discharge-estimate', 'care-contact', 'sip-invitation', 'ready-for-discharge', 'discharged', 'message', 'cancellation', 'acknowledgement']],
  ['from', 'From (date)'], ['to', 'To (date)'], ['q', 'Message or episode id'], ['status', 'Status', ['open', 'resolved', 'all']]];

function currentFilter() {
  return Object.fromEntries([...routeParams()].filter(([, v]) => v !== ''));
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

pages['dead-letters'] = (id) => (id ? deadLetterView(id) : deadLettersView());
