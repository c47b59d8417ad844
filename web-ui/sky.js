// Sky: polar plot (azimuth clockwise from north, zenith in the centre)
// coloured by C/N0, used vs unused, constellation filter; C/N0 bars per
// satellite and per signal with a threshold line; a click on a bar
// highlights the satellite on the plot.
import { el, onSnapshot, live, get } from './api.js';
import { t } from './i18n.js';
import { svg } from './charts.js';

export const THRESHOLD_DBHZ = 30;
const hidden = new Set();
let highlighted = null;
// Tracks over a chosen span (from the store, one point per step).
const TRACK_SPANS = { off: 0, '1h': 1, '6h': 6, '24h': 24 };
let trackSpan = 'off';
let tracks = [];

// C/N0 → colour: red (weak) through amber to green (strong).
export function cn0Colour(c) {
  if (c == null) return '#8a8f98';
  const x = Math.max(0, Math.min(1, (c - 20) / 30));
  return `hsl(${Math.round(x * 130)}, 75%, 45%)`;
}

const key = (s) => `${s.gnss}-${s.svid}`;

export function polar(sats, size = 320, paths = []) {
  const r0 = size / 2 - 18, c = size / 2;
  const root = svg('svg', { viewBox: `0 0 ${size} ${size}`, class: 'polar', id: 'sky-plot', role: 'img' });
  const xy = (az, elv) => {
    const rr = (r0 * (90 - Math.max(0, Math.min(90, elv)))) / 90, a = (az * Math.PI) / 180;
    return `${(c + rr * Math.sin(a)).toFixed(1)},${(c - rr * Math.cos(a)).toFixed(1)}`;
  };
  for (const el_ of [0, 30, 60]) root.append(svg('circle', { class: 'ring', cx: c, cy: c, r: (r0 * (90 - el_)) / 90 }));
  for (let az = 0; az < 360; az += 45) {
    const a = (az * Math.PI) / 180;
    root.append(svg('line', { class: 'spoke', x1: c, y1: c, x2: c + r0 * Math.sin(a), y2: c - r0 * Math.cos(a) }));
  }
  for (const [lbl, x, y] of [['N', c - 4, 12], ['E', size - 12, c + 4], ['S', c - 4, size - 3], ['W', 2, c + 4]]) {
    const tx = svg('text', { x, y }); tx.textContent = lbl; root.append(tx);
  }
  for (const tr of paths) {
    const pts = tr.points.filter((p) => p.el_deg >= 0);
    if (pts.length < 2) continue;
    root.append(svg('polyline', {
      class: `track${highlighted === key(tr) ? ' hl' : ''}`, 'data-sat': key(tr),
      points: pts.map((p) => xy(p.az_deg, p.el_deg)).join(' '),
    }));
  }
  for (const s of sats) {
    if (s.az_deg == null || s.el_deg == null) continue;
    const rr = (r0 * (90 - Math.max(0, Math.min(90, s.el_deg)))) / 90;
    const a = (s.az_deg * Math.PI) / 180;
    const g = svg('circle', {
      class: `sat ${s.used ? 'used' : 'unused'}${highlighted === key(s) ? ' hl' : ''}`,
      cx: (c + rr * Math.sin(a)).toFixed(1), cy: (c - rr * Math.cos(a)).toFixed(1), r: 7,
      fill: cn0Colour(s.cn0_dbhz), 'data-sat': key(s),
    });
    const title = svg('title');
    title.textContent = `${s.gnss} ${s.svid}: ${s.cn0_dbhz ?? '—'} dB-Hz, el ${s.el_deg}°, az ${s.az_deg}°, ${s.used ? t('sky.used') : t('sky.unused')}`;
    g.append(title);
    root.append(g);
    const lbl = svg('text', { x: (c + rr * Math.sin(a) + 8).toFixed(1), y: (c - rr * Math.cos(a) + 4).toFixed(1) });
    lbl.textContent = s.svid;
    root.append(lbl);
  }
  return root;
}

