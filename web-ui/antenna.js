// Antenna: state and power, AGC/noise/jamming, a checklist that follows the
// state and says what it concluded, the obstruction map, survey-in.
import { el, fmtNum, live, onSnapshot, get } from './api.js';
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

// Mean C/N0 per 10°×10° cell from the sky seen so far (the 24 h map comes
// from the store's sky history once it is offered by the API).
function obstruction(samples) {
  const cells = new Map();
  for (const s of samples) {
    for (const sat of s.sky || []) {
      if (sat.az_deg == null || sat.el_deg == null || sat.cn0_dbhz == null) continue;
      const k = `${Math.floor(sat.az_deg / 10)}:${Math.floor(Math.max(0, sat.el_deg) / 10)}`;
      const c = cells.get(k) || { sum: 0, n: 0 };
      c.sum += sat.cn0_dbhz; c.n += 1;
      cells.set(k, c);
    }
  }
  const size = 260, c0 = size / 2, r0 = size / 2 - 10;
  const root = svg('svg', { viewBox: `0 0 ${size} ${size}`, class: 'polar', id: 'obstruction' });
  root.append(svg('circle', { class: 'ring', cx: c0, cy: c0, r: r0 }));
  root.append(svg('circle', { class: 'ring', cx: c0, cy: c0, r: (r0 * 70) / 90 }));
  for (const [k, v] of cells) {
    const [a, e] = k.split(':').map(Number);
    const r1 = (r0 * (90 - e * 10)) / 90, r2 = (r0 * (90 - Math.min(90, e * 10 + 10))) / 90;
    const a1 = (a * 10 * Math.PI) / 180, a2 = ((a * 10 + 10) * Math.PI) / 180;
    const p = (r, ang) => `${(c0 + r * Math.sin(ang)).toFixed(1)},${(c0 - r * Math.cos(ang)).toFixed(1)}`;
    root.append(svg('path', {
      d: `M${p(r1, a1)}A${r1},${r1} 0 0 1 ${p(r1, a2)}L${p(r2, a2)}A${r2},${r2} 0 0 0 ${p(r2, a1)}Z`,
      fill: cn0Colour(v.sum / v.n), 'fill-opacity': 0.8,
    }));
  }
  return root;
}

function render(root, s) {
  const r = s?.receiver || {};
  const a = r.antenna || {};
  const status = a.status || 'unknown';
  const sec = r.security || {};
  const dx = diagnose(status, a.power, r.sats_used, sec.jamming);
  const pts = (k) => live.samples.map((p) => ({ t: p.t, v: p[k] }));
  const sv = r.survey_in;
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
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.agc')}: ${a.agc_count ?? '—'}`), lineChart(pts('agc'))),
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.noise')}: ${a.noise_per_ms ?? '—'}`), lineChart(pts('noise'))),
    el('div', { class: 'card' }, el('h3', {}, `${t('ant.jamming')}: ${a.jamming ?? '—'}`), lineChart(pts('jam'))),
    el('div', { class: 'card' }, el('h3', {}, t('ant.obstruction')), obstruction(live.samples),
      el('div', { class: 'muted' }, t('dash.chartnote'))),
    el('div', { class: 'card' }, el('h3', {}, t('ant.survey')),
      el('dl', { class: 'kv' },
        el('dt', {}, 'active'), el('dd', {}, sv ? String(sv.active) : '—'),
        el('dt', {}, 'valid'), el('dd', {}, sv ? String(sv.valid) : '—'),
        el('dt', {}, 's'), el('dd', {}, sv?.duration_s ?? '—'),
        el('dt', {}, 'σ (m)'), el('dd', {}, sv ? fmtNum(Math.sqrt(sv.variance_mm2) / 1000, 3) : '—'),
        el('dt', {}, t('ant.position')), el('dd', {}, r.fix?.lat_deg != null ? `${fmtNum(r.fix.lat_deg, 6)}, ${fmtNum(r.fix.lon_deg, 6)}, ${fmtNum(r.fix.alt_msl_m, 1)} m` : '—')))));
}

export function mount(root) {
  get('/api/v1/antenna').catch(() => {});
  return onSnapshot((s) => render(root, s));
}
