// Dashboard: lock banner readable from 2 m, UTC and the site's local time,
// error bound, PPS, frequency/temperature, leap, NTP load, parts.
import { el, fmtNs, fmtNum, fmtTime, live, onSnapshot, get } from './api.js';
import { t, currentLang } from './i18n.js';
import { lineChart } from './charts.js';
import { SPANS, loadHistory, joined } from './history.js';

const CHART_SERIES = ['frequency_ppb', 'temperature_c'];
let span = '1h';
let hist = {};
const livePpm = (p) => p.freq;

let zone = 'UTC';
let served = 0; // served clock minus browser clock, ms
let dstCache = { key: '', value: null };

// Offset of `zone` at `date`, minutes east of UTC (Intl "longOffset": GMT+01:00).
export function zoneOffsetMin(z, date) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: z, timeZoneName: 'longOffset' }).formatToParts(date);
  const name = parts.find((p) => p.type === 'timeZoneName')?.value || 'GMT';
  const m = name.match(/GMT([+-])(\d{1,2}):?(\d{2})?/);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3] || '0', 10));
}

// The next instant the zone's offset changes (within a year), to the minute.
export function nextOffsetChange(z, from) {
  const start = zoneOffsetMin(z, from);
  const step = 6 * 3600e3;
  let a = from.getTime();
  for (let i = 0; i < 4 * 400; i++) {
    const b = a + step;
    if (zoneOffsetMin(z, new Date(b)) !== start) {
      let lo = a, hi = b;
      while (hi - lo > 60e3) {
        const mid = Math.floor((lo + hi) / 2 / 60e3) * 60e3;
        if (mid <= lo) break;
        if (zoneOffsetMin(z, new Date(mid)) === start) lo = mid; else hi = mid;
      }
      return { at: new Date(hi), from: start, to: zoneOffsetMin(z, new Date(hi)) };
    }
    a = b;
  }
  return null;
}

function fmtOffset(min) {
  const s = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  return `UTC${s}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function banner(d) {
  const state = d?.state || 'unknown';
  return el('section', { class: `banner ${state}`, id: 'lock-banner', 'data-state': state },
    el('div', { class: 'state', id: 'lock-state' }, t(`state.${state}`)),
    el('div', { class: 'reason', id: 'lock-reason' }, d?.reason ? String(d.reason).replaceAll('_', ' ') : ''));
}

function clockCard() {
  const now = new Date(Date.now() + served);
  const lang = currentLang();
  let local = '—', off = '—', dst = t('dash.nodst');
  try {
    local = new Intl.DateTimeFormat(lang, { timeZone: zone, dateStyle: 'medium', timeStyle: 'medium' }).format(now);
    off = fmtOffset(zoneOffsetMin(zone, now));
    const key = `${zone}:${Math.floor(now.getTime() / 3600e3)}`;
    if (dstCache.key !== key) dstCache = { key, value: nextOffsetChange(zone, now) };
    const n = dstCache.value;
    if (n) {
      dst = `${new Intl.DateTimeFormat(lang, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' }).format(n.at)} (${fmtOffset(n.from)} → ${fmtOffset(n.to)})`;
    }
  } catch (e) {
    local = `${zone}: ${e.message}`;
  }
  return el('div', { class: 'card', id: 'clock-card' },
    el('h3', {}, t('dash.utc')),
    el('div', { class: 'big', id: 'utc-time' }, now.toISOString().slice(11, 19)),
    el('div', { class: 'muted' }, now.toISOString().slice(0, 10)),
    el('h3', {}, `${t('dash.local')} — ${zone}`),
    el('div', { class: 'big', id: 'local-time' }, local),
    el('dl', { class: 'kv' },
      el('dt', {}, t('dash.offset')), el('dd', { id: 'zone-offset' }, off),
      el('dt', {}, t('dash.nextdst')), el('dd', { id: 'next-dst' }, dst)));
}

function leapText(s) {
  const p = s.discipline?.leap?.pending;
  if (!p) return t('dash.noleap');
  return `${p.insert ? '+1 s' : '−1 s'} @ ${fmtTime(p.at_utc_ns)}`;
}

function reqRate() {
  const s = live.samples;
  if (s.length < 2) return null;
  const a = s[Math.max(0, s.length - 11)], b = s[s.length - 1];
  if (a.reqs == null || b.reqs == null || b.t <= a.t) return null;
  return ((b.reqs - a.reqs) * 1000) / (b.t - a.t);
}

