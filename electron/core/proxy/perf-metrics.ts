// The proxy's /perf_metrics (trtllm-protocol.md 8.3): remembers (ctx server, gen server,
// ctx_request_id, arrival, first token) per finished request, pulls each worker's /perf_metrics and
// returns the pairs joined by ctx_request_id; pairs whose gen metrics are not there yet are kept.
// Times are seconds on this process's steady clock. Layer: core.
import type { UpstreamTarget } from './upstream-client';
import { getUpstream } from './upstream-client';

interface PendingPair {
  ctx_server: string;
  gen_server: string;
  ctx_request_id: string;
  disagg_server_arrival_time: number;
  disagg_server_first_token_time: number;
}

export interface PerfMetricsItem {
  ctx_server: string;
  gen_server: string;
  disagg_server_arrival_time: number;
  disagg_server_first_token_time: number;
  ctx_perf_metrics: unknown;
  gen_perf_metrics: unknown;
}

/**
 * Steady-clock seconds (the proxy's clock for perf timestamps): CLOCK_MONOTONIC like upstream's
 * get_steady_clock_now_in_seconds, not performance.now(), whose origin is this thread's start: the same
 * clock in every process and thread of the machine, so a restarted proxy thread keeps the workers' offsets.
 */
export function steadySeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** ctx_request_id as a map key (ints and strings alike). */
function idKey(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export class PerfMetricsCollector {
  private pending: PendingPair[] = [];
  private readonly ctxItems = new Map<string, unknown>();
  private readonly genItems = new Map<string, unknown>();

  constructor(private readonly maxRequests: number) {}

  get isEnabled(): boolean {
    return this.maxRequests > 0;
  }

  /** Records one finished disaggregated request (arrival and first token in steady seconds). */
  add(
    ctxServer: string,
    genServer: string,
    ctxRequestId: unknown,
    arrivalS: number,
    firstTokenS: number,
  ): void {
    if (!this.isEnabled || ctxRequestId === undefined || ctxRequestId === null) return;
    this.pending.push({
      ctx_server: ctxServer,
      gen_server: genServer,
      ctx_request_id: idKey(ctxRequestId),
      disagg_server_arrival_time: arrivalS,
      disagg_server_first_token_time: firstTokenS,
    });
    if (this.pending.length > this.maxRequests) {
      this.pending.splice(0, this.pending.length - this.maxRequests);
    }
  }

  /** Fetches workers' metrics and returns (and forgets) the completed pairs. */
  async collect(
    ctxWorkers: UpstreamTarget[],
    genWorkers: UpstreamTarget[],
  ): Promise<PerfMetricsItem[]> {
    if (!this.isEnabled) return [];
    const pull = async (targets: UpstreamTarget[], into: Map<string, unknown>): Promise<void> => {
      await Promise.all(
        targets.map(async (t) => {
          const r = await getUpstream(t, '/perf_metrics', 5_000);
          if (!r || r.status !== 200) return;
          let items: unknown;
          try {
            items = JSON.parse(r.body.toString('utf8'));
          } catch {
            return;
          }
          if (!Array.isArray(items)) return;
          for (const it of items as unknown[]) {
            if (typeof it !== 'object' || it === null) continue;
            const rec = it as Record<string, unknown>;
            const key = rec['ctx_request_id'] ?? rec['request_id'];
            if (key !== undefined && key !== null) into.set(idKey(key), it);
          }
        }),
      );
    };
    await Promise.all([pull(ctxWorkers, this.ctxItems), pull(genWorkers, this.genItems)]);
    const done: PerfMetricsItem[] = [];
    const keep: PendingPair[] = [];
    for (const p of this.pending) {
      const gen = this.genItems.get(p.ctx_request_id);
      if (gen === undefined) {
        keep.push(p);
        continue;
      }
      const ctx = this.ctxItems.get(p.ctx_request_id) ?? null;
      this.genItems.delete(p.ctx_request_id);
      this.ctxItems.delete(p.ctx_request_id);
      done.push({
        ctx_server: p.ctx_server,
        gen_server: p.gen_server,
        disagg_server_arrival_time: p.disagg_server_arrival_time,
        disagg_server_first_token_time: p.disagg_server_first_token_time,
        ctx_perf_metrics: ctx,
        gen_perf_metrics: gen,
      });
    }
    this.pending = keep;
    return done;
  }
}
