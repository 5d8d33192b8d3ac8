// Number formatting for the console: readable values with units, one place for every view. Layer: renderer
// (pure helpers, no DOM), also unit-tested under Node.

const DASH = '—';

/** `12.3 ms`, `1.24 s`; a dash for null. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 100) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** Memory given in MiB: `812 MiB`, `79.6 GiB`. */
export function formatMiB(mib: number | null | undefined): string {
  if (mib === null || mib === undefined || !Number.isFinite(mib)) return DASH;
  if (mib >= 1024) return `${(mib / 1024).toFixed(1)} GiB`;
  return `${Math.round(mib)} MiB`;
}

/** `42 %` from a 0..100 value. */
export function formatPct(pct: number | null | undefined, digits = 0): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return DASH;
  return `${pct.toFixed(digits)} %`;
}

/** `42 %` from a 0..1 fraction. */
export function formatFraction(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return DASH;
  return formatPct(fraction * 100, digits);
}

/** `63 °C` */
export function formatTemp(c: number | null | undefined): string {
  if (c === null || c === undefined || !Number.isFinite(c)) return DASH;
  return `${Math.round(c)} °C`;
}

/** `312 W` or `312 / 700 W` with a limit. */
export function formatWatts(w: number | null | undefined, limitW?: number | null): string {
  if (w === null || w === undefined || !Number.isFinite(w)) return DASH;
  if (limitW !== null && limitW !== undefined && Number.isFinite(limitW)) {
    return `${Math.round(w)} / ${Math.round(limitW)} W`;
  }
  return `${Math.round(w)} W`;
}

/** A rate per second: `12.5 req/s`, `1.2k tok/s`. */
export function formatRate(perSec: number | null | undefined, unit: string): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return DASH;
  if (perSec >= 10_000) return `${(perSec / 1000).toFixed(1)}k ${unit}/s`;
  if (perSec >= 100) return `${Math.round(perSec)} ${unit}/s`;
  return `${perSec.toFixed(1)} ${unit}/s`;
}

/** Whole counts with thousands separators: `12,345`. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

/** A duration as uptime: `45 s`, `12 min 3 s`, `3 h 4 min`, `2 d 5 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A worker's address without its scheme: `http://127.0.0.1:8001` → `127.0.0.1:8001`. */
export function formatAddress(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/** Wall-clock time of day `14:03:27` (local time). */
export function formatClock(atMs: number): string {
  const d = new Date(atMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
