'use strict';

async function deadLetterView(id) {
  const d = await api(`/api/dead-letters/${id}`);
  const out = h('div', { id: 'action-result' });
  const act = async (fn) => {
    try {
      const r = await fn();
      out.replaceChildren(message(`Done: ${r.status}${r.messageId ? ` (${r.messageId})` : ''}`));
      setTimeout(() => { if (location.hash === `#/dead-letters/${id}`) render(); }, 1500);
    }
    catch (err) {
      const problems = err.body?.message?.problems || err.body?.problems;
      out.replaceChildren(message(err.message, 'error'), problems ? h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, `${p.path}: ${p.message}`))) : '');
    }
  };
  const editor = h('textarea', { id: 'payload-editor', spellcheck: 'false' }, d.payload ?? '');
  const actions = isOperator() && !d.resolvedAt ? h('div', {},
    h('div', { class: 'actions' },
      h('button', { id: 'replay', onclick: () => act(() => api(`/api/dead-letters/${id}/replay`, { method: 'POST' })) }, 'Replay'),
      h('button', { class: 'secondary', onclick: () => { const reason = prompt('Reason for discarding (required):'); if (reason) act(() => api(`/api/dead-letters/${id}/discard`, { method: 'POST', body: { reason } })); } }, 'Discard…')),
    d.payload !== null ? h('div', {}, h('h3', {}, 'Correct and replay'), editor,
      h('div', { class: 'actions' }, h('button', { id: 'correct', onclick: () => act(() => api(`/api/dead-letters/${id}/correct`, { method: 'POST', body: { payload: editor.value, dialect: d.dialect } })) }, 'Validate and replay the corrected message'))) : '') : '';
  return h('div', {},
    h('p', {}, h('a', { href: '#/dead-letters' }, '← Dead letters')),
    h('h2', {}, `Dead letter ${d.id}: ${d.reason}`),
    h('table', {}, [['Message id', d.messageId], ['Episode', d.episodeId], ['Type', d.type], ['Dialect', d.dialect], ['Recipient', d.recipientHsa], ['Created', fmtTime(d.createdAt)], ['Last error', d.lastError],
      ['Resolution', d.resolvedAt ? `${d.resolution} by ${d.resolvedBy} at ${fmtTime(d.resolvedAt)} ${d.resolutionDetail || ''}` : 'open']].map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v ?? '–')))),
    d.problems.length ? h('div', {}, h('h3', {}, 'Problems'), h('ul', { class: 'problems' }, d.problems.map((p) => h('li', {}, `${p.path}: ${p.message}`)))) : '',
    d.attempts.length ? h('div', {}, h('h3', {}, 'Delivery history'), h('table', {}, d.attempts.map((a) => h('tr', {}, h('td', {}, fmtTime(a.at)), h('td', {}, a.state), h('td', {}, a.detail || ''))))) : '',
    out, actions,
    h('h3', {}, 'Canonical form'), d.canonical ? h('pre', {}, JSON.stringify(d.canonical, null, 2)) : h('p', { class: 'muted' }, 'Not readable.'),
    h('h3', {}, 'Original payload'), d.payloadHidden ? h('p', { class: 'muted' }, 'Shown to operators only (holds identity numbers).') : h('pre', {}, d.payload ?? ''));
}

// Registered by dead-letters.js: #/dead-letters/<id>.
