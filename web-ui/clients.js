// NTP clients: the head-end watch (EXE / WARN / FAIL per watched client,
// sortable, a chart per client from its history), then who polls most.
import { el, fmtNs, fmtTime, get, onSnapshot } from './api.js';
import { lineChart } from './charts.js';
import { t } from './i18n.js';

const SEVERITY = { EXE: 0, WARN: 1, FAIL: 2 };
const SYMBOL = { EXE: '✓', WARN: '!', FAIL: '✗' };
// Sort keys: what each header orders by (null sorts last either way).
const COLUMNS = [
  ['name', 'wt.name', (r) => r.name ?? ''],
  ['address', 'wt.address', (r) => r.address],
  ['state', 'wt.state', (r) => SEVERITY[r.state] ?? -1],
  ['reasons', 'wt.reasons', (r) => (r.reasons || []).length],
  ['last_seen', 'wt.last', (r) => r.last_seen_ns],
  ['interval', 'wt.poll', (r) => r.interval_s],
  ['offset', 'wt.offset', (r) => (r.offset_ns == null ? null : Math.abs(r.offset_ns))],
];
// Survives re-renders (one per snapshot) and view changes.
const ui = { sort: 'state', dir: -1, selected: null };
const HISTORY_REFRESH_MS = 5000;

function sorted(rows) {
  const key = (COLUMNS.find((c) => c[0] === ui.sort) || COLUMNS[2])[2];
  return rows.slice().sort((a, b) => {
    const x = key(a), y = key(b);
    if (x == null || y == null) {
      if (x == null && y == null) return a.address.localeCompare(b.address);
      return x == null ? 1 : -1;
    }
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return c * ui.dir || a.address.localeCompare(b.address);
  });
}

function secs(v) { return v == null ? '—' : `${Number(v.toPrecision(3))} s`; }

function offsetText(r) {
  const method = t(`wm.${r.offset_method || 'unknown'}`);
  if (r.offset_ns == null) return method;
  const pm = r.offset_uncertainty_ns == null ? '' : ` ± ${fmtNs(r.offset_uncertainty_ns)}`;
  return `${fmtNs(r.offset_ns)}${pm} (${method})`;
}

function badge(state) {
  return el('span', { class: `ws ws-${String(state).toLowerCase()}` }, `${SYMBOL[state] ?? '?'} ${state}`);
}

function header(col, redraw) {
  const [key, label] = col;
  const on = ui.sort === key;
  return el('th', { 'aria-sort': on ? (ui.dir > 0 ? 'ascending' : 'descending') : null },
    el('button', {
      type: 'button', class: 'sort', 'data-sort': key,
      onclick: () => { ui.dir = on ? -ui.dir : 1; ui.sort = key; redraw(); },
    }, t(label), on ? (ui.dir > 0 ? ' ▲' : ' ▼') : ''));
}

function watchTable(rows, select, redraw) {
  return el('table', { id: 'watch' },
    el('thead', {}, el('tr', {}, COLUMNS.map((c) => header(c, redraw)))),
    el('tbody', {}, sorted(rows).map((r) => el('tr', {
      class: `pick${ui.selected === r.address ? ' on' : ''}`, tabindex: 0,
      'data-address': r.address, 'data-state': r.state,
      onclick: () => select(r),
      onkeydown: (e) => { if (e.key === 'Enter') select(r); },
    },
    el('td', {}, r.name ?? t('wt.learned')),
    el('td', {}, r.address),
    el('td', {}, badge(r.state)),
    el('td', {}, (r.reasons || []).map((c) => t(`wr.${c}`)).join('; ') || '—'),
    el('td', {}, r.last_seen_ns == null ? t('wt.never') : fmtTime(r.last_seen_ns)),
    el('td', {}, `${secs(r.interval_s)} / ${secs(r.expected_interval_s)}`),
    el('td', {}, offsetText(r))))));
}

