// KV-cache "transfer" between simulated workers (trtllm-protocol.md 4.3, 5.4). The context worker keeps the
// state of each finished context-only request under its ctx_request_id (holding its KV blocks) until a
// generation worker pulls it or kv_transfer_timeout_ms passes. `encoded_opaque_state` is base64 of a small JSON
// naming the context worker, so the generation worker knows whom to ask. The pull goes over loopback HTTP to
// the internal route `/_sim/kv_transfer/<id>`, which is not part of the OpenAI API. Layer: electron/sim (node).

/** What `encoded_opaque_state` carries (base64 JSON). Upstream's bytes are opaque too. */
export interface OpaqueState {
  sim: 1;
  host: string;
  port: number;
  ctx_request_id: number;
  pid: number;
}

export function encodeOpaqueState(state: OpaqueState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64');
}

export function decodeOpaqueState(text: string): OpaqueState | null {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Partial<OpaqueState>;
    if (
      value.sim !== 1 ||
      typeof value.host !== 'string' ||
      typeof value.port !== 'number' ||
      typeof value.ctx_request_id !== 'number'
    ) {
      return null;
    }
    return {
      sim: 1,
      host: value.host,
      port: value.port,
      ctx_request_id: value.ctx_request_id,
      pid: value.pid ?? 0,
    };
  } catch {
    // Not base64 JSON: not a simulated worker's state.
    return null;
  }
}

/** The body of a successful pull. */
export interface KvTransferPayload {
  ctx_request_id: number;
  prompt_token_ids: number[];
  first_gen_tokens: number[];
  kv_bytes: number;
}

interface PendingContext {
  payload: KvTransferPayload;
  releaseKv: () => void;
  timer: NodeJS.Timeout;
}

/** Context states waiting for their generation worker, freed on pull or after the transfer timeout. */
export class ContextStateStore {
  private readonly pending = new Map<number, PendingContext>();

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (ctxRequestId: number) => void = () => undefined,
  ) {}

  put(payload: KvTransferPayload, releaseKv: () => void): void {
    const timer = setTimeout(() => {
      const entry = this.pending.get(payload.ctx_request_id);
      if (!entry) return;
      this.pending.delete(payload.ctx_request_id);
      entry.releaseKv();
      this.onExpired(payload.ctx_request_id);
    }, this.timeoutMs);
    timer.unref();
    this.pending.set(payload.ctx_request_id, { payload, releaseKv, timer });
  }

  /** Removes and returns the state (the transfer frees it), or undefined for an unknown or expired id. */
  take(ctxRequestId: number): KvTransferPayload | undefined {
    const entry = this.pending.get(ctxRequestId);
    if (!entry) return undefined;
    this.pending.delete(ctxRequestId);
    clearTimeout(entry.timer);
    entry.releaseKv();
    return entry.payload;
  }

  get size(): number {
    return this.pending.size;
  }

  ids(): number[] {
    return [...this.pending.keys()];
  }

  clear(): void {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.releaseKv();
    }
    this.pending.clear();
  }
}

export type PullResult = { ok: true; payload: KvTransferPayload } | { ok: false; message: string };

/** Pulls a context state from the worker named in the opaque state (fails fast on unknown ids). */
export async function pullKvState(
  state: OpaqueState,
  ctxRequestId: number,
  timeoutMs: number,
): Promise<PullResult> {
  const host = state.host === '0.0.0.0' || state.host === '::' ? '127.0.0.1' : state.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${state.port}/_sim/kv_transfer/${ctxRequestId}`;
  try {
    const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // Plain-text error body: use it as it is.
      }
      return {
        ok: false,
        message: `KV cache transfer from ${host}:${state.port} failed: ${message}`,
      };
    }
    return { ok: true, payload: JSON.parse(text) as KvTransferPayload };
  } catch (err) {
    return {
      ok: false,
      message: `KV cache transfer from ${host}:${state.port} failed: ${(err as Error).message}`,
    };
  }
}
