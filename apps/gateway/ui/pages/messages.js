'use strict';

// Find: search by message id, episode id or (operators) identity number, and a message's timeline.

const stateText = (state) => h('span', { class: `state state-${state}` }, state);
const senderOf = (m) => h('span', {}, unitLink(m.senderHsa, m.senderName),
  m.senderSystem ? h('span', { class: 'muted' }, ` via ${m.senderSystemName || m.senderSystem}`) : '');
const wrap = (table) => h('div', { class: 'table-wrap' }, table);

/** A failed attempt's detail: where it went, the HTTP status (unless `error` already says it), the start of the answer. */
function attemptText(a, error) {
  if (!a) return '';
  const status = a.status !== undefined && a.status !== null && error !== `HTTP ${a.status}` ? ` HTTP ${a.status}` : '';
  return h('span', { class: 'attempt' },
    ' → ', h('span', { class: 'endpoint' }, a.endpoint), status,
    a.responseStart ? h('span', {}, ' answered ', h('q', { class: 'response' }, a.responseStart)) : '');
}

async function messageSearchView(params) {
  const q = params.get('q') || '';
  const input = h('input', { id: 'find-q', name: 'q', value: q, maxlength: '200', autocomplete: 'off', required: true, inputmode: 'text' });
  const form = h('form', { class: 'search', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/messages?${new URLSearchParams({ q: input.value.trim() })}`;
  } },
    h('label', { for: 'find-q' }, isOperator() ? 'Message id, episode id or identity number' : 'Message id or episode id', input),
    h('button', { type: 'submit' }, 'Find'));
  const hint = h('p', { class: 'muted' }, isOperator()
    ? 'Every state: accepted, routed, retrying, delivered, dead-lettered, cancelled, refused at ingress. A search by identity number is recorded in the audit log (the number is not).'
    : 'Every state: accepted, routed, retrying, delivered, dead-lettered, cancelled, refused at ingress.');
  if (!q) return h('div', {}, h('h2', {}, 'Find a message'), form, hint);
  let result;
  try { result = await api(`/api/messages?${new URLSearchParams({ q })}`); }
  catch (err) { return h('div', {}, h('h2', {}, 'Find a message'), form, message(err.message, 'error')); }
  // data-label: the column's name, shown beside each value where a phone stacks the cells.
  const rows = result.items.map((m) => h('tr', {},
    h('td', { 'data-label': 'Message id' }, m.refusedAs ? (m.messageId || '–') : messageLink(m.messageId)),
    h('td', { 'data-label': 'Type' }, m.type || '–'),
    h('td', { 'data-label': 'Sender' }, m.senderHsa ? senderOf(m) : (m.senderSystem ? `${m.senderSystemName || m.senderSystem}` : '–')),
    h('td', { 'data-label': 'Episode' }, m.episodeId || '–'),
    h('td', { 'data-label': 'Received' }, fmtTime(m.receivedAt)),
    h('td', { 'data-label': 'Copies' }, m.refusedAs
      ? h('span', {}, 'refused at ingress: ', h('a', { href: `#/dead-letters/${m.deadLetterId}` }, m.refusedAs))
      : m.copies.length === 0 ? h('span', { class: 'muted' }, 'no copies')
        : h('ul', { class: 'copy-states' }, m.copies.map((c) => h('li', {}, unitLink(c.recipientHsa, c.recipientName), ': ', stateText(c.state)))))));
  const found = result.items.length === 0
    ? h('p', { id: 'find-none', class: 'muted', role: 'status' }, `Nothing found for “${q}”.`)
    : wrap(h('table', { id: 'find-results' },
      h('caption', { class: 'muted' }, `${result.items.length}${result.items.length >= result.limit ? '+' : ''} found${result.byIdentityNumber ? ' (also by identity number)' : ''}, newest first`),
      h('tr', { class: 'head' }, ['Message id', 'Type', 'Sender', 'Episode', 'Received', 'Copies'].map((t) => h('th', { scope: 'col' }, t))),
      rows));
  return h('div', {}, h('h2', {}, 'Find a message'), form, hint, found);
}

/**
 * A copy's events in time order, a run of the same failure shown once with its count: the sending
 * before each attempt's outcome is implied by it.
 */
function eventRuns(events) {
  const runs = [];
  events.forEach((e, i) => {
    if (e.state === 'sending' && events[i + 1] && events[i + 1].state !== 'sending') return;
    const key = `${e.state}|${e.detail}|${JSON.stringify(e.attempt)}`;
    const last = runs[runs.length - 1];
    if (last && last.key === key) { last.count += 1; last.until = e.at; } else runs.push({ ...e, key, count: 1, until: e.at });
  });
  return runs;
}

