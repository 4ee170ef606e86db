'use strict';

/** A last error with where it went and what came back (endpoint, status, the start of the answer). */
const errorDetail = (e) => h('span', {}, e.error,
  e.endpoint ? ` → ${e.endpoint}` : '',
  e.httpStatus !== undefined && e.httpStatus !== null && e.error !== `HTTP ${e.httpStatus}` ? ` HTTP ${e.httpStatus}` : '',
  e.responseStart ? h('span', {}, ' answered ', h('q', { class: 'response' }, e.responseStart)) : '');

// Overview (docs/console.md, Overview, counts and manual dispatch): every count is the store's true
// total; a list that shows only some says how many of how many.

const overviewAge = (s) => (s === null || s === undefined ? '–' : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`);

const scrollTable = (label, table) => h('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-label': label }, table);
// Tables stack into labelled rows at phone width for every page (core.js labels the cells, style.css).

async function overviewView() {
  const box = h('div', {});
  const card = (n, label, { id, cls = '', href } = {}) => {
    const body = [h('div', { class: 'n', ...(id ? { id } : {}) }, String(n)), h('div', {}, label)];
    return h('div', { class: `card ${cls}` }, href ? h('a', { href, class: 'card-link' }, ...body) : body);
  };
  const load = async () => {
    const [o, recipients] = await Promise.all([api('/api/overview'), api('/api/recipients').catch(() => null)]);
    const attention = (recipients || []).filter((r) => r.state === 'failing' || r.state === 'paused');
    box.replaceChildren(
      h('h2', {}, 'Overview'),
      h('div', { class: 'cards' },
        ...Object.entries(o.copiesByState).map(([s, n]) => card(n, `copies ${s}`)),
        card(o.deadLetters, 'open dead letters', { id: 'dead-letter-count', cls: o.deadLetters ? 'bad' : '', href: '#/dead-letters' }),
        card(o.atRiskTotal, 'copies at risk', { id: 'at-risk-count', cls: o.atRiskTotal ? 'warn' : '' }),
        card(o.manualDispatchWaiting, 'waiting for manual dispatch', { id: 'dispatch-waiting-count', href: '#/dispatch' }),
        card(attention.length, 'recipients failing or paused', { id: 'recipients-attention-count', cls: attention.length ? 'bad' : '', href: '#/recipients' }),
        card(o.deliveriesPerMinute, 'deliveries per minute')),
      h('h3', {}, 'Recipients failing or paused'),
      recipients === null ? h('p', { class: 'muted' }, 'Recipient health could not be read.')
        : attention.length === 0 ? h('p', { class: 'muted', id: 'recipients-attention' }, 'None: every recipient is healthy.')
          : scrollTable('Recipients failing or paused', h('table', { id: 'recipients-attention' },
            h('thead', {}, h('tr', {}, ['Recipient', 'State', 'Backlog', 'Oldest waiting', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, attention.map((r) => h('tr', {},
              h('td', {}, h('a', { href: '#/recipients' }, r.name || r.hsaId), r.name ? h('div', { class: 'muted' }, r.hsaId) : ''),
              h('td', { class: `state-${r.state}` }, r.state === 'failing' ? `failing since ${fmtTime(r.failingSince)}` : `paused by ${r.pausedBy || ''}`),
              h('td', {}, String(r.backlog)),
              h('td', {}, overviewAge(r.oldestWaitingSeconds)),
              h('td', {}, r.lastError || '')))))),
      attention.length === 0 ? '' : h('p', {}, h('a', { href: '#/recipients' }, 'All recipients: retry now, pause, resume →')),
      h('h3', {}, 'Deadlines at risk'),
      o.atRiskTotal === 0 ? h('p', { class: 'muted' }, 'None.') : h('div', {},
        h('p', { id: 'at-risk-shown' }, o.atRiskTotal > o.atRisk.length
          ? `Showing the ${o.atRisk.length} nearest of ${o.atRiskTotal} (the list holds at most ${o.atRiskLimit}).`
          : `All ${o.atRiskTotal}, the nearest first.`),
        scrollTable('Deadlines at risk', h('table', { id: 'at-risk' },
          h('thead', {}, h('tr', {}, ['Message', 'Recipient', 'State', 'Deadline', 'Time left', 'Fallback'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, o.atRisk.map((r) => h('tr', {}, h('td', {}, messageLink(r.messageId)), h('td', {}, unitLink(r.recipientHsa)), h('td', {}, r.state), h('td', {}, fmtTime(r.notifyBy)),
            h('td', { class: r.secondsLeft < 0 ? 'late' : '' }, timeLeft(r.secondsLeft)), h('td', {}, r.fallback ? 'produced' : ''))))))),
      h('h3', {}, 'Last errors'),
      o.lastErrors.length === 0 ? h('p', { class: 'muted' }, 'None.') : scrollTable('Last errors', h('table', {},
        h('thead', {}, h('tr', {}, ['When', 'Message', 'Recipient', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, o.lastErrors.map((e) => h('tr', {}, h('td', {}, fmtTime(e.at)), h('td', {}, messageLink(e.messageId)), h('td', {}, unitLink(e.recipientHsa)), h('td', {}, errorDetail(e))))))),
      h('p', { class: 'muted' }, `Refreshes every 10 s. Last: ${new Date().toLocaleTimeString('sv-SE')}`));
  };
  await load();
  refreshTimer = setInterval(() => load().catch(() => undefined), 10_000);
  return box;
}

pages.overview = overviewView;
