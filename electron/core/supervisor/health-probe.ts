// The HealthProbe port: GET <worker>/health with a time limit (protocol 7.4: 200 = healthy). Layer: core.

export interface ProbeResult {
  ok: boolean;
  /** HTTP status when one came back. */
  status: number | null;
  /** Why it failed ("HTTP 503", "ECONNREFUSED", "timeout after 2000 ms"). */
  error: string | null;
}

/** Checks a worker's health endpoint. Tests may swap in a fake. */
export interface HealthProbe {
  probe(url: string, timeoutMs: number): Promise<ProbeResult>;
}

/** The URL the console probes: a worker bound to 0.0.0.0 or :: is reached over loopback. */
export function healthUrl(host: string, port: number): string {
  const h =
    host === '0.0.0.0' || host === ''
      ? '127.0.0.1'
      : host === '::'
        ? '[::1]'
        : host.includes(':')
          ? `[${host}]`
          : host;
  return `http://${h}:${port}/health`;
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The real probe over Node's fetch. */
export function createFetchHealthProbe(): HealthProbe {
  return {
    async probe(url, timeoutMs) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        // Drain the body so the socket can be reused or closed.
        await res.arrayBuffer().catch(() => undefined);
        return res.status === 200
          ? { ok: true, status: 200, error: null }
          : { ok: false, status: res.status, error: `HTTP ${res.status}` };
      } catch (err) {
        const name = (err as { name?: string }).name;
        const error =
          name === 'TimeoutError' || name === 'AbortError'
            ? `timeout after ${timeoutMs} ms`
            : causeOf(err);
        return { ok: false, status: null, error };
      }
    },
  };
}
