// The proxy's CPU accounting for the console's cost meter (proxy:cost): CPU used by the proxy's thread
// and the requests and tokens it finished, as counters since start (shared/logic/proxy-cost.ts turns two
// samples into µs per request and per token). In a worker thread process.cpuUsage() counts the whole
// process (the console backend too), so on Linux the thread's own time is read from
// /proc/thread-self/schedstat (ns on CPU; the read runs on the calling thread); elsewhere, and in a CLI
// process where the process is the proxy, process.cpuUsage(). Layer: core.
import { readFileSync } from 'node:fs';

import type { ProxyCpuSample } from '../../../shared/model/proxy-cost';
import type { ProxyRequestRecord } from './types';

export interface CpuReading {
  us: number;
  scope: ProxyCpuSample['scope'];
}

/** The calling thread's CPU µs on Linux (schedstat's first field is ns on CPU), else undefined. */
export function readThreadCpu(
  read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): CpuReading | undefined {
  try {
    const ns = Number(read('/proc/thread-self/schedstat').split(' ')[0]);
    return Number.isFinite(ns) ? { us: ns / 1000, scope: 'thread' } : undefined;
  } catch {
    return undefined;
  }
}

/** The whole process's CPU µs (user + system). */
export function readProcessCpu(): CpuReading {
  const u = process.cpuUsage();
  return { us: u.user + u.system, scope: 'process' };
}

/** Counts finished requests and their completion tokens; samples CPU on demand. */
export class ProxyCpuMeter {
  private requests = 0;
  private tokens = 0;

  constructor(private readonly readCpu: () => CpuReading) {}

  /** For a proxy in a worker thread: its thread's CPU where the platform tells it, else the process's. */
  static forThread(): ProxyCpuMeter {
    return new ProxyCpuMeter(() => readThreadCpu() ?? readProcessCpu());
  }

  /** Called with each batch of finished requests' records. */
  count(records: readonly Pick<ProxyRequestRecord, 'completionTokens'>[]): void {
    this.requests += records.length;
    for (const r of records) this.tokens += r.completionTokens ?? 0;
  }

  sample(): ProxyCpuSample {
    const cpu = this.readCpu();
    return {
      cpuUs: cpu.us,
      requests: this.requests,
      tokens: this.tokens,
      scope: cpu.scope,
      processes: 1,
    };
  }
}
