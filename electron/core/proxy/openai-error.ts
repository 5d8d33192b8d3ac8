// The one error shape the proxy answers with: OpenAI's `{"error":{"message","type","param","code"}}`,
// with upstream's numeric HTTP status as `code` (trtllm-serve's ErrorResponse does the same). Worker
// answers in other shapes (trtllm-serve's `{"object":"error",...}`, FastAPI's `{"detail":...}`, the
// disaggregated server's `{"error":"text"}`, trtllm-protocol.md 5) are mapped into it with their status
// kept, so a client never has to parse two shapes (issue #15). Layer: core (pure).

/** The OpenAI `type` for a status when the source gave none. */
export function errorTypeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}

/** An OpenAI-shaped error body; never carries internal addresses (callers pass generic text). */
export function errorBody(message: string, status: number, type: string = errorTypeOf(status), param: string | null = null): string {
  return JSON.stringify({ error: { message, type, param, code: status } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return undefined;
  return JSON.stringify(v);
}

/**
 * A worker's error answer (status >= 400) in the OpenAI shape, status kept. An answer already in that
 * shape is returned unchanged (a byte copy); anything unreadable gets a generic message naming the status.
 */
export function workerErrorBody(body: Buffer, status: number): string {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return errorBody(`Worker returned HTTP ${status}`, status);
  }
  if (!isRecord(parsed)) return errorBody(`Worker returned HTTP ${status}`, status);
  const inner = parsed['error'];
  if (isRecord(inner) && typeof inner['message'] === 'string') return text;
  // {"object":"error",...} (trtllm-serve), {"detail":...} (FastAPI), {"error":"text"} (disagg server).
  const message = textOf(parsed['message']) ?? textOf(parsed['detail']) ?? textOf(inner) ?? `Worker returned HTTP ${status}`;
  const type = typeof parsed['type'] === 'string' ? parsed['type'] : errorTypeOf(status);
  const param = typeof parsed['param'] === 'string' ? parsed['param'] : null;
  return errorBody(message, status, type, param);
}
