'use strict';

// Recipients page (docs/recovery.md): each recipient's health and backlog; operators can retry now,
// pause and resume.

const ageText = (s) => (s === null || s === undefined ? '' : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`);

async function recipientsView() {
  const box = h('div', {});
  const status = h('div', {});
  const act = async (r, action, button) => {
    let body;
    if (action === 'pause') {
      const reason = await askReason(button, { label: `Pause ${r.name || r.hsaId}: its copies wait until resumed (deadlines and fallback still run). Reason (audited):`, submit: 'Pause', value: 'announced maintenance' });
      if (reason === null) return;
      body = { reason };
    }
    try {
      await api(`/api/recipients/${encodeURIComponent(r.hsaId)}/${action}`, { method: 'POST', body: body ?? {} });
      status.replaceChildren(message(`${action === 'retry' ? 'Retry now' : action === 'pause' ? 'Paused' : 'Resumed'}: ${r.hsaId}`));
    } catch (err) { status.replaceChildren(message(err.message, 'error')); }
    await load();
  };
  const load = async () => {
    const rows = await api('/api/recipients');
    box.replaceChildren(
      h('h2', {}, 'Recipients'),
      status,
      h('table', { id: 'recipients' },
        h('tr', {}, ['Recipient', 'Transport', 'State', 'Backlog', 'Oldest waiting', 'Last error', 'Last success', 'Next probe', ''].map((t) => h('th', {}, t))),
        rows.map((r) => h('tr', { 'data-hsa': r.hsaId },
          h('td', {}, h('div', {}, r.name || ''), h('div', { class: 'muted' }, r.hsaId)),
          h('td', {}, r.transport || ''),
          h('td', { class: `state-${r.state}` }, r.state === 'failing' ? `failing since ${fmtTime(r.failingSince)}` : r.state === 'paused' ? `paused by ${r.pausedBy || ''}, ${fmtTime(r.pausedAt)}${r.pauseReason ? `: ${r.pauseReason}` : ''}` : 'healthy'),
          h('td', {}, String(r.backlog)),
          h('td', {}, ageText(r.oldestWaitingSeconds)),
          h('td', {}, r.lastError ? `${r.lastError} (${fmtTime(r.lastFailureAt)})` : ''),
          h('td', {}, fmtTime(r.lastSuccessAt)),
          h('td', {}, fmtTime(r.nextProbeAt)),
          h('td', { class: 'actions' }, isOperator() ? [
            r.state !== 'paused' ? h('button', { class: 'secondary', onclick: () => act(r, 'retry') }, 'Retry now') : '',
            r.state === 'paused' ? h('button', { onclick: () => act(r, 'resume') }, 'Resume') : h('button', { class: 'secondary', onclick: (e) => act(r, 'pause', e.currentTarget) }, 'Pause'),
          ] : '')))),
      h('p', { class: 'muted' }, 'Backlog and oldest waiting are counted every few seconds. A failing recipient is probed with one copy at a time; the first success sends its whole backlog.'));
  };
  await load();
  refreshTimer = setInterval(() => { if (location.hash.startsWith('#/recipients')) load().catch(() => undefined); }, 5000);
  return box;
}

pages.recipients = () => recipientsView();
