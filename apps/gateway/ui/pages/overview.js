'use strict';

async function overviewView() {
  const box = h('div', {});
  const load = async () => {
    const o = await api('/api/overview');
    box.replaceChildren(
      h('h2', {}, 'Overview'),
      h('div', { class: 'cards' },
        ...Object.entries(o.copiesByState).map(([s, n]) => h('div', { class: 'card' }, h('div', { class: 'n' }, String(n)), h('div', {}, `copies ${s}`))),
        h('div', { class: `card ${o.deadLetters ? 'bad' : ''}` }, h('div', { class: 'n', id: 'dead-letter-count' }, String(o.deadLetters)), h('div', {}, 'dead letters')),
        h('div', { class: `card ${o.atRisk.length ? 'warn' : ''}` }, h('div', { class: 'n' }, String(o.atRisk.length)), h('div', {}, 'copies at risk')),
        h('div', { class: 'card' }, h('div', { class: 'n' }, String(o.manualDispatchWaiting)), h('div', {}, 'waiting for manual dispatch')),
        h('div', { class: 'card' }, h('div', { class: 'n' }, String(o.deliveriesPerMinute)), h('div', {}, 'deliveries per minute'))),
      h('h3', {}, 'Deadlines at risk'),
      o.atRisk.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
        h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'Recipient'), h('th', {}, 'State'), h('th', {}, 'Deadline'), h('th', {}, 'Time left'), h('th', {}, 'Fallback')),
        o.atRisk.map((r) => h('tr', {}, h('td', {}, r.messageId), h('td', {}, r.recipientHsa), h('td', {}, r.state), h('td', {}, fmtTime(r.notifyBy)),
          h('td', { class: r.secondsLeft < 0 ? 'late' : '' }, timeLeft(r.secondsLeft)), h('td', {}, r.fallback ? 'produced' : '')))),
      h('h3', {}, 'Last errors'),
      o.lastErrors.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', {},
        h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Message'), h('th', {}, 'Recipient'), h('th', {}, 'Error')),
        o.lastErrors.map((e) => h('tr', {}, h('td', {}, fmtTime(e.at)), h('td', {}, e.messageId), h('td', {}, e.recipientHsa), h('td', {}, e.error)))),
      h('p', { class: 'muted' }, `Refreshes every 10 s. Last: ${new Date().toLocaleTimeString('sv-SE')}`));
  };
  await load();
  refreshTimer = setInterval(() => load().catch(() => undefined), 10_000);
  return box;
}

pages.overview = overviewView;
