'use strict';

// Deviations (docs/console.md, Overview, counts and manual dispatch): paged, with the true total and
// the size of a page stated.

const DEVIATION_KINDS = ['late-on-arrival', 'deadline-missed', 'rejected-by-recipient', 'dead-lettered', 'cancellation-not-owner', 'acknowledgement-not-addressed'];
const DEVIATION_PAGE = 200;

async function deviationsView(_id, params) {
  const kind = DEVIATION_KINDS.includes(params.get('kind')) ? params.get('kind') : '';
  const unit = params.get('unit') || '';
  const from = /^\d{4}-\d{2}-\d{2}$/.test(params.get('from') || '') ? params.get('from') : '';
  const to = /^\d{4}-\d{2}-\d{2}$/.test(params.get('to') || '') ? params.get('to') : '';
  const offset = Math.max(0, Number.parseInt(params.get('offset') || '0', 10) || 0);
  const hashFor = (changes) => {
    const q = new URLSearchParams({ kind, unit, from, to, offset: String(offset), ...changes });
    for (const [k, v] of [...q.entries()]) if (v === '' || (k === 'offset' && v === '0')) q.delete(k);
    return `#/deviations?${q}`;
  };
  const form = h('form', { class: 'filters', 'aria-label': 'Filter deviations', onsubmit: (e) => {
    e.preventDefault();
    location.hash = hashFor({ kind: form.kind.value, unit: form.unit.value.trim(), from: form.from.value, to: form.to.value, offset: '0' });
  } },
    h('label', {}, 'Kind', h('select', { name: 'kind' }, h('option', { value: '' }, 'any'), DEVIATION_KINDS.map((k) => h('option', { value: k, selected: k === kind }, k)))),
    h('label', {}, 'Unit (HSA id)', h('input', { name: 'unit', value: unit, autocomplete: 'off' })),
    h('label', {}, 'From', h('input', { name: 'from', type: 'date', value: from })),
    h('label', {}, 'Before', h('input', { name: 'to', type: 'date', value: to })),
    h('button', { type: 'submit' }, 'Filter'));
  const q = new URLSearchParams({ limit: String(DEVIATION_PAGE), offset: String(offset) });
  if (kind) q.set('kind', kind);
  if (unit) q.set('unit', unit);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const page = await api(`/api/deviations?${q}`);
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.items.length;
  return h('div', {}, h('h2', {}, 'Deviations'), form,
    h('p', { id: 'deviations-total' }, page.total === 0 ? 'None.' : `Showing ${first}–${last} of ${page.total}, newest first (${page.limit} per page).`),
    page.items.length === 0 ? '' : h('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-label': 'Deviations' }, (h('table', { id: 'deviations' },
      h('thead', {}, h('tr', {}, ['When', 'Kind', 'Message', 'Unit', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, page.items.map((d) => h('tr', {}, h('td', {}, fmtTime(d.at)), h('td', {}, d.kind), h('td', {}, messageLink(d.messageId)), h('td', {}, unitLink(d.unitHsa)),
        h('td', {}, typeof d.detail === 'string' ? d.detail : d.detail === null || d.detail === undefined ? '' : JSON.stringify(d.detail)))))))),
    h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages of deviations' },
      offset > 0 ? h('a', { href: hashFor({ offset: String(Math.max(0, offset - DEVIATION_PAGE)) }) }, '← Newer') : '',
      last < page.total ? h('a', { href: hashFor({ offset: String(offset + DEVIATION_PAGE) }) }, 'Older →') : ''));
}

pages.deviations = deviationsView;
