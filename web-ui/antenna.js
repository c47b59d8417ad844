// Antenna: state and power, AGC/noise/jamming, a checklist that follows the
// state and says what it concluded, the obstruction map, survey-in.
import { el, fmtNum, fmtTime, onSnapshot, get } from './api.js';
import { loadHistory, joined } from './history.js';
import { t } from './i18n.js';
import { lineChart, svg } from './charts.js';
import { cn0Colour } from './sky.js';

const MIN_USED = 4;

// Which checklist steps matter now, which one is next, and the conclusion.
export function diagnose(status, power, used, jamming) {
  const steps = ['cable', 'voltage', 'short', 'othercable', 'placement', 'sats'];
  if (status === 'short') return { steps, now: 'short', done: ['cable'], conclusion: 'ant.k.short' };
  if (status === 'open') return { steps, now: 'cable', done: [], conclusion: 'ant.k.open' };
  if (status === 'ok' && (used ?? 0) < MIN_USED) {
    return { steps, now: 'placement', done: ['cable', 'voltage', 'short'], conclusion: 'ant.k.nosats' };
  }
  if (status === 'ok') {
    return { steps, now: null, done: steps, conclusion: jamming === 'warning' || jamming === 'critical' ? 'ant.k.jamming' : 'ant.k.ok' };
  }
  return { steps, now: 'cable', done: [], conclusion: 'ant.k.unknown' };
}

// The 24 h obstruction map: mean C/N0 per az/el cell from the store
// (`/api/v1/sky/obstruction`); a wall or a tree shows as a dark or missing
// sector. The inner ring marks 20° elevation (70° from the zenith).
export function obstructionMap(data) {
  const cells = Array.isArray(data?.cells) ? data.cells : [];
  const da = data?.cell_az_deg || 10, de = data?.cell_el_deg || 5;
  const size = 260, c0 = size / 2, r0 = size / 2 - 10;
  const root = svg('svg', { viewBox: `0 0 ${size} ${size}`, class: 'polar', id: 'obstruction', 'data-cells': cells.length });
  root.append(svg('circle', { class: 'ring', cx: c0, cy: c0, r: r0 }));
  root.append(svg('circle', { class: 'ring', cx: c0, cy: c0, r: (r0 * 70) / 90 }));
  const rad = (e) => (r0 * (90 - Math.max(0, Math.min(90, e)))) / 90;
  const p = (r, ang) => `${(c0 + r * Math.sin(ang)).toFixed(1)},${(c0 - r * Math.cos(ang)).toFixed(1)}`;
  for (const c of cells) {
    const r1 = rad(c.el_deg), r2 = rad(c.el_deg + de);
    const a1 = (c.az_deg * Math.PI) / 180, a2 = ((c.az_deg + da) * Math.PI) / 180;
    const cell = svg('path', {
      class: 'cell',
      d: `M${p(r1, a1)}A${r1},${r1} 0 0 1 ${p(r1, a2)}L${p(r2, a2)}A${r2},${r2} 0 0 0 ${p(r2, a1)}Z`,
      fill: cn0Colour(c.cn0_mean_dbhz), 'fill-opacity': 0.85,
    });
    const title = svg('title');
    title.textContent = `az ${c.az_deg}–${c.az_deg + da}°, el ${c.el_deg}–${c.el_deg + de}°: ${fmtNum(c.cn0_mean_dbhz)} dB-Hz (${c.samples})`;
    cell.append(title);
    root.append(cell);
  }
  return root;
}

const HIST = ['agc', 'noise', 'jamming'];
let obstruction = null;
let hist = {};
let info = null; // /api/v1/antenna (longest period without a fix)

