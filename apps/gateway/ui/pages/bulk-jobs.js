'use strict';

// Bulk jobs (docs/console.md "Bulk jobs"): every replay or discard of a filtered selection, with its
// progress and final counts as the store has them. Also the shared pieces the dead-letter list uses:
// the preview before a job and the live progress of one.

const finished = (j) => j.finishedAt !== null;

/** "12 of 20: 10 done, 1 failed, 1 skipped" (+ ", 8 cancelled" once a cancelled job has stopped). */
function jobCounts(j) {
  const through = j.done + j.failed + j.skipped;
  return `${through} of ${j.total}: ${j.done} done, ${j.failed} failed, ${j.skipped} skipped${j.cancelled ? `, ${j.cancelled} cancelled` : ''}`;
}

/** The status as shown: running, cancelling (cancel asked, the runner not yet stopped), done, cancelled. */
const jobStatus = (j) => (j.status === 'cancelled' && !finished(j) ? 'cancelling' : j.status);

function filterText(f) {
  const parts = Object.entries(f || {}).filter(([k, v]) => k !== 'recipientIds' && v !== undefined && v !== '').map(([k, v]) => `${k}=${v}`);
  return parts.join(', ') || 'all open';
}

/** A progress bar (its width set through the CSSOM: the CSP refuses inline style attributes). */
function progressBar(j) {
  const fill = h('div', {});
  const pct = j.total ? Math.round(((j.done + j.failed + j.skipped) / j.total) * 100) : 100;
  fill.style.width = `${pct}%`;
  return h('div', { class: 'progress', role: 'progressbar', 'aria-label': `Bulk job ${j.id}`, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) }, fill);
}

/**
 * Polls a job from the store until its runner stopped; `onChange(job)` after each answer. Uses the
 * page's refresh timer, so leaving the page stops it.
 */
function watchJob(id, onChange) {
  clearInterval(refreshTimer);
  const tick = async () => {
    const j = await api(`/api/bulk-jobs/${encodeURIComponent(id)}`);
    onChange(j);
    if (finished(j)) clearInterval(refreshTimer);
  };
  refreshTimer = setInterval(() => tick().catch(() => undefined), 700);
  tick().catch(() => undefined);
}

/** The live state of one job: bar, counts, status, Cancel while it runs. */
function jobPanel(j, onChange) {
  const box = h('div', { class: 'job-progress' });
  const draw = (job) => {
    const status = jobStatus(job);
    box.replaceChildren(
      progressBar(job),
      h('p', { id: 'bulk-status', role: 'status' }, `${jobCounts(job)} – `, h('span', { class: `status-${job.status}` }, status)),
      job.status === 'running' && isOperator() ? h('button', { class: 'secondary', type: 'button', onclick: async () => { draw(await api(`/api/bulk-jobs/${job.id}/cancel`, { method: 'POST' })); } }, 'Cancel job') : '');
    if (onChange) onChange(job);
  };
  draw(j);
  watchJob(j.id, draw);
  return box;
}

/** The breakdown tables of a preview: how many per unit, type and reason. */
function breakdownTables(b) {
  const table = (caption, column, rows, key) => h('table', {},
    h('caption', {}, caption),
    h('tr', {}, h('th', {}, column), h('th', {}, 'Count')),
    rows.map((r) => h('tr', {}, h('td', {}, key(r)), h('td', {}, String(r.count)))));
  return h('div', { class: 'breakdown' },
    table('By unit', 'Unit', b.byUnit, (r) => (r.key ? `${r.name ? `${r.name} ` : ''}${r.key}` : '(none)')),
    table('By type', 'Type', b.byType, (r) => r.key || '(unknown)'),
    table('By reason', 'Reason', b.byReason, (r) => r.key));
}

async function bulkJobsView(id) {
  if (id) {
    const j = await api(`/api/bulk-jobs/${encodeURIComponent(id)}`);
    return h('div', {},
      h('p', {}, h('a', { href: '#/bulk-jobs' }, '← Bulk jobs')),
      h('h2', {}, `Bulk ${j.action} ${j.id}`),
      h('table', {}, [['Started', `${fmtTime(j.createdAt)} by ${j.createdBy}`], ['Selection', filterText(j.filter)], ['Reason', j.reason || '–'],
        ['Finished', j.finishedAt ? fmtTime(j.finishedAt) : '–'], ['Cancelled by', j.cancelledBy || '–']].map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
      h('h3', {}, 'Progress'), jobPanel(j),
      h('p', {}, h('a', { href: `#/audit?job=${encodeURIComponent(j.id)}` }, 'Audit entries of this job'), ' · ',
        h('a', { href: `#/dead-letters?status=resolved` }, 'Resolved dead letters')));
  }
  const table = h('table', { id: 'bulk-jobs' });
  const draw = (jobs) => table.replaceChildren(
    h('tr', {}, ['Job', 'Action', 'Started', 'By', 'Selection', 'Progress', 'Status', 'Finished'].map((t) => h('th', {}, t))),
    ...jobs.map((j) => h('tr', { 'data-job': j.id },
      h('td', {}, h('a', { class: 'row-link', href: `#/bulk-jobs/${encodeURIComponent(j.id)}` }, `Job ${j.id}`)),
      h('td', {}, j.action), h('td', {}, fmtTime(j.createdAt)), h('td', {}, j.createdBy), h('td', {}, filterText(j.filter)),
      h('td', {}, progressBar(j), jobCounts(j)),
      h('td', { class: `status-${j.status}`, 'data-final': finished(j) }, jobStatus(j)),
      h('td', {}, j.finishedAt ? fmtTime(j.finishedAt) : '–'))));
  const jobs = await api('/api/bulk-jobs?limit=100');
  draw(jobs);
  // Live while a job runs (redrawn only then: a redraw would take the keyboard focus away).
  refreshTimer = setInterval(async () => {
    try {
      if (!location.hash.startsWith('#/bulk-jobs') || !table.querySelector('.status-running, .status-cancelled:not([data-final])')) return;
      draw(await api('/api/bulk-jobs?limit=100'));
    } catch { /* next time */ }
  }, 2000);
  return h('div', {}, h('h2', {}, 'Bulk jobs'),
    h('p', { class: 'muted' }, 'Bulk replays and discards of a filtered selection, newest first; counts are those of the store. Start one from the dead-letter list.'),
    jobs.length === 0 ? h('p', { class: 'muted' }, 'No bulk jobs yet.') : h('div', {}, table));
}

pages['bulk-jobs'] = bulkJobsView;