function copySection(c) {
  const events = eventRuns(c.events).map((e) => h('li', {},
    h('time', { datetime: e.at }, fmtTime(e.at)), ' ', stateText(e.state),
    e.detail ? h('span', {}, ': ', e.detail) : '', attemptText(e.attempt, e.detail),
    e.count > 1 ? h('span', { class: 'muted' }, ` – ${e.count} times, the last at ${fmtTime(e.until)}`) : ''));
  return h('section', { class: 'copy', 'aria-label': `Copy to ${c.recipientName || c.recipientHsa}` },
    h('h4', {}, 'To ', unitLink(c.recipientHsa, c.recipientName), ' – ', stateText(c.state)),
    h('p', { class: 'muted' }, [
      `${c.recipientRole}`, c.dialect ? `, ${c.dialect}` : '', `, ${c.attempts} attempt(s)`,
      c.deliveredAt ? `, delivered ${fmtTime(c.deliveredAt)}` : '',
      c.acknowledgedAt ? `, acknowledged ${fmtTime(c.acknowledgedAt)}` : '',
      c.manualDeliveredAt ? `, delivered by hand ${fmtTime(c.manualDeliveredAt)}` : '',
      c.notifyBy ? `, notify by ${fmtTime(c.notifyBy)}` : ''].join('')),
    c.lastError ? h('p', { class: 'error' }, 'Last error: ', c.lastError, attemptText(c.lastAttempt, c.lastError)) : '',
    h('ol', { class: 'attempts' }, events));
}

function timelineMessage(m) {
  const facts = [['Message id', m.messageId], ['Type', m.type], ['Episode', m.episodeId], ['Sender unit', unitLink(m.senderHsa, m.senderName)],
    ['Sender system', m.senderSystem ? `${m.senderSystemName || m.senderSystem} (${m.senderSystem})` : '–'], ['Dialect', m.dialect], ['Came in over', m.ingress],
    ['Sent', fmtTime(m.sentAt)], ['Received', fmtTime(m.receivedAt)], ['Notify by', m.notifyBy ? fmtTime(m.notifyBy) : '–'],
    ['Late on arrival', m.lateOnArrival ? 'yes' : 'no']];
  if (m.cancelsMessageId) facts.push(['Cancels', messageLink(m.cancelsMessageId)]);
  if (m.acknowledgesMessageId) facts.push(['Acknowledges', messageLink(m.acknowledgesMessageId)]);
  if (m.payloadPrunedAt) facts.push(['Payload removed', fmtTime(m.payloadPrunedAt)]);
  return h('article', { class: 'timeline' },
    h('div', { class: 'table-wrap' }, h('table', { class: 'facts' }, facts.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v ?? '–'))))),
    h('h3', {}, `Copies (${m.copies.length})`),
    m.copies.length ? m.copies.map(copySection) : h('p', { class: 'muted' }, 'None.'),
    h('h3', {}, 'Fallback documents'),
    m.documents.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('ul', {}, m.documents.map((d) => h('li', {},
      `${d.kind} ${d.reference} for `, unitLink(d.recipientHsa, d.recipientName), ` (${d.trigger}) made ${fmtTime(d.createdAt)}: ${d.status}`,
      d.sentAt ? ` by ${d.sentVia} ${fmtTime(d.sentAt)}${d.sentBy ? ` (${d.sentBy})` : ''}` : '', d.withdrawnAt ? ` – withdrawn ${fmtTime(d.withdrawnAt)}` : ''))),
    h('h3', {}, 'Dead letters'),
    m.deadLetters.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('ul', {}, m.deadLetters.map((d) => h('li', {},
      h('a', { href: `#/dead-letters/${d.id}` }, `Dead letter ${d.id}`), ` ${d.reason}`, d.recipientHsa ? h('span', {}, ' for ', unitLink(d.recipientHsa, d.recipientName)) : '',
      ` at ${fmtTime(d.createdAt)}`, d.lastError ? `: ${d.lastError}` : '', d.resolvedAt ? ` – ${d.resolution} by ${d.resolvedBy} ${fmtTime(d.resolvedAt)}` : ' – open'))),
    h('h3', {}, 'Cancellation'),
    m.cancellations.length === 0 ? h('p', { class: 'muted' }, 'Not cancelled.') : h('ul', {}, m.cancellations.map((x) => h('li', {}, 'Cancelled by ', messageLink(x.cancelledBy), ` at ${fmtTime(x.cancelledAt)}`))),
    h('h3', {}, 'Acknowledgements'),
    m.acknowledgements.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('ul', {}, m.acknowledgements.map((a) => h('li', {},
      messageLink(a.messageId), ` ${a.status || ''} from `, unitLink(a.senderHsa, a.senderName), ` at ${fmtTime(a.receivedAt)}`))));
}

async function messageTimelineView(id) {
  const t = await api(`/api/messages/${encodeURIComponent(id)}`);
  return h('div', {},
    h('p', {}, h('a', { href: '#/messages' }, '← Find')),
    h('h2', {}, `Message ${t.messageId}`),
    t.messages.length > 1 ? h('p', { class: 'muted' }, `${t.messages.length} sender systems used this message id; each message is shown.`) : '',
    t.messages.map(timelineMessage),
    t.refused.length === 0 ? '' : h('div', {}, h('h3', {}, 'Refused at ingress'), h('ul', {}, t.refused.map((r) => h('li', {},
      h('a', { href: `#/dead-letters/${r.deadLetterId}` }, `Dead letter ${r.deadLetterId}`), ` ${r.reason} at ${fmtTime(r.at)}`,
      r.senderSystem ? ` from ${r.senderSystemName || r.senderSystem}` : '', r.dialect ? ` (${r.dialect})` : '')))));
}

pages.messages = (id, params) => (id ? messageTimelineView(id) : messageSearchView(params));