function fmtDuration(ns) {
  const s = Math.round(ns / 1e9);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function noFixText() {
  const p = info?.longest_without_fix?.period;
  if (!info) return '—';
  if (!p) return t('ant.nofix.none');
  const when = p.to_ns == null ? t('ant.nofix.ongoing') : fmtTime(p.to_ns);
  return `${fmtDuration(p.duration_ns)} (${fmtTime(p.from_ns)} → ${when})`;
}

function render(root, s) {
  const r = s?.receiver || {};
  const a = r.antenna || {};
  const status = a.status || 'unknown';
  const sec = r.security || {};
  const dx = diagnose(status, a.power, r.sats_used, sec.jamming);
  const sv = r.survey || {};
  const pr = sv.progress;
  const fp = sv.fixed_position;
  root.replaceChildren(el('div', { class: 'grid' },
    el('div', { class: 'card' },
      el('h3', {}, t('ant.status')),
      el('div', { class: `state-badge ${status}`, id: 'antenna-status' }, status.toUpperCase()),
      el('dl', { class: 'kv' },
        el('dt', {}, t('ant.power')), el('dd', { id: 'antenna-power' }, (a.power || 'unknown').toUpperCase()),
        el('dt', {}, t('ant.jamming')), el('dd', {}, `${sec.jamming ?? '—'} (${a.jamming ?? '—'}/255)`),
        el('dt', {}, t('ant.spoofing')), el('dd', {}, sec.spoofing ?? '—'),
        el('dt', {}, t('dash.sats')), el('dd', {}, `${r.sats_used ?? '—'} / ${r.sats_visible ?? '—'}`))),
    el('div', { class: 'card' },
      el('h3', {}, t('ant.checklist')),
      el('ol', { class: 'check', id: 'checklist' }, dx.steps.map((k) => el('li', {
        class: dx.now === k ? 'now' : dx.done.includes(k) ? 'done' : '', 'data-step': k,
      }, t(`ant.c.${k}`)))),
      el('h3', {}, t('ant.conclusion')),
      el('p', { class: 'conclusion', id: 'conclusion', 'data-key': dx.conclusion }, t(dx.conclusion))),
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.agc')}: ${a.agc_count ?? '—'}`), lineChart(joined(hist.agc, (p) => p.agc, '24h'))),
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.noise')}: ${a.noise_per_ms ?? '—'}`), lineChart(joined(hist.noise, (p) => p.noise, '24h'))),
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.jamming')}: ${a.jamming ?? '—'}`), lineChart(joined(hist.jamming, (p) => p.jam, '24h'))),
    el('div', { class: 'card' }, el('h3', {}, t('ant.obstruction')), obstructionMap(obstruction),
      el('div', { class: 'muted' }, t('ant.obstruction.note'))),
    el('div', { class: 'card' }, el('h3', {}, t('ant.survey')),
      el('dl', { class: 'kv', id: 'survey' },
        el('dt', {}, t('ant.survey.state')), el('dd', { id: 'survey-state' }, sv.state ?? '—'),
        el('dt', {}, t('ant.survey.time')), el('dd', {}, pr?.duration_s != null ? `${pr.duration_s} s` : '—'),
        el('dt', {}, 'σ (m)'), el('dd', {}, pr?.variance_mm2 != null ? fmtNum(Math.sqrt(pr.variance_mm2) / 1000, 3) : '—'),
        el('dt', {}, t('ant.survey.fixed')), el('dd', { id: 'survey-fixed' }, fp ? `ECEF ${fmtNum(fp.ecef_x_cm / 100, 2)}, ${fmtNum(fp.ecef_y_cm / 100, 2)}, ${fmtNum(fp.ecef_z_cm / 100, 2)} m (±${fmtNum(fp.accuracy_mm / 1000, 3)} m)` : '—'),
        el('dt', {}, t('ant.position')), el('dd', {}, r.fix?.lat_deg != null ? `${fmtNum(r.fix.lat_deg, 6)}, ${fmtNum(r.fix.lon_deg, 6)}, ${fmtNum(r.fix.alt_msl_m, 1)} m` : '—'),
        el('dt', {}, t('ant.nofix')), el('dd', { id: 'longest-no-fix' }, noFixText())))));
}

export function mount(root) {
  let last = null;
  const draw = () => last && render(root, last);
  const load = () => {
    get('/api/v1/sky/obstruction').then((d) => { obstruction = d; draw(); }).catch((e) => console.warn('obstruction', e.message));
    get('/api/v1/antenna').then((d) => { info = d; draw(); }).catch((e) => console.warn('antenna', e.message));
    loadHistory(HIST, '24h').then((h) => { hist = h; draw(); }).catch((e) => console.warn('history', e.message));
  };
  load();
  const timer = setInterval(load, 60e3);
  const off = onSnapshot((s) => { last = s; draw(); });
  return () => { off(); clearInterval(timer); };
}
