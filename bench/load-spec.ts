// What the proxy benchmark's orchestrator (bench/proxy-bench.ts) hands the load generator (bench/load-gen.ts)
// as its JSON argument, and what the generator prints back on its `RESULT {json}` line. Layer: bench (types).

/** One load run against 127.0.0.1:port. */
export interface LoadSpec {
  port: number;
  path: string;
  body: string;
  mode: 'closed' | 'open';
  concurrency: number;
  rate: number;
  warmupMs: number;
  durationMs: number;
  isStream: boolean;
}

/** Counts and latency percentiles (ms) of the measured window. */
export interface LoadGenResult {
  ok: number;
  statuses: Record<string, number>;
  transportErrors: number;
  doneMissing: number;
  rps: number;
  /** Open loop only: the offered rate. */
  offeredRps?: number;
  latP50: number;
  latP90: number;
  latP99: number;
  ttftP50: number;
  ttftP99: number;
  tokens: number;
  loadGenCoreFraction: number;
}
