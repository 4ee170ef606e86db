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
  // The payload in the message's own dialect and encoding (webcare: Latin-1), validated and replayed in that dialect.
  const editor = h('textarea', { id: 'payload-editor', spellcheck: 'false', 'aria-describedby': 'payload-editor-help' }, d.payload ?? '');
  const correct = () => act(() => api(`/api/dead-letters/${id}/correct`, { method: 'POST', body: { payload: editor.value, dialect: d.dialect } }));
  const actions = isOperator() && !d.resolvedAt ? h('div', {},
    h('div', { class: 'actions' },
      d.replayable
        ? h('button', { id: 'replay', onclick: () => act(() => api(`/api/dead-letters/${id}/replay`, { method: 'POST' })) }, 'Replay')
        : d.payload !== null ? h('button', { id: 'correct-jump', onclick: () => editor.focus() }, 'Correct') : '',
      h('button', { class: 'secondary', id: 'discard', onclick: async (e) => {
        const reason = await askReason(e.currentTarget, { label: 'Reason for discarding (required, audited)', submit: 'Discard' });
        if (reason) act(() => api(`/api/dead-letters/${id}/discard`, { method: 'POST', body: { reason } }));
      } }, 'Discard…')),
    d.replayable ? '' : h('p', { class: 'muted' }, 'This message does not pass validation as it is: a replay would fail again. Correct it below.'),
    d.payload !== null ? h('div', {}, h('h3', {}, 'Correct and replay'),
      h('label', { for: 'payload-editor' }, `Payload (${d.dialect}${d.payloadCharset === 'iso-8859-1' ? ', ISO-8859-1' : ''})`),
      h('p', { id: 'payload-editor-help', class: 'muted' }, d.recipientDialect && d.recipientDialect !== d.dialect
        ? `Edit the message as its sender wrote it, in ${d.dialect}. It is validated in ${d.dialect}, then routed and translated to ${d.recipientDialect} for the recipient.`
        : `Edit the message as its sender wrote it, in ${d.dialect}. It is validated in ${d.dialect}, then routed to its recipients.`),
      editor,
      h('div', { class: 'actions' }, h('button', { id: 'correct', onclick: correct }, 'Validate and replay the corrected message'))) : '') : '';
  const attempt = (a, error) => (a ? h('span', {}, ' → ', a.endpoint, a.status !== undefined && a.status !== null && error !== `HTTP ${a.status}` ? ` HTTP ${a.status}` : '', a.responseStart ? h('span', {}, ' answered ', h('q', { class: 'response' }, a.responseStart)) : '') : '');
  const sender = d.senderHsa || d.senderSystem
    ? h('span', {}, d.senderHsa ? unitLink(d.senderHsa, d.senderName) : 'unit unknown', d.senderSystem ? h('span', { class: 'muted' }, ` via ${d.senderSystemName || d.senderSystem}`) : '')
    : '–';
  return h('div', {},
    h('p', {}, h('a', { href: '#/dead-letters' }, '← Dead letters')),
    h('h2', {}, `Dead letter ${d.id}: ${d.reason}`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'facts' }, [['Message id', d.messageId ? messageLink(d.messageId) : '–'], ['Episode', d.episodeId], ['Type', d.type], ['Sender', sender],
      ['Dialect', d.recipientDialect && d.recipientDialect !== d.dialect ? `${d.dialect} (recipient: ${d.recipientDialect})` : d.dialect],
      ['Recipient', d.recipientHsa ? unitLink(d.recipientHsa, d.recipientName) : '–'], ['Created', fmtTime(d.createdAt)],
      ['Last error', d.lastError ? h('span', {}, d.lastError, attempt(d.lastAttempt, d.lastError)) : '–'],
      ['Resolution', d.resolvedAt ? `${d.resolution} by ${d.resolvedBy} at ${fmtTime(d.resolvedAt)} ${d.resolutionDetail || ''}` : 'open']].map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v ?? '–'))))),
    d.problems.length ? h('div', {}, h('h3', {}, 'Problems'), h('ul', { class: 'problems' }, d.problems.map((p) => h('li', {}, `${p.path}: ${p.message}`)))) : '',
    d.attempts.length ? h('div', {}, h('h3', {}, 'Delivery history'), h('ol', { class: 'attempts' }, d.attempts.map((a) => h('li', {}, fmtTime(a.at), ' ', h('strong', {}, a.state), a.detail ? `: ${a.detail}` : '', attempt(a.attempt, a.detail))))) : '',
    out, actions,
    h('h3', {}, 'Canonical form'), d.canonical ? h('pre', { tabindex: '0', 'aria-label': 'Canonical form' }, JSON.stringify(d.canonical, null, 2)) : h('p', { class: 'muted' }, 'Not readable.'),
    h('h3', {}, `Original payload${d.dialect ? ` (${d.dialect})` : ''}`), d.payloadHidden ? h('p', { class: 'muted' }, 'Shown to operators only (holds identity numbers).') : h('pre', { tabindex: '0', 'aria-label': 'Original payload' }, d.payload ?? ''));
}

// Registered by dead-letters.js: #/dead-letters/<id>.
