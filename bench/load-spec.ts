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
  /**
   * Latency percentiles and status counts cover every request sent in the window, however late it
   * finished (the generator waits up to `drainMs` for them), instead of those that finished inside it:
   * a backlog that grows through the window then shows in the percentiles. Goodput (`ok`, `rps`) still
   * counts 200s that finished inside the window.
   */
  isBySend?: boolean;
  /** How long to wait for outstanding requests after the window (default 3000). */
  drainMs?: number;
  /**
   * When set, `body`'s `prompt` is replaced by a text of this many bytes (built by the generator: a
   * 1 MB body does not fit in one command-line argument).
   */
  promptBytes?: number;
  /**
   * Wall-clock time (`Date.now()`) at which the load starts, so several generator processes started one
   * after the other share one window (bench/fleet-bench.ts); default: at once.
   */
  startAtMs?: number;
  /** Also return the raw TTFT samples of the window (to merge percentiles across generators). */
  isWithSamples?: boolean;
  /**
   * Closed loop only: the window is this many requests instead of a time. After one warm-up request
   * per client the generator sends exactly `requestCount` requests and the window lasts from the first
   * send to the last answer (`durationMs` then only bounds it; `warmupMs` is unused), so CPU sampled at
   * its edges is these requests' whole cost however long each takes (run 5's 1 MB prompts).
   */
  requestCount?: number;
  /**
   * The direct two-hop path: `port` is a context worker, and each request is the context-only call
   * there followed by the generation call to this port, both sent by the generator with bodies built
   * once before the load (as a relay doing no work per request would send them). Latency and TTFT count
   * from the context call's send.
   */
  directGenPort?: number;
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
  /** 429/503 answers (shed), their latency from the scheduled send time, and how many had Retry-After. */
  shedLatP50: number;
  shedLatP99: number;
  shedRetryAfter: number;
  /** Requests of the window still unanswered when the drain ended (their latency is not in the percentiles). */
  unfinished: number;
  /** The measured window's length, ms: `durationMs`, or with `requestCount` the time the requests took. */
  windowMs: number;
  /** With `isWithSamples`: TTFT (streams) or latency (whole answers) of each admitted request, ms. */
  samples?: number[];
}
