// The proxy's per-chunk SSE fast path: a chunk of whole single-line `data:` events (what trtllm-serve
// writes, trtllm-protocol.md 4.4) is classified on its bytes with Buffer.indexOf, without decoding it
// to a string or building event objects. Anything else (split events, `\r`, comments, other fields,
// error or role-only events) is left to the full SseParser of shared/logic/sse.ts. Layer: core.

const LF = 10;
const CR = 13;
// A token event always carries a non-empty choices list; error events (no "choices", see isErrorEvent)
// and the usage-only final chunk (`"choices":[]`) do not, so they fall to the full parser.
const CHOICES = Buffer.from('"choices":[{');
// Chat's role-only first event is not a token.
const ROLE_ONLY_TEXT = '"delta":{"role":"assistant"}';
const ROLE_ONLY = Buffer.from(ROLE_ONLY_TEXT);

/**
 * The full path's rule for a data event that is not a token: chat's role-only first event and the
 * usage-only final chunk (`"choices":[]`). scanPlainSseChunk leaves chunks holding either to that path.
 */
export function isNonTokenData(data: string): boolean {
  return data.indexOf(ROLE_ONLY_TEXT) >= 0 || data.indexOf('"choices":[]') >= 0;
}

/** What one scanned chunk held; reused between calls (no allocation per chunk). */
export class SseChunkScan {
  /** Token events (data events other than `[DONE]`), in order. */
  tokens = 0;
  /** True when the chunk held `data: [DONE]`. */
  isDone = false;
  /** Byte range of the last non-[DONE] event's data in the chunk; -1 when none. */
  lastDataStart = -1;
  lastDataEnd = -1;
}

function isDoneValue(chunk: Buffer, start: number, end: number): boolean {
  // The same rule as isDoneEvent: short data that trims to `[DONE]`.
  return end - start < 24 && chunk.toString('latin1', start, end).trim() === '[DONE]';
}

/**
 * Scans `chunk` into `out` and returns true, or returns false (and leaves the chunk to the full parser)
 * unless the chunk is a run of complete single-line `data:` events ending in a blank line with no `\r`.
 * Must only be called while the full parser holds no partial event.
 */
export function scanPlainSseChunk(chunk: Buffer, out: SseChunkScan): boolean {
  // Few native calls per event (each costs more than the bytes it scans): CR and the role marker once
  // per chunk, then per event one newline search and one choices search.
  const len = chunk.length;
  if (len < 7 || chunk[len - 1] !== LF || chunk[len - 2] !== LF) return false;
  if (chunk.indexOf(CR) >= 0 || chunk.indexOf(ROLE_ONLY) >= 0) return false;
  let tokens = 0;
  let isDone = false;
  let lastStart = -1;
  let lastEnd = -1;
  let s = 0;
  while (s < len) {
    // One line per event, starting with `data:` and closed by a blank line (so no comments, no other
    // fields, no multi-line data, no runs of blank lines).
    if (
      chunk[s] !== 100 ||
      chunk[s + 1] !== 97 ||
      chunk[s + 2] !== 116 ||
      chunk[s + 3] !== 97 ||
      chunk[s + 4] !== 58
    ) {
      return false;
    }
    const e = chunk.indexOf(LF, s + 5);
    if (e < 0 || chunk[e + 1] !== LF) return false;
    const v = chunk[s + 5] === 32 ? s + 6 : s + 5;
    if (isDoneValue(chunk, v, e)) {
      isDone = true;
    } else {
      const c = chunk.indexOf(CHOICES, v);
      if (c < 0 || c >= e) return false;
      tokens++;
      lastStart = v;
      lastEnd = e;
    }
    s = e + 2;
  }
  out.tokens = tokens;
  out.isDone = isDone;
  out.lastDataStart = lastStart;
  out.lastDataEnd = lastEnd;
  return true;
}
