// Talking to the daemon: JSON reads, writes with the CSRF token, the live
// stream (SSE) and a small store of the latest snapshot for the views.
export const session = { authenticated: false, role: null, user: null, csrf: null, setup_required: false };
export const live = { snapshot: null, samples: [], connected: false };
const snapshotListeners = new Set();
const eventListeners = new Set();
const MAX_SAMPLES = 3600;

export class HttpError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function handle(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!res.ok) throw new HttpError(res.status, body);
  return body;
}

export async function get(path) {
  return handle(await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
}

export async function send(method, path, body) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (session.csrf) headers['x-csrf-token'] = session.csrf;
  return handle(await fetch(path, {
    method, credentials: 'same-origin', headers, body: JSON.stringify(body ?? {}),
  }));
}

export async function refreshSession() {
  const s = await get('/api/v1/session');
  Object.assign(session, {
    authenticated: s.authenticated, role: s.role, user: s.user, csrf: s.csrf_token,
    setup_required: s.setup_required, public_read: s.public_read,
  });
  return session;
}

export async function login(user, password) {
  const s = await send('POST', '/api/v1/login', { user, password });
  Object.assign(session, { authenticated: true, role: s.role, user: s.user, csrf: s.csrf_token });
  return session;
}

export async function logout() {
  try { await send('POST', '/api/v1/logout', {}); } finally {
    Object.assign(session, { authenticated: false, role: null, user: null, csrf: null });
  }
}

export function onSnapshot(f) { snapshotListeners.add(f); if (live.snapshot) f(live.snapshot); return () => snapshotListeners.delete(f); }
export function onEvent(f) { eventListeners.add(f); return () => eventListeners.delete(f); }

function accept(snap) {
  live.snapshot = snap;
  live.samples.push({
    t: snap.generated_at_ns / 1e6,
    freq: snap.discipline?.frequency_ppm ?? snap.discipline?.correction_ppm ?? null,
    temp: snap.discipline?.temperature_c ?? null,
    bound: snap.discipline?.time_error_bound_ns ?? null,
    agc: snap.receiver?.antenna?.agc_count ?? null,
    noise: snap.receiver?.antenna?.noise_per_ms ?? null,
    jam: snap.receiver?.antenna?.jamming ?? null,
    reqs: snap.ntp?.counters?.requests ?? null,
    sky: snap.receiver?.sky ?? [],
  });
  if (live.samples.length > MAX_SAMPLES) live.samples.shift();
  snapshotListeners.forEach((f) => f(snap));
}

export function connect(onState) {
  const es = new EventSource('/api/v1/stream');
  es.addEventListener('open', () => { live.connected = true; onState(true); });
  es.addEventListener('error', () => { live.connected = false; onState(false); });
  es.addEventListener('snapshot', (m) => {
    try { accept(JSON.parse(m.data)); } catch (e) { console.warn('bad snapshot', e); }
  });
  es.addEventListener('event', (m) => {
    try { const ev = JSON.parse(m.data); eventListeners.forEach((f) => f(ev)); } catch (e) { console.warn('bad event', e); }
  });
  return es;
}

// Helpers shared by the views.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}
export function fmtNs(ns) {
  if (ns == null || !Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  if (a < 1e3) return `${ns.toFixed(0)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}
export function fmtNum(v, digits = 1) {
  return v == null || !Number.isFinite(v) ? '—' : Number(v).toFixed(digits);
}
export function fmtTime(ns) {
  if (ns == null) return '—';
  return new Date(ns / 1e6).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
