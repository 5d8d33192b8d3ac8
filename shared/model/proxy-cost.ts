// The live proxy-cost meter's data (proxy:cost): what the running proxy has spent on CPU and served, and the
// floor from the last saved proxy benchmark. Layer: shared (pure types).

/** Counters of one proxy thread or process since it started (they restart from zero with it). */
export interface ProxyCpuSample {
  /** CPU time used, µs. */
  cpuUs: number;
  /** Requests finished (answered or failed). */
  requests: number;
  /** Completion tokens sent. */
  tokens: number;
  /**
   * 'thread': the proxy thread's own CPU (Linux /proc/thread-self); 'process': the whole process's
   * (process.cpuUsage), which for the console includes the backend beside the proxy thread.
   */
  scope: 'thread' | 'process';
  /** How many proxy threads or processes the counters add up (a fleet sums its processes). */
  processes: number;
}

/** CPU per request and per token over a span of samples; null where nothing was counted. */
export interface ProxyCost {
  cpuUs: number;
  requests: number;
  tokens: number;
  /** All CPU of the span divided by its requests (so it includes the tokens' share). */
  cpuUsPerRequest: number | null;
  /** All CPU of the span divided by its tokens (so it includes the requests' share). */
  cpuUsPerToken: number | null;
}

/** The proxy and its bare two-hop relay floor measured in one run of `npm run bench:proxy -- --json FILE`. */
export interface ProxyCostFloor {
  /** Where it was read from, when it was measured, on what. */
  file: string;
  date: string;
  machine: string;
  /** Bare relay CPU per non-streamed request and per streamed token, µs. */
  relayUsPerRequest: number | null;
  relayUsPerToken: number | null;
  /** The proxy in the same run. */
  proxyUsPerRequest: number | null;
  proxyUsPerToken: number | null;
}

/** proxy:cost. */
export interface ProxyCostReport {
  /** Null while no proxy runs or it did not answer in time. */
  sample: ProxyCpuSample | null;
  /** Null when no benchmark was saved (or it could not be read: `floorError` says why). */
  floor: ProxyCostFloor | null;
  floorError: string | null;
}
