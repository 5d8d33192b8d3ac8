// Steady-clock alignment of the workers with the proxy (trtllm-protocol.md 4.1 /steady_clock_offset, 8.3):
// for each worker that joins, GET /steady_clock_offset with the proxy's steady clock read before and after,
// compute the NTP offset, and POST its negation so the worker adds it to every perf timestamp; the
// timestamps of /perf_metrics are then on the proxy's clock. Same formula and sign as upstream's
// OpenAIDisaggServer._sync_server_clock. Failures are logged and retried later; never fatal. Layer: core.
import { steadySeconds } from './perf-metrics';
import type { LogLevel } from './types';
import {
  createUpstreamPool,
  parseHostPort,
  requestUpstream,
  type UpstreamTarget,
} from './upstream-client';

export interface NtpSample {
  /** Round trip minus the worker's own time between its two stamps (seconds). */
  delay: number;
  /** Worker clock minus proxy clock (seconds): worker time = proxy time + offset. */
  offset: number;
}

/**
 * NTP clock synchronisation (RFC 5905 / upstream): t0 originate (proxy, before the request), t1 receive and
 * t2 transmit (worker), t3 destination (proxy, after the answer).
 */
export function ntpOffset(
  originate: number,
  receive: number,
  transmit: number,
  destination: number,
): NtpSample {
  return {
    delay: destination - originate - (transmit - receive),
    offset: (receive - originate + (transmit - destination)) / 2,
  };
}

/** One call of a sync; throws with the reason when there is no answer. */
async function call(
  target: UpstreamTarget,
  method: 'GET' | 'POST',
  path: string,
  body: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const answer = await requestUpstream(target, method, path, timeoutMs, body);
  if ('error' in answer) throw new Error(answer.error);
  return { status: answer.status, body: answer.body.toString('utf8') };
}

export interface ClockSyncOptions {
  log: (level: LogLevel, msg: string) => void;
  /** Bound of each GET and POST (the worker sleeps 0.2 s inside the GET). */
  timeoutMs?: number;
  /** First wait before measuring a worker again after a failed attempt; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** The proxy's steady clock in seconds (tests inject one). */
  now?: () => number;
}

interface WorkerSync {
  state: 'running' | 'done' | 'waiting';
  attempts: number;
  timer?: NodeJS.Timeout;
  offset?: number;
}

/** Measures and pushes the offset of every member once (again after it left and came back). */
export class SteadyClockSync {
  private readonly workers = new Map<string, WorkerSync>();
  private readonly running = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly now: () => number;
  private isClosed = false;

  constructor(private readonly o: ClockSyncOptions) {
    this.timeoutMs = o.timeoutMs ?? 5_000;
    this.retryMs = o.retryMs ?? 5_000;
    this.maxRetryMs = o.maxRetryMs ?? 60_000;
    this.now = o.now ?? steadySeconds;
  }

  /** Takes the current membership (worker urls, both roles): new ones are synced, departed ones forgotten. */
  reconcile(urls: readonly string[]): void {
    if (this.isClosed) return;
    const wanted = new Set(urls);
    for (const [url, w] of this.workers) {
      if (wanted.has(url)) continue;
      // A worker that comes back may be a restarted process whose offset is 0 again: measure it anew.
      if (w.timer) clearTimeout(w.timer);
      this.workers.delete(url);
    }
    for (const url of wanted) {
      if (this.workers.has(url)) continue;
      const w: WorkerSync = { state: 'running', attempts: 0 };
      this.workers.set(url, w);
      this.start(url, w);
    }
  }

  /** The offset pushed to a worker (the negated measurement), undefined until it succeeded. */
  pushedOffset(url: string): number | undefined {
    return this.workers.get(url)?.offset;
  }

  /** Resolves when no measurement is in flight (tests; /perf_metrics does not wait). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  close(): void {
    this.isClosed = true;
    for (const w of this.workers.values()) if (w.timer) clearTimeout(w.timer);
    this.workers.clear();
  }

  private start(url: string, w: WorkerSync): void {
    w.state = 'running';
    w.attempts += 1;
    const p = this.syncOnce(url, w).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private async syncOnce(url: string, w: WorkerSync): Promise<void> {
    // Its own one-connection pool, closed after the sync: the GET and the POST share a connection and
    // take none from the request path.
    const { host, port } = parseHostPort(url);
    const target: UpstreamTarget = { pool: createUpstreamPool(host, port, 1) };
    try {
      const t0 = this.now();
      const r = await call(target, 'GET', '/steady_clock_offset', undefined, this.timeoutMs);
      const t3 = this.now();
      if (r.status !== 200) throw new Error(`GET /steady_clock_offset answered ${r.status}`);
      const j = JSON.parse(r.body) as { receive_ts?: unknown; transmit_ts?: unknown };
      if (typeof j.receive_ts !== 'number' || typeof j.transmit_ts !== 'number') {
        throw new Error('GET /steady_clock_offset: no numeric receive_ts/transmit_ts');
      }
      const s = ntpOffset(t0, j.receive_ts, j.transmit_ts, t3);
      // Negated so that the worker's timestamps plus the pushed offset are on the proxy's clock.
      const pushed = -s.offset;
      const p = await call(
        target,
        'POST',
        '/steady_clock_offset',
        JSON.stringify({ offset: pushed }),
        this.timeoutMs,
      );
      if (p.status !== 200) throw new Error(`POST /steady_clock_offset answered ${p.status}`);
      if (this.workers.get(url) !== w) return;
      w.state = 'done';
      w.offset = pushed;
      this.o.log(
        'info',
        `Server: ${url}, delay: ${s.delay.toFixed(6)} second, offset: ${s.offset.toFixed(6)} second`,
      );
    } catch (err) {
      if (this.isClosed || this.workers.get(url) !== w) return;
      const reason = err instanceof Error ? err.message : String(err);
      // A member that is still loading its model cannot answer yet (the console starts the proxy first):
      // keep trying with backoff while it is a member, but warn only once.
      const waitMs = Math.min(this.maxRetryMs, this.retryMs * 2 ** (w.attempts - 1));
      w.state = 'waiting';
      this.o.log(
        w.attempts === 1 ? 'warning' : 'debug',
        `cannot align the steady clock of ${url} (${reason}); perf metrics timestamps of this server may be misaligned; retrying in ${waitMs} ms`,
      );
      w.timer = setTimeout(() => {
        w.timer = undefined;
        if (!this.isClosed && this.workers.get(url) === w) this.start(url, w);
      }, waitMs);
      w.timer.unref();
    } finally {
      target.pool.destroy();
    }
  }
}