function bars(sats, onPick) {
  const rows = [];
  for (const s of sats) {
    const sigs = Array.isArray(s.signals) && s.signals.length ? s.signals : [{ band: '', cn0_dbhz: s.cn0_dbhz, used: s.used }];
    for (const g of sigs) rows.push({ s, g });
  }
  const w = 340, bh = 14, h = rows.length * (bh + 3) + 20, lx = 90, max = 55;
  const root = svg('svg', { viewBox: `0 0 ${w} ${Math.max(h, 40)}`, class: 'bars', id: 'cn0-bars' });
  const x = (v) => lx + (Math.max(0, v) / max) * (w - lx - 10);
  rows.forEach(({ s, g }, i) => {
    const y = 4 + i * (bh + 3);
    const lbl = svg('text', { x: 2, y: y + bh - 3 });
    lbl.textContent = `${s.gnss.slice(0, 3)} ${s.svid}${g.band ? ` ${g.band}` : ''}`;
    root.append(lbl);
    const bar = svg('rect', {
      class: `bar ${g.used ? 'used' : 'unused'}${highlighted === key(s) ? ' hl' : ''}`,
      x: lx, y, height: bh, width: Math.max(1, x(g.cn0_dbhz ?? 0) - lx), fill: cn0Colour(g.cn0_dbhz), 'data-sat': key(s),
    });
    bar.addEventListener('click', () => onPick(key(s)));
    root.append(bar);
  });
  root.append(svg('line', { class: 'threshold', x1: x(THRESHOLD_DBHZ), x2: x(THRESHOLD_DBHZ), y1: 0, y2: h }));
  const tl = svg('text', { x: x(THRESHOLD_DBHZ) + 3, y: h - 4 });
  tl.textContent = `${THRESHOLD_DBHZ} dB-Hz ${t('sky.threshold')}`;
  root.append(tl);
  return root;
}

function render(root, snap) {
  const sky = Array.isArray(snap?.receiver?.sky) ? snap.receiver.sky : [];
  const gnss = [...new Set(sky.map((s) => s.gnss))].sort();
  const shown = sky.filter((s) => !hidden.has(s.gnss));
  const redraw = () => render(root, live.snapshot);
  const legend = el('div', { class: 'legend', id: 'sky-legend' }, gnss.map((g) => el('label', {},
    el('input', { type: 'checkbox', ...(hidden.has(g) ? {} : { checked: '' }), 'data-gnss': g,
      onchange: (e) => { if (e.target.checked) hidden.delete(g); else hidden.add(g); redraw(); } }),
    ` ${g} (${sky.filter((s) => s.gnss === g && s.used).length}/${sky.filter((s) => s.gnss === g).length})`)));
  const spans = el('div', { class: 'spans', id: 'track-span' }, `${t('sky.tracks')}: `, Object.keys(TRACK_SPANS).map((k) => el('button', {
    type: 'button', class: k === trackSpan ? 'on' : '', 'data-span': k,
    onclick: () => { trackSpan = k; loadTracks(redraw); },
  }, k === 'off' ? t('sky.tracks.off') : k)));
  const paths = tracks.filter((tr) => !hidden.has(tr.gnss));
  root.replaceChildren(el('div', { class: 'grid' },
    el('div', { class: 'card' }, el('h3', {}, t('sky.title')), legend, spans,
      shown.some((s) => s.az_deg != null) || paths.length ? polar(shown, 320, paths) : el('p', { class: 'muted' }, t('sky.none')),
      el('p', { class: 'muted' }, `● ${t('sky.used')}  ◌ ${t('sky.unused')}`)),
    el('div', { class: 'card' }, el('h3', {}, t('sky.cn0')),
      bars(shown, (k) => { highlighted = highlighted === k ? null : k; redraw(); }))));
}

function loadTracks(done) {
  const h = TRACK_SPANS[trackSpan];
  if (!h) { tracks = []; done(); return; }
  // About 200 points per track whatever the span.
  const step = Math.max(60, Math.round((h * 3600) / 200));
  get(`/api/v1/sky/tracks?from=-${h}h&step=${step}s`)
    .then((r) => { tracks = Array.isArray(r.tracks) ? r.tracks : []; done(); })
    .catch((e) => console.warn('tracks', e.message));
}

export function mount(root) {
  const draw = () => live.snapshot && render(root, live.snapshot);
  loadTracks(draw);
  const timer = setInterval(() => loadTracks(draw), 60e3);
  const off = onSnapshot((s) => render(root, s));
  return () => { off(); clearInterval(timer); };
}
