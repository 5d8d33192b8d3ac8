// Incremental Server-Sent Events framing parser, robust to events split across chunks, `\r\n` and `\r`
// line endings, comment lines (`: ping`), multi-line `data:` and a missing final blank line at EOF
// (reliability.md item 17). The proxy relays upstream bytes verbatim and uses this only to count,
// timestamp and classify events. Layer: shared (pure).

/** One dispatched SSE event. trtllm-serve sends only `data:` lines (trtllm-protocol.md 4.4). */
export interface SseEvent {
  data: string;
  event?: string;
  id?: string;
}

/** Feeds text chunks in, returns the events completed by each chunk. */
export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private dataLines: string[] = [];
  private eventName: string | undefined;
  private eventId: string | undefined;
  private hasFields = false;

  /** Consumes one decoded chunk; returns every event it completed (often exactly one). */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    // A `\r` at the end of the previous chunk may be the first half of `\r\n`.
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    let start = 0;
    const buf = this.buffer;
    let pos = 0;
    if (buf.length > 0) {
      text = buf + text;
      this.buffer = '';
    }
    const len = text.length;
    if (text.indexOf('\r') < 0) {
      // Fast path (what trtllm-serve sends): `\n` endings only, found with indexOf instead of a char loop.
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        this.line(text.slice(start, nl), out);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      if (start < len) this.buffer = text.slice(start);
      return out;
    }
    while (pos < len) {
      const code = text.charCodeAt(pos);
      if (code === 10 || code === 13) {
        this.line(text.slice(start, pos), out);
        if (code === 13) {
          if (pos + 1 < len) {
            if (text.charCodeAt(pos + 1) === 10) pos++;
          } else {
            this.pendingCr = true;
          }
        }
        start = pos + 1;
      }
      pos++;
    }
    if (start < len) this.buffer = text.slice(start);
    return out;
  }

  /** True at an event boundary: nothing buffered, so a chunk of whole events can be scanned elsewhere. */
  isIdle(): boolean {
    return this.buffer.length === 0 && !this.pendingCr && !this.hasFields;
  }

  /** End of stream: a last event without its closing blank line is still delivered. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer.length > 0) {
      this.line(this.buffer, out);
      this.buffer = '';
    }
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        this.hasFields = true;
        break;
      case 'event':
        this.eventName = value;
        this.hasFields = true;
        break;
      case 'id':
        this.eventId = value;
        this.hasFields = true;
        break;
      default:
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (!this.hasFields) return;
    if (this.dataLines.length > 0) {
      const ev: SseEvent = { data: this.dataLines.join('\n') };
      if (this.eventName !== undefined) ev.event = this.eventName;
      if (this.eventId !== undefined) ev.id = this.eventId;
      out.push(ev);
    }
    this.dataLines = [];
    this.eventName = undefined;
    this.eventId = undefined;
    this.hasFields = false;
  }
}

/** True for the OpenAI stream terminator `data: [DONE]` (trailing spaces tolerated). */
export function isDoneEvent(ev: SseEvent): boolean {
  const d = ev.data;
  return d.length < 24 && d.trim() === '[DONE]';
}

/** True when the event is an error object (`{"error": ...}` or `{"object":"error", ...}`) rather than a chunk. */
export function isErrorEvent(ev: SseEvent): boolean {
  const d = ev.data;
  if (d.indexOf('"error"') < 0) return false;
  if (d.indexOf('"choices"') >= 0) return false;
  return /^\s*\{\s*"error"\s*:/.test(d) || /"object"\s*:\s*"error"/.test(d);
}

/** Formats an OpenAI-style error event followed by `[DONE]`, the way the proxy ends a failed stream. */
export function formatSseError(message: string, code: number, type = 'server_error'): string {
  const body = JSON.stringify({ error: { message, type, param: null, code } });
  return `data: ${body}\n\ndata: [DONE]\n\n`;
}
