'use strict';

// Manual dispatch (docs/console.md, Overview, counts and manual dispatch): fallback documents to send
// by fax or letter. A document whose copy was delivered electronically or cancelled meanwhile is
// superseded: shown with why, never offered for sending. Marking sent asks for a confirmation in the
// page, and can be undone for a short while (the API refuses after that).

/** The API's ManualDispatchQuery statuses (schemas/api.schema.json; ui-lists.spec holds them equal). */
const DISPATCH_STATUSES = ['waiting', 'superseded', 'sent', 'withdrawn', 'all'];
/** The API's FallbackTrigger values (schemas/api.schema.json; ui-lists.spec holds them equal). */
const DISPATCH_TRIGGERS = ['deadline-near', 'delivery-overdue', 'retries-exhausted', 'no-electronic-route', 'unknown-recipient', 'follows-original'];
const DISPATCH_PAGE = 50;
const UNDO_SECONDS = 60;

/** What a document's status says, in words. */
function dispatchStatusText(d) {
  if (d.status === 'sent') return `sent by ${d.sentVia}, ${d.sentBy}, ${fmtTime(d.sentAt)}${d.deliveredAt && d.deliveredAt !== d.sentAt ? `; arrives ${fmtTime(d.deliveredAt)}` : ''}`;
  if (d.status === 'withdrawn') return `withdrawn ${fmtTime(d.withdrawnAt)}: cancelled by ${d.withdrawnBy}`;
  if (d.status === 'superseded') {
    return d.supersededBy === 'cancelled'
      ? 'superseded: the copy was cancelled — do not send'
      : `superseded: delivered electronically ${fmtTime(d.copyDeliveredAt)} — do not send`;
  }
  return 'waiting';
}

