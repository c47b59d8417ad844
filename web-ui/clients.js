// NTP clients: who polls, how often, their estimated offset.
import { el, fmtNs, fmtTime, onSnapshot } from './api.js';
import { t } from './i18n.js';

function render(root, s) {
  const list = Array.isArray(s?.ntp?.top_clients) ? s.ntp.top_clients : [];
  root.replaceChildren(el('div', { class: 'card' },
    el('h3', {}, `${t('cl.title')} (${s?.ntp?.clients_tracked ?? 0})`),
    list.length === 0 ? el('p', { class: 'muted' }, t('cl.none')) : el('div', { class: 'table-wrap' }, el('table', { id: 'clients' },
      el('thead', {}, el('tr', {}, ['cl.addr', 'cl.requests', 'cl.poll', 'cl.offset', 'cl.last'].map((k) => el('th', {}, t(k))))),
      el('tbody', {}, list.map((c) => el('tr', {},
        el('td', {}, c.addr), el('td', {}, c.requests),
        el('td', {}, c.interval_ns ? fmtNs(c.interval_ns) : '—'),
        el('td', { class: c.offset_alarm ? 'sev-error' : '' }, c.offset_ns == null ? '—' : `${fmtNs(c.offset_ns)}${c.offset_bound_ns == null ? '' : ` ± ${fmtNs(c.offset_bound_ns)}`}`),
        el('td', {}, fmtTime(c.last_seen_ns)))))))));
}

export function mount(root) {
  return onSnapshot((s) => render(root, s));
}
