// Stored history for the charts: load a span from /api/v1/history, then let
// the live stream append what is newer (one line from the past into now).
import { get, live } from './api.js';

export const SPANS = { '1h': 3600e3, '24h': 86400e3, '30d': 30 * 86400e3 };

// {series: [{t (ms), v}]} for the last `span` (a key of SPANS).
const cache = new Map(); // key → { at (ms), data }

export async function loadHistory(series, span) {
  const ms = SPANS[span] ?? SPANS['1h'];
  const key = `${series.join(',')}@${span}`;
  const hit = cache.get(key);
  // Reload once a bucket's worth has passed (360 buckets per span).
  if (hit && Date.now() - hit.at < Math.max(10e3, ms / 360)) return hit.data;
  const r = await get(`/api/v1/history?series=${series.join(',')}&from=-${Math.round(ms / 1000)}s`);
  const data = {};
  for (const name of series) {
    data[name] = (r.series?.[name] || [])
      .filter((p) => p.mean != null)
      .map((p) => ({ t: p.time_ns / 1e6, v: p.mean }));
  }
  cache.set(key, { at: Date.now(), data });
  return data;
}

// History points, then the live samples newer than the last of them.
// `pick(sample)` reads the live value in the history's unit.
export function joined(hist, pick, span) {
  const from = Date.now() - (SPANS[span] ?? SPANS['1h']);
  const past = (hist || []).filter((p) => p.t >= from);
  const last = past.length ? past[past.length - 1].t : -Infinity;
  const now = live.samples.filter((s) => s.t > last).map((s) => ({ t: s.t, v: pick(s) }));
  return past.concat(now);
}