async function drawChart(box, address) {
  let body;
  try {
    body = await get(`/api/v1/ntp/clients/history?address=${encodeURIComponent(address)}`);
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error' }, e.message));
    return;
  }
  if (ui.selected !== address) return;
  const c = (body.clients || [])[0];
  const pts = c?.points || [];
  const offs = pts.map((p) => ({ t: p.time_ns / 1e6, v: p.offset_ns == null ? null : p.offset_ns / 1e6 }));
  const gaps = pts.map((p) => ({ t: p.time_ns / 1e6, v: p.poll_gap_s }));
  const offChart = lineChart(offs, { unit: ' ms' });
  offChart.id = 'watch-offset';
  const gapChart = lineChart(gaps, { unit: ' s' });
  gapChart.id = 'watch-poll';
  box.replaceChildren(
    el('h3', {}, `${c?.name ?? t('wt.learned')} · ${address}`),
    el('p', { class: 'muted' }, t('wt.chart.offset')), offChart,
    el('p', { class: 'muted' }, t('wt.chart.poll')), gapChart);
}

function topClients(s) {
  const list = Array.isArray(s?.ntp?.top_clients) ? s.ntp.top_clients : [];
  return el('div', { class: 'card' },
    el('h3', {}, `${t('cl.title')} (${s?.ntp?.clients_tracked ?? 0})`),
    list.length === 0 ? el('p', { class: 'muted' }, t('cl.none')) : el('div', { class: 'table-wrap' }, el('table', { id: 'clients' },
      el('thead', {}, el('tr', {}, ['cl.addr', 'cl.requests', 'cl.poll', 'cl.offset', 'cl.last'].map((k) => el('th', {}, t(k))))),
      el('tbody', {}, list.map((c) => el('tr', {},
        el('td', {}, c.addr), el('td', {}, c.requests),
        el('td', {}, c.interval_ns ? fmtNs(c.interval_ns) : '—'),
        el('td', { class: c.offset_alarm ? 'sev-error' : '' }, c.offset_ns == null ? '—' : `${fmtNs(c.offset_ns)}${c.offset_bound_ns == null ? '' : ` ± ${fmtNs(c.offset_bound_ns)}`}`),
        el('td', {}, fmtTime(c.last_seen_ns))))))));
}

export function mount(root) {
  const watchBox = el('div', { class: 'card', id: 'watch-card' });
  const chartBox = el('div', { class: 'card', id: 'watch-chart', hidden: '' });
  const topBox = el('div');
  root.replaceChildren(watchBox, chartBox, topBox);
  let last = null;
  let timer = null;
  const select = (r) => {
    ui.selected = r.address;
    chartBox.hidden = false;
    chartBox.replaceChildren(el('p', { class: 'muted' }, '…'));
    clearInterval(timer);
    drawChart(chartBox, r.address);
    timer = setInterval(() => drawChart(chartBox, r.address), HISTORY_REFRESH_MS);
    redraw();
  };
  function redraw() {
    const s = last;
    const rows = Array.isArray(s?.ntp?.watch) ? s.ntp.watch : [];
    const sum = s?.ntp?.watch_summary;
    watchBox.replaceChildren(
      el('div', { class: 'row between' },
        el('h3', {}, t('wt.title')),
        el('a', { href: '/api/v1/ntp/clients.csv', download: 'ntp-clients.csv', id: 'watch-csv' }, t('wt.csv'))),
      sum ? el('p', { class: 'muted', id: 'watch-summary' },
        badge('EXE'), ` ${sum.exe}  `, badge('WARN'), ` ${sum.warn}  `, badge('FAIL'), ` ${sum.fail}`) : null,
      rows.length === 0 ? el('p', { class: 'muted' }, t('wt.none'))
        : el('div', { class: 'table-wrap' }, watchTable(rows, select, redraw)),
      rows.length ? el('p', { class: 'muted' }, t('wt.hint')) : null);
    topBox.replaceChildren(topClients(s));
  }
  if (ui.selected) select({ address: ui.selected });
  const off = onSnapshot((s) => { last = s; redraw(); });
  return () => { off(); clearInterval(timer); };
}