async function dispatchView(_id, params) {
  const status = DISPATCH_STATUSES.includes(params.get('status')) ? params.get('status') : 'waiting';
  const unit = params.get('unit') || '';
  const trigger = DISPATCH_TRIGGERS.includes(params.get('trigger')) ? params.get('trigger') : '';
  const older = /^\d{1,4}$/.test(params.get('older') || '') ? params.get('older') : '';
  const offset = Math.max(0, Number.parseInt(params.get('offset') || '0', 10) || 0);

  const hashFor = (changes) => {
    const q = new URLSearchParams({ status, unit, trigger, older, offset: String(offset), ...changes });
    for (const [k, v] of [...q.entries()]) if (v === '' || (k === 'offset' && v === '0')) q.delete(k);
    return `#/dispatch?${q}`;
  };

  const form = h('form', { class: 'filters', 'aria-label': 'Filter fallback documents', onsubmit: (e) => {
    e.preventDefault();
    location.hash = hashFor({ status: form.status.value, unit: form.unit.value.trim(), trigger: form.trigger.value, older: form.older.value, offset: '0' });
  } },
    h('label', {}, 'Status', h('select', { name: 'status' }, DISPATCH_STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)))),
    h('label', {}, 'Unit (name or HSA id)', h('input', { name: 'unit', value: unit, maxlength: '100', autocomplete: 'off' })),
    h('label', {}, 'Trigger', h('select', { name: 'trigger' }, h('option', { value: '' }, 'any'), DISPATCH_TRIGGERS.map((t) => h('option', { value: t, selected: t === trigger }, t)))),
    h('label', {}, 'Made more than … hours ago', h('input', { name: 'older', type: 'number', min: '0', max: '8760', inputmode: 'numeric', value: older })),
    h('button', { type: 'submit' }, 'Filter'));

  // What was just done (and its undo); it stays while the list below is loaded again.
  const notice = h('div', { id: 'dispatch-notice', role: 'status', 'aria-live': 'polite' });
  const list = h('div', {});
  let undoTimer;

  const query = new URLSearchParams({ status, offset: String(offset), limit: String(DISPATCH_PAGE) });
  if (unit) query.set('unit', unit);
  if (trigger) query.set('trigger', trigger);
  if (older) query.set('olderThanHours', older);

  const showUndo = (d) => {
    clearInterval(undoTimer);
    const until = Date.now() + UNDO_SECONDS * 1000;
    const left = h('span', {});
    const undo = h('button', { id: 'undo-mark-sent', class: 'secondary', onclick: async () => {
      clearInterval(undoTimer);
      undo.disabled = true;
      try {
        await api(`/api/manual-dispatch/${encodeURIComponent(d.id)}/undo-sent`, { method: 'POST', body: {} });
        notice.replaceChildren(message(`Undone: ${d.reference} is waiting again.`));
      } catch (err) { notice.replaceChildren(message(err.message, 'error')); }
      await load();
    } }, 'Undo');
    const tick = () => {
      const s = Math.ceil((until - Date.now()) / 1000);
      if (s <= 0 || !document.body.contains(notice)) { clearInterval(undoTimer); undo.remove(); left.textContent = ''; return; }
      left.textContent = ` (${s} s)`;
    };
    notice.replaceChildren(h('p', { class: 'ok' }, `Marked sent by ${d.sentVia}: ${d.reference} to `, unitLink(d.recipientHsa), '. ', undo, left));
    tick();
    undoTimer = setInterval(tick, 1000);
  };

  /** The confirmation, in the row: what is about to be recorded, and that it notifies the unit by hand. */
  const confirmIn = (cell, d) => {
    const via = d.kind;
    const back = () => cell.replaceChildren(...actionsOf(d));
    cell.replaceChildren(h('div', { class: 'confirm', role: 'group', 'aria-label': `Confirm marking ${d.reference} sent` },
      h('p', {}, `Record ${d.reference} as sent by ${via} to ${d.recipientHsa}? Only once it has really gone; the copy then counts as delivered by hand.`),
      h('button', { class: 'confirm-mark-sent', onclick: async () => {
        try {
          const sent = await api(`/api/manual-dispatch/${encodeURIComponent(d.id)}/sent`, { method: 'POST', body: { via } });
          showUndo(sent);
        } catch (err) { notice.replaceChildren(message(err.message, 'error')); }
        await load();
      } }, `Yes, sent by ${via}`),
      h('button', { class: 'secondary', onclick: back }, 'Cancel')));
    cell.querySelector('button.confirm-mark-sent').focus();
  };

  const actionsOf = (d) => [
    isOperator() ? h('a', { href: `/api/manual-dispatch/${d.id}/pdf`, download: `${d.reference}.pdf` }, 'PDF') : '',
    d.status === 'waiting' && isOperator()
      ? h('button', { class: 'mark-sent', onclick: (e) => confirmIn(e.target.closest('td'), d) }, `Mark sent by ${d.kind}…`)
      : '',
  ];

  const load = async () => {
    const page = await api(`/api/manual-dispatch?${query}`);
    const from = page.total === 0 ? 0 : page.offset + 1;
    const to = page.offset + page.items.length;
    list.replaceChildren(
      h('p', { id: 'dispatch-counts' }, ...['waiting', 'superseded', 'sent', 'withdrawn'].flatMap((s, i) => [
        i ? ' · ' : '', s === status ? h('strong', {}, `${s} ${page.counts[s]}`) : h('a', { href: hashFor({ status: s, offset: '0' }) }, `${s} ${page.counts[s]}`)])),
      h('p', { id: 'dispatch-total' }, page.total === 0 ? 'No documents match.' : `Showing ${from}–${to} of ${page.total} (${status}), the most urgent first.`),
      page.counts.superseded > 0 && status === 'waiting'
        ? h('p', { class: 'muted' }, `${page.counts.superseded} more were superseded — their copy was delivered electronically or cancelled — and are not to be sent.`)
        : '',
      page.items.length === 0 ? '' : h('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-label': 'Fallback documents' }, (h('table', { id: 'dispatch' },
        h('caption', { class: 'visually-hidden' }, 'Fallback documents'),
        h('thead', {}, h('tr', {}, ['Deadline', 'Message', 'Recipient', 'Kind', 'Trigger', 'Made', 'Copy now', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, page.items.map((d) => h('tr', { 'data-id': d.id, class: `status-${d.status}` },
          h('td', {}, d.deadline ? fmtTime(d.deadline) : '–'), h('td', {}, messageLink(d.messageId)), h('td', {}, unitLink(d.recipientHsa)), h('td', {}, d.kind), h('td', {}, d.trigger),
          h('td', {}, fmtTime(d.createdAt)),
          h('td', {}, d.copyState),
          h('td', { class: 'dispatch-status' }, dispatchStatusText(d)),
          h('td', { class: 'actions-cell' }, ...actionsOf(d)))))))),
      h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages of documents' },
        offset > 0 ? h('a', { href: hashFor({ offset: String(Math.max(0, offset - DISPATCH_PAGE)) }) }, '← Previous') : '',
        to < page.total ? h('a', { href: hashFor({ offset: String(offset + DISPATCH_PAGE) }) }, 'Next →') : ''));
  };
  await load();
  return h('div', {}, h('h2', {}, 'Manual dispatch'), form, notice, list);
}

pages.dispatch = dispatchView;
