// Events: filter by kind and severity, page back, export CSV for a ticket.
import { el, get, fmtTime, onEvent } from './api.js';
import { t } from './i18n.js';

const SEVERITIES = ['info', 'notice', 'warning', 'error', 'critical'];
let rows = [];
let next = null;

function query(before) {
  const p = new URLSearchParams({ limit: '200' });
  const kind = document.getElementById('ev-kind')?.value.trim();
  const sev = document.getElementById('ev-sev')?.value;
  if (kind) p.set('kind', kind);
  if (sev) p.set('severity', sev);
  if (before) p.set('before_id', String(before));
  return `/api/v1/events?${p}`;
}

function details(e) {
  return e.message ?? (e.data != null ? JSON.stringify(e.data) : (e.details ?? ''));
}

export function toCsv(list) {
  const q = (v) => `"${String(v ?? '').replaceAll('"', '""')}"`;
  return ['id,time_utc,kind,severity,message,data',
    ...list.map((e) => [e.id, fmtTime(e.time_ns), e.kind, e.severity, details(e), JSON.stringify(e.data ?? null)].map(q).join(','))].join('\r\n');
}

function table(tbody) {
  tbody.replaceChildren(...rows.map((e) => el('tr', { class: `sev-${e.severity}` },
    el('td', {}, fmtTime(e.time_ns)), el('td', {}, e.kind), el('td', {}, e.severity), el('td', {}, details(e)))));
}

export function mount(root) {
  const tbody = el('tbody', { id: 'events-body' });
  const more = el('button', { type: 'button', id: 'ev-more' }, t('ev.more'));
  const load = async (append) => {
    const r = await get(query(append ? next : null));
    rows = append ? rows.concat(r.events) : r.events;
    next = r.next_before_id;
    more.hidden = next == null;
    table(tbody);
  };
  more.addEventListener('click', () => load(true).catch((e) => console.warn(e)));
  const csv = el('button', { type: 'button', id: 'ev-csv', onclick: () => {
    const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv' }));
    const a = el('a', { href: url, download: `gnss-timeserver-events-${new Date().toISOString().slice(0, 19)}.csv` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } }, t('ev.csv'));
  root.replaceChildren(el('div', { class: 'card' },
    el('h3', {}, t('ev.title')),
    el('form', { class: 'filters', id: 'ev-filter', onsubmit: (e) => { e.preventDefault(); load(false).catch((x) => console.warn(x)); } },
      el('label', {}, `${t('ev.kind')} `, el('input', { id: 'ev-kind', placeholder: 'antenna.state', size: 16 })),
      el('label', {}, `${t('ev.severity')} `, el('select', { id: 'ev-sev' },
        el('option', { value: '' }, t('ev.all')), SEVERITIES.map((s) => el('option', { value: s }, s)))),
      el('button', { type: 'submit' }, t('ev.apply')), csv),
    el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, t('ev.time')), el('th', {}, t('ev.kind')), el('th', {}, 'severity'), el('th', {}, t('ev.details')))),
      tbody)),
    more));
  load(false).catch((e) => console.warn(e));
  // New events arrive through the stream; only unfiltered views take them.
  return onEvent((e) => {
    if (document.getElementById('ev-kind')?.value || document.getElementById('ev-sev')?.value) return;
    rows.unshift(e);
    table(tbody);
  });
}
