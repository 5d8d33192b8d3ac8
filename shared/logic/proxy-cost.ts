// The proxy-cost meter's arithmetic: CPU per request and per token between two counter samples, the sum of
// a fleet's processes, and the floor read from a saved `bench:proxy --json` file. Layer: shared (pure).
import type { ProxyCost, ProxyCostFloor, ProxyCpuSample } from '../model/proxy-cost';

/** One sample for a fleet: every process's counters added (the scope is 'thread' only if all are). */
export function sumSamples(samples: readonly ProxyCpuSample[]): ProxyCpuSample | null {
  if (samples.length === 0) return null;
  return samples.reduce((a, s) => ({
    cpuUs: a.cpuUs + s.cpuUs,
    requests: a.requests + s.requests,
    tokens: a.tokens + s.tokens,
    scope: a.scope === 'thread' && s.scope === 'thread' ? 'thread' : 'process',
    processes: a.processes + s.processes,
  }));
}

/**
 * The cost between `prev` and `next` (or since the proxy started, without `prev`). Counters that went
 * down mean the proxy restarted in between: the span is then `next` alone, since its start.
 */
export function costBetween(prev: ProxyCpuSample | null, next: ProxyCpuSample): ProxyCost {
  const hasRestarted =
    prev !== null &&
    (next.cpuUs < prev.cpuUs ||
      next.requests < prev.requests ||
      next.tokens < prev.tokens ||
      next.processes !== prev.processes);
  const base = prev === null || hasRestarted ? null : prev;
  const cpuUs = next.cpuUs - (base?.cpuUs ?? 0);
  const requests = next.requests - (base?.requests ?? 0);
  const tokens = next.tokens - (base?.tokens ?? 0);
  return {
    cpuUs,
    requests,
    tokens,
    cpuUsPerRequest: requests > 0 ? cpuUs / requests : null,
    cpuUsPerToken: tokens > 0 ? cpuUs / tokens : null,
  };
}

/** The target names bench/proxy-bench.ts writes its runs under. */
const BENCH_PROXY = 'disagg-console proxy';
const BENCH_RELAY = 'bare two-hop relay';

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function field(run: unknown, target: string, key: string): number | null {
  if (typeof run !== 'object' || run === null) return null;
  const t = (run as Record<string, unknown>)[target];
  if (typeof t !== 'object' || t === null) return null;
  return num((t as Record<string, unknown>)[key]);
}

/**
 * The floor from a `bench:proxy --json` result: run 1 (non-streamed, 32 clients) gives CPU per request,
 * run 2 (256 streams) CPU per token, each for the proxy and the bare relay of the same run. Throws with
 * the file's name when it is not such a result.
 */
export function floorFromBenchJson(value: unknown, file: string): ProxyCostFloor {
  if (typeof value !== 'object' || value === null) {
    throw new Error(`${file}: not a bench:proxy --json result (expected an object)`);
  }
  const v = value as Record<string, unknown>;
  const floor: ProxyCostFloor = {
    file,
    date: typeof v['date'] === 'string' ? v['date'] : 'unknown date',
    machine: typeof v['machine'] === 'string' ? v['machine'] : 'unknown machine',
    relayUsPerRequest: field(v['run1'], BENCH_RELAY, 'cpuUsPerReq'),
    relayUsPerToken: field(v['run2'], BENCH_RELAY, 'cpuUsPerToken'),
    proxyUsPerRequest: field(v['run1'], BENCH_PROXY, 'cpuUsPerReq'),
    proxyUsPerToken: field(v['run2'], BENCH_PROXY, 'cpuUsPerToken'),
  };
  if (floor.relayUsPerRequest === null && floor.relayUsPerToken === null) {
    throw new Error(
      `${file}: no bare relay figures (run1/run2 '${BENCH_RELAY}' cpuUsPerReq/cpuUsPerToken): run the full bench:proxy with --json`,
    );
  }
  return floor;
}

/** What the meter shows: the span since the previous sample when it served requests, else since start. */
export interface MeterReading {
  cost: ProxyCost;
  span: 'recent' | 'since start';
}

export function meterReading(prev: ProxyCpuSample | null, next: ProxyCpuSample): MeterReading {
  const recent = prev === null ? null : costBetween(prev, next);
  if (recent !== null && recent.requests > 0 && recent.requests < next.requests) {
    return { cost: recent, span: 'recent' };
  }
  return { cost: costBetween(null, next), span: 'since start' };
}
