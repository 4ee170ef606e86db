'use strict';

// The dead-letter list (docs/console.md): filters, a page of 50 with the total, each row a link to
// its dead letter; operators start a bulk replay or discard of the filtered selection after an
// in-page preview of what it holds (pages/bulk-jobs.js draws the job's progress).

const FILTER_FIELDS = [['reason', 'Reason', ['', 'invalid-message', 'unknown-recipient', 'delivery-failed', 'unprocessable']],
  ['dialect', 'Dialect', ['', 'lifecare', 'webcare', 'samsa', 'canonical']], ['recipient', 'Recipient (unit name or HSA id, part of it)'],
  ['type', 'Type', ['', 'admission', 'discharge-estimate', 'care-contact', 'sip-invitation', 'ready-for-discharge', 'discharged', 'message', 'cancellation', 'acknowledgement']],
  ['from', 'From (date)'], ['to', 'To (date)'], ['q', 'Message or episode id'], ['status', 'Status', ['open', 'resolved', 'all']]];
const PAGE_SIZE = 50;

function currentFilter() {
  const params = routeParams();
  return Object.fromEntries([...params].filter(([k, v]) => v !== '' && FILTER_FIELDS.some(([f]) => f === k)));
}

async function deadLettersView() {
  const filter = currentFilter();
  const params = routeParams();
  const cursor = params.get('cursor');
  const offset = Math.max(0, Number(params.get('at')) || 0);
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams();
    for (const [k] of FILTER_FIELDS) if (form[k].value) chosen.set(k, form[k].value);
    location.hash = `#/dead-letters?${chosen}`;
  } },
    FILTER_FIELDS.map(([k, label, options]) => h('label', {}, label, options
      ? h('select', { name: k }, options.map((o) => h('option', { value: o, selected: filter[k] === o }, o || 'any')))
      : h('input', { name: k, value: filter[k] || '', type: k === 'from' || k === 'to' ? 'date' : 'text' }))),
    h('button', { type: 'submit' }, 'Filter'));

  const box = h('div', { id: 'dead-letter-list' });
  const load = async () => {
    const page = await api(`/api/dead-letters?${new URLSearchParams({ ...filter, limit: String(PAGE_SIZE), ...(cursor ? { cursor } : {}) })}`);
    // The sender (its unit, else its sender system) when the API names one.
    const withSender = page.items.some((d) => d.senderHsa !== undefined || d.senderSystem !== undefined);
    const sender = (d) => (d.senderHsa ? unitLink(d.senderHsa, d.senderName) : d.senderSystemName || d.senderSystem || '–');
    const headers = ['Dead letter', 'Time', 'Reason', 'Message id', 'Episode', 'Type', 'Dialect', 'Recipient', ...(withSender ? ['Sender'] : []), 'Problem', 'Resolution'];
    const nextHash = page.next ? `#/dead-letters?${new URLSearchParams({ ...filter, cursor: page.next, at: String(offset + page.items.length) })}` : undefined;
    box.replaceChildren(
      h('p', { id: 'dead-letter-range', class: 'pager' }, h('span', {}, rangeText(offset, page.items.length, page.total)),
        offset > 0 ? h('a', { href: `#/dead-letters?${new URLSearchParams(filter)}` }, '« First page') : '',
        offset > 0 ? h('button', { class: 'secondary', type: 'button', onclick: () => history.back() }, '‹ Previous') : '',
        nextHash ? h('a', { href: nextHash }, 'Next page ›') : ''),
      page.items.length === 0 ? h('p', { class: 'muted' }, 'No dead letters match.') : h('table', { id: 'dead-letters' },
        h('tr', {}, headers.map((t) => h('th', {}, t))),
        page.items.map((d) => h('tr', { 'data-id': d.id },
          h('td', {}, h('a', { class: 'row-link dead-letter-link', href: `#/dead-letters/${encodeURIComponent(d.id)}` }, `Dead letter ${d.id}`)),
          h('td', {}, fmtTime(d.createdAt)), h('td', {}, d.reason), h('td', {}, messageLink(d.messageId)), h('td', {}, d.episodeId || '–'),
          h('td', {}, d.type || '–'), h('td', {}, d.dialect || '–'), h('td', {}, unitLink(d.recipientHsa, d.recipientName)),
          ...(withSender ? [h('td', {}, sender(d))] : []),
          h('td', {}, d.lastError || (d.problemCount ? `${d.problemCount} problem(s)` : '')),
          h('td', { class: 'resolution' }, d.resolvedAt ? d.resolution || 'resolved' : 'open')))));
  };
  await load();

  const bulk = h('div', { id: 'bulk' });
  if (isOperator()) {
    const panel = h('div', { id: 'bulk-panel' });
    const started = (job) => {
      panel.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'bulk-job-title' },
        h('h3', { id: 'bulk-job-title', tabindex: '-1' }, `Bulk ${job.action} `, h('a', { href: `#/bulk-jobs/${job.id}` }, `job ${job.id}`)),
        jobPanel(job, (j) => { if (finished(j)) load().catch(() => undefined); })));
      panel.querySelector('h3').focus();
    };
    // A bulk action takes the open dead letters of the filter: the list's status is not part of it
    // (the API refuses any status but open).
    const { status: _status, ...openFilter } = filter;
    const preview = async (action) => {
      const p = await api('/api/dead-letters/bulk/preview', { method: 'POST', body: { filter: openFilter } });
      if (p.count === 0) { panel.replaceChildren(message('Nothing to do: the filter selects no open dead letters.', 'muted')); return; }
      const reason = action === 'discard' ? h('input', { name: 'bulk-reason', id: 'bulk-reason', required: true }) : undefined;
      const out = h('div', {});
      const verb = action === 'replay' ? 'Replay' : 'Discard';
      const confirmForm = h('form', { onsubmit: async (e) => {
        e.preventDefault();
        if (reason && !reason.value.trim()) { out.replaceChildren(message('A reason is required to discard.', 'error')); reason.focus(); return; }
        try {
          started(await api('/api/dead-letters/bulk', { method: 'POST', body: { filter: openFilter, action, reason: reason?.value.trim(), confirm: p.count } }));
        } catch (err) { out.replaceChildren(message(err.message, 'error')); }
      } },
        reason ? h('p', {}, h('label', { for: 'bulk-reason' }, 'Reason for discarding (required, audited) '), reason) : '',
        out,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', id: 'bulk-confirm' }, `${verb} ${p.count} dead letters`),
          h('button', { type: 'button', class: 'secondary', onclick: () => panel.replaceChildren() }, 'Cancel')));
      panel.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'bulk-preview-title' },
        h('h3', { id: 'bulk-preview-title', tabindex: '-1' }, `${verb} ${p.count} open dead letters?`),
        h('p', {}, `Selection: ${filterText(p.filter)}. They run at a bounded rate in the background; the job can be cancelled and is listed under `, h('a', { href: '#/bulk-jobs' }, 'Bulk jobs'), '.'),
        breakdownTables(p.breakdown), confirmForm));
      panel.querySelector('h3').focus();
    };
    const run = (action) => preview(action).catch((e) => panel.replaceChildren(message(e.message, 'error')));
    bulk.append(h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => run('replay') }, 'Replay all filtered…'),
      h('button', { type: 'button', class: 'secondary', onclick: () => run('discard') }, 'Discard all filtered…')), panel);
  }
  return h('div', {}, h('h2', {}, 'Dead-letter queue'), form, bulk, box);
}

pages['dead-letters'] = (id) => (id ? deadLetterView(id) : deadLettersView());
