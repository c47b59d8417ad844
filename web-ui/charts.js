// Small SVG line charts (no library: a few paths are all the panel needs).
const NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, v);
  return e;
}

// points: [{t (ms), v}] ; draws into a fresh <svg>.
export function lineChart(points, { width = 320, height = 120, unit = '' } = {}) {
  const pts = points.filter((p) => p.v != null && Number.isFinite(p.v));
  // data-first-ms: the oldest point drawn (the browser test checks history reaches before the page).
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'data-points': pts.length, 'data-first-ms': pts.length ? Math.round(pts[0].t) : null,
  });
  const pad = { l: 44, r: 6, t: 6, b: 16 };
  root.append(svg('line', { class: 'axis', x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b }));
  if (pts.length < 2) {
    const t = svg('text', { x: pad.l + 4, y: height / 2 });
    t.textContent = '—';
    root.append(t);
    return root;
  }
  let lo = Math.min(...pts.map((p) => p.v)), hi = Math.max(...pts.map((p) => p.v));
  if (hi - lo < 1e-12) { lo -= 1; hi += 1; }
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t || t0 + 1;
  const x = (t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  const d = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  root.append(svg('path', { class: 'line', d }));
  for (const [v, yy] of [[hi, pad.t + 8], [lo, height - pad.b]]) {
    const t = svg('text', { x: 2, y: yy });
    t.textContent = `${Number(v.toPrecision(4))}${unit}`;
    root.append(t);
  }
  const span = svg('text', { x: width - pad.r - 40, y: height - 3 });
  const mins = (t1 - t0) / 60000;
  span.textContent = mins < 120 ? `${Math.round(mins)} min` : mins < 2880 ? `${Math.round(mins / 60)} h` : `${Math.round(mins / 1440)} d`;
  root.append(span);
  return root;
}
