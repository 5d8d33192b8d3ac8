// Restart and timing policy of a supervised worker, in PM2's terms with units in the names
// (docs/style-guide.md §5). Layer: shared (pure).

export interface RestartPolicy {
  /** How long a start may take until GET /health answers 200. Real models load for minutes. */
  readyTimeoutMs: number;
  /** A run that stayed ready this long resets the crash counter (PM2 min_uptime). */
  minUptimeMs: number;
  /** Crash restarts in a row before the worker is left 'errored'. */
  maxRestarts: number;
  /** First restart delay; doubles per consecutive crash. */
  backoffBaseMs: number;
  /** Cap of the restart delay (PM2's 15 s). */
  backoffMaxMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  killTimeoutMs: number;
  /** Period of GET /health while starting and while running. */
  probeIntervalMs: number;
  /** Time limit of one probe. */
  probeTimeoutMs: number;
  /** Failed probes in a row that turn a ready worker 'degraded' (upstream's proxy also checks twice, protocol 7.1). */
  degradedAfterFailures: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  readyTimeoutMs: 30 * 60_000,
  minUptimeMs: 60_000,
  maxRestarts: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 15_000,
  // trtllm-serve tears down MPI ranks and frees GPU memory on SIGTERM; give it time.
  killTimeoutMs: 15_000,
  probeIntervalMs: 2_000,
  probeTimeoutMs: 2_000,
  degradedAfterFailures: 2,
};

/** Delay before restart number `attempt` (1-based): base x 2^(attempt-1), capped at backoffMaxMs. */
export function nextRestartDelayMs(
  attempt: number,
  policy: Pick<RestartPolicy, 'backoffBaseMs' | 'backoffMaxMs'>,
): number {
  const n = Math.max(1, Math.floor(attempt));
  // Stop doubling well before the number overflows; the cap applies anyway.
  const delay = policy.backoffBaseMs * 2 ** Math.min(n - 1, 30);
  return Math.min(policy.backoffMaxMs, delay);
}

/** Whether crash number `attempt` (1-based, consecutive) still gets a restart. */
export function shouldRestart(
  attempt: number,
  policy: Pick<RestartPolicy, 'maxRestarts'>,
): boolean {
  return attempt <= policy.maxRestarts;
}

/** Fills in defaults for the fields a caller left out. */
export function resolveRestartPolicy(partial: Partial<RestartPolicy> = {}): RestartPolicy {
  return { ...DEFAULT_RESTART_POLICY, ...partial };
}