function render(root, s) {
  const d = s.discipline || {};
  const pps = s.pps || {};
  const r = s.receiver || {};
  const parts = Array.isArray(s.parts) ? s.parts : [];
  const spanPick = el('div', { class: 'spans', id: 'chart-span' }, Object.keys(SPANS).map((k) => el('button', {
    type: 'button', class: k === span ? 'on' : '', 'data-span': k,
    onclick: () => { span = k; refresh(root); },
  }, k)));
  root.replaceChildren(
    banner(d),
    el('div', { class: 'grid' },
      clockCard(),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.bound')),
        el('div', { class: 'big', id: 'te-bound' }, fmtNs(d.time_error_bound_ns)),
        el('dl', { class: 'kv' },
          el('dt', {}, t('dash.stratum')), el('dd', {}, s.served?.stratum ?? '—'),
          el('dt', {}, t('dash.since')), el('dd', {}, fmtTime(d.since_ns)))),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.pps')),
        el('div', { class: 'big', id: 'pps-state' }, pps.state ?? '—'),
        el('dl', { class: 'kv' },
          el('dt', {}, t('dash.offsetclock')), el('dd', {}, fmtNs(d.offset_ns)),
          el('dt', {}, t('dash.jitter')), el('dd', {}, fmtNs(pps.interval_jitter_ns)))),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.sats')),
        el('div', { class: 'big' }, `${r.sats_used ?? '—'} / ${r.sats_visible ?? '—'}`),
        el('div', { class: 'muted' }, `${t('dash.used')} / ${t('dash.visible')}`)),
      el('div', { class: 'card', id: 'freq-card' },
        el('h3', {}, t('dash.frequency')), spanPick,
        lineChart(joined((hist.frequency_ppb || []).map((p) => ({ t: p.t, v: p.v / 1000 })), livePpm, span), { unit: '' }),
        el('div', { class: 'muted' }, t('dash.chartnote'))),
      el('div', { class: 'card', id: 'temp-card' },
        el('h3', {}, t('dash.temperature')), lineChart(joined(hist.temperature_c, (p) => p.temp, span), { unit: '' }),
        el('div', { class: 'muted' }, d.temperature_c == null ? t('common.unknown') : `${fmtNum(d.temperature_c)} °C`)),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.leap')), el('div', { class: 'big', id: 'leap' }, leapText(s))),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.ntp')),
        el('div', { class: 'big', id: 'ntp-rate' }, fmtNum(reqRate(), 1)),
        el('div', { class: 'muted' }, `${t('dash.reqs')} · ${s.ntp?.clients_tracked ?? '—'} ${t('dash.clients')}`)),
      el('div', { class: 'card' },
        el('h3', {}, t('dash.parts')),
        el('div', { class: 'parts', id: 'parts' },
          parts.length ? parts.map((p) => el('span', { class: `part ${p.state}`, title: p.last_error || '' },
            `${p.name}: ${p.state}${p.restarts ? ` (${p.restarts}↻)` : ''}`)) : '—'))));
}

let lastSnap = null;

// Load the chosen span (history), then draw with the live samples appended.
function refresh(root) {
  loadHistory(CHART_SERIES, span)
    .then((h) => { hist = h; if (lastSnap) render(root, lastSnap); })
    .catch((e) => console.warn('history', e.message));
  if (lastSnap) render(root, lastSnap);
}

export function mount(root) {
  hist = {};
  refresh(root);
  const reload = setInterval(() => refresh(root), 60e3);
  get('/api/v1/site').then((s) => { zone = s.time_zone || 'UTC'; }).catch(() => {});
  let last = null;
  const draw = () => last && render(root, last);
  const off = onSnapshot((s) => {
    if (s.generated_at_ns) served = s.generated_at_ns / 1e6 - Date.now();
    last = s;
    lastSnap = s;
    draw();
  });
  if (!live.snapshot) root.replaceChildren(banner(null));
  // The clocks tick between snapshots.
  const timer = setInterval(() => {
    const c = root.querySelector('#clock-card');
    if (c) c.replaceWith(clockCard());
  }, 250);
  return () => { off(); clearInterval(timer); clearInterval(reload); };
}
