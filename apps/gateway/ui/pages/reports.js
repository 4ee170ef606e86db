'use strict';

function barChart(series, value, label, max) {
  const width = 640, height = 180, pad = 30;
  const top = Math.max(max ?? 0, ...series.map((r) => value(r) ?? 0), 1);
  const bar = (width - pad) / Math.max(series.length, 1);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 30}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    svg.append(el);
  };
  series.forEach((r, i) => {
    const v = value(r);
    const h = v === null ? 0 : (v / top) * height;
    add('rect', { x: pad + i * bar + 4, y: height - h, width: bar - 8, height: h, fill: r.liableDays ? '#b45309' : '#1f3a5f' });
    add('text', { x: pad + i * bar + bar / 2, y: height + 14, 'font-size': 10, 'text-anchor': 'middle' }, r.month.slice(2));
    if (v !== null) add('text', { x: pad + i * bar + bar / 2, y: height - h - 3, 'font-size': 10, 'text-anchor': 'middle' }, String(v));
  });
  add('text', { x: 0, y: 10, 'font-size': 10 }, String(top));
  add('line', { x1: pad, y1: height, x2: width, y2: height, stroke: '#888' });
  return h('figure', {}, h('figcaption', {}, label), svg);
}

async function reportsView() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const month = params.get('month') || new Date().toISOString().slice(0, 7);
  const municipality = params.get('municipality') || '';
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = `#/reports?month=${form.month.value}&municipality=${encodeURIComponent(form.municipality.value.trim())}`; } },
    h('label', {}, 'Month', h('input', { name: 'month', type: 'month', value: month })),
    h('label', {}, 'Municipality (kommunkod) for the chart', h('input', { name: 'municipality', value: municipality })),
    h('button', { type: 'submit' }, 'Show'),
    h('a', { href: `/api/reports/monthly?month=${month}&format=csv`, download: `svu-report-${month}.csv` }, 'Download CSV'));
  const reports = await api(`/api/reports/monthly?month=${month}`);
  const pct = (x) => (x === null ? '–' : `${Math.round(x * 100)} %`);
  const share = (r) => (r.notifications === 0 ? '– (none due)' : `${pct(r.shareOnTime)} (${r.notificationsOnTime}/${r.notifications})`);
  const table = reports.length === 0 ? h('p', { class: 'muted' }, 'No episodes this month.') : h('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-label': `Follow-up ${month}` }, h('table', { id: 'reports' },
    h('thead', {}, h('tr', {}, ['Group', 'Name', 'Episodes', 'Notifications within 24 h (of those due)', 'Average days waiting', '0', '1', '2', '3', '4–7', '8+', 'Liable days', 'Kronor', 'Rule set', 'Why', 'Deviations'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, reports.map((r) => h('tr', {}, h('td', {}, r.groupBy === 'municipality' ? 'municipality' : 'hospital unit'), h('td', {}, r.name ? `${r.group} ${r.name}` : r.group), h('td', {}, String(r.episodes)),
      h('td', {}, share(r)), h('td', {}, r.averageWaitingDays ?? '–'),
      ...['0', '1', '2', '3', '4-7', '8+'].map((b) => h('td', {}, String(r.waitingDistribution[b]))), h('td', {}, r.liableDays ?? '–'),
      h('td', {}, r.liableKronor === null ? '–' : `${r.liableKronor.toLocaleString('sv-SE')} kr`), h('td', {}, r.ruleSet ?? '–'),
      h('td', { class: 'reason' }, r.liabilityReason ?? '–'),
      h('td', {}, Object.entries(r.deviations).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '–'))))));
  const note = h('p', { class: 'muted' }, 'Notifications within 24 h count only notifications that were due: delivered, or their deadline passed. One whose deadline is still ahead is neither on time nor late.');
  let chart = '';
  let episodes = '';
  if (municipality && !/^\d{4}$/.test(municipality)) {
    chart = h('p', { class: 'error', role: 'alert' }, 'The municipality must be a kommunkod: four digits, e.g. 0680.');
  } else if (municipality) {
    episodes = await episodesOfMunicipality(month, municipality, params.get('after') || '');
    const series = await api(`/api/reports/series?municipality=${encodeURIComponent(municipality)}&month=${month}&months=12`);
    chart = h('div', { id: 'chart' },
      barChart(series, (r) => r.averageWaitingDays, `Municipality ${municipality}: average days waiting after ready-for-discharge (months with liable days in amber)`),
      barChart(series, (r) => (r.shareOnTime === null ? null : Math.round(r.shareOnTime * 100)), `Municipality ${municipality}: admission notifications within 24 hours, %`, 100));
  }
  return h('div', {}, h('h2', {}, `Follow-up ${month}`), form, chart, table, note, episodes);
}

const EPISODES_PAGE = 100;

/** One municipality's episodes of the month, a page at a time, each with its liable days, kronor and the reason. */
async function episodesOfMunicipality(month, municipality, after) {
  const seen = {};
  const query = `month=${month}&municipality=${municipality}`;
  const list = await api(`/api/reports/episodes?${query}&limit=${EPISODES_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`, {
    onHeaders: (headers) => { seen.total = headers.get('x-total-count'); seen.next = headers.get('x-next-after'); },
  });
  const title = h('h3', { id: 'report-episodes-title' }, `Episodes of ${municipality}, ${month}`);
  if (list.length === 0) return h('section', {}, title, h('p', { class: 'muted', id: 'report-episodes-none' }, after ? 'No more episodes.' : 'No episodes this month.'));
  const facts = (e) => e.preconditions.filter((p) => p.required).map((p) => `${p.precondition} ${p.met ? 'met' : 'NOT met'}`).join(', ') || '–';
  const table = h('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-labelledby': 'report-episodes-title' }, h('table', { id: 'report-episodes' },
    h('thead', {}, h('tr', {}, ['Episode', 'Day 0', 'Discharged', 'Days waiting', 'Preconditions', 'Liable days', 'Kronor', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((e) => h('tr', {}, h('td', {}, episodeLink(e.episodeId)), h('td', {}, e.dayZero ?? '–'), h('td', {}, e.dischargeDate ?? '–'),
      h('td', {}, e.waitingDays ?? '–'), h('td', {}, facts(e)), h('td', {}, e.liableDays ?? '–'),
      h('td', {}, e.liableKronor === null || e.liableKronor === undefined ? '–' : `${e.liableKronor.toLocaleString('sv-SE')} kr`),
      h('td', { class: 'reason' }, e.reason))))));
  const more = seen.next ? h('a', { href: `#/reports?${query}&after=${encodeURIComponent(seen.next)}`, id: 'report-episodes-next' }, `Next ${EPISODES_PAGE}`) : '';
  const first = after ? h('a', { href: `#/reports?${query}` }, 'First page') : '';
  return h('section', {}, title,
    h('p', { class: 'muted' }, `${list.length} shown of ${seen.total ?? '?'} (episodes discharged or admitted in the month). `,
      h('a', { href: `/api/reports/episodes?${query}&format=csv&all=true`, download: `svu-episodes-${municipality}-${month}.csv` }, 'Download CSV')),
    table, h('p', {}, first, ' ', more));
}

pages.reports = reportsView;
