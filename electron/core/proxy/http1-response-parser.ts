// An incremental HTTP/1.1 response parser for the proxy's upstream connections (RFC 9112): status
// line, headers, and a body framed by Content-Length, chunked transfer coding or the connection's
// close. It reads only what the proxy needs (status, content type, framing, reuse) and hands body
// bytes on as views of the socket's buffers, so a streamed token is never copied or decoded here.
// Node's http client builds a ClientRequest, an IncomingMessage stream and a header map per call,
// which was most of the proxy's cost per request above a bare relay (bench/README.md).
// Layer: core.

/** Where parsed pieces go. Called synchronously from `push` / `endOfInput`. */
export interface ResponseSink {
  /** The final (non-1xx) status line and headers. */
  /** `metricsHeaders`: Server-Timing and X-TRTLLM-* headers by lower-case name, when the answer has any. */
  onHead(status: number, contentType: string | undefined, metricsHeaders?: Record<string, string>): void;
  /** Body bytes, de-chunked; a view into the pushed buffer, valid to keep. */
  onBody(chunk: Buffer): void;
  /** The body ended; `canReuse` says whether the connection may carry another request. */
  onComplete(canReuse: boolean): void;
}

export class HttpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpParseError';
  }
}

/** Longest status line plus headers accepted (Node's default is 16 KB; uvicorn sends a few hundred bytes). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size or trailer line accepted. */
const MAX_LINE_BYTES = 4 * 1024;

const enum State {
  Head,
  LengthBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  CloseBody,
  Done,
}

const LF = 10;
const CR = 13;

export class Http1ResponseParser {
  private state = State.Head;
  /** Head bytes kept from earlier pushes while the blank line has not arrived. */
  private pendingHead: Buffer | undefined;
  /** A chunk-size or trailer line split across pushes. */
  private pendingLine = '';
  private remaining = 0;
  private canReuse = true;
  private hasBytes = false;

  constructor(private readonly sink: ResponseSink) {}

  /** Whether any byte of the response arrived (a failure before that is a reset, after it a truncation). */
  get hasStarted(): boolean {
    return this.hasBytes;
  }

  /** Whether the status line and headers were parsed. */
  get hasHead(): boolean {
    return this.state !== State.Head;
  }

  get isDone(): boolean {
    return this.state === State.Done;
  }

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.state = State.Head;
    this.pendingHead = undefined;
    this.pendingLine = '';
    this.remaining = 0;
    this.canReuse = true;
    this.hasBytes = false;
  }

  /**
   * Parses the bytes of one read. Returns the number of bytes left over after the response ended
   * (0 normally; more means the server sent something we did not ask for, and the connection must
   * not be reused). Throws HttpParseError on a malformed response.
   */
  push(buf: Buffer): number {
    if (buf.length > 0) this.hasBytes = true;
    let i = 0;
    const len = buf.length;
    while (i < len) {
      switch (this.state) {
        case State.Head: {
          i = this.readHead(buf, i);
          break;
        }
        case State.LengthBody: {
          const take = Math.min(this.remaining, len - i);
          this.remaining -= take;
          this.sink.onBody(i === 0 && take === len ? buf : buf.subarray(i, i + take));
          i += take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case State.ChunkSize: {
          // Fast path, once per streamed token: a plain hex size and CRLF, read from the bytes.
          const next = this.pendingLine === '' ? this.readPlainChunkSize(buf, i) : -1;
          if (next >= 0) {
            i = next;
            break;
          }
          const line = this.readLine(buf, i);
          if (line === undefined) return 0;
          i = line.next;
          this.startChunk(line.text);
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, len - i);
          this.remaining -= take;
          this.sink.onBody(buf.subarray(i, i + take));
          i += take;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after a chunk's data (a bare LF is accepted, as most parsers do).
          const b = buf[i];
          if (b === CR && this.pendingLine === '') {
            this.pendingLine = '\r';
            i++;
          } else if (b === LF) {
            this.pendingLine = '';
            this.state = State.ChunkSize;
            i++;
          } else {
            throw new HttpParseError('missing CRLF after chunk data');
          }
          break;
        }
        case State.Trailer: {
          const line = this.readLine(buf, i);
          if (line === undefined) return 0;
          i = line.next;
          if (line.text === '') this.complete();
          break;
        }
        case State.CloseBody: {
          this.sink.onBody(i === 0 ? buf : buf.subarray(i));
          return 0;
        }
        case State.Done:
          return len - i;
      }
    }
    return 0;
  }

  /**
   * The connection reached its end. Returns true when that completes the response (a body delimited
   * by the close); false when the response is cut short or never started.
   */
  endOfInput(): boolean {
    if (this.state === State.CloseBody) {
      this.complete();
      return true;
    }
    return this.state === State.Done;
  }

  private complete(): void {
    this.state = State.Done;
    this.sink.onComplete(this.canReuse);
  }

  /** Reads one line ending in LF (CR stripped), possibly split across pushes. */
  private readLine(buf: Buffer, from: number): { text: string; next: number } | undefined {
    const nl = buf.indexOf(LF, from);
    if (nl < 0) {
      this.pendingLine += buf.toString('latin1', from);
      if (this.pendingLine.length > MAX_LINE_BYTES) throw new HttpParseError('chunk line too long');
      return undefined;
    }
    let text = this.pendingLine + buf.toString('latin1', from, nl);
    this.pendingLine = '';
    // Checked on the whole line too, so the limit does not depend on how the reads cut it.
    if (text.length > MAX_LINE_BYTES) throw new HttpParseError('chunk line too long');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { text, next: nl + 1 };
  }

  /**
   * Reads a chunk-size line of only hex digits and CRLF (what servers send) without making a string.
   * Returns the index after the line, or -1 for anything else (extensions, LF only, a split line,
   * too many digits), which the general line path handles.
   */
  private readPlainChunkSize(buf: Buffer, from: number): number {
    let size = 0;
    let k = from;
    const end = Math.min(buf.length, from + 12);
    for (; k < end; k++) {
      const c = buf[k] as number;
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) break;
      size = size * 16 + digit;
    }
    if (k === from || buf[k] !== CR || buf[k + 1] !== LF) return -1;
    if (size === 0) this.state = State.Trailer;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return k + 2;
  }

  private startChunk(line: string): void {
    const semi = line.indexOf(';');
    const hex = (semi >= 0 ? line.slice(0, semi) : line).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpParseError(`invalid chunk size ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(hex, 16);
    if (size === 0) {
      this.state = State.Trailer;
      return;
    }
    this.remaining = size;
    this.state = State.ChunkData;
  }

  /** Accumulates head bytes until the blank line, then parses it; returns the index in `buf` after the head. */
  private readHead(buf: Buffer, from: number): number {
    const pending = this.pendingHead;
    if (pending === undefined) {
      const end = findHeadEnd(buf, from);
      if (end !== undefined) {
        if (end.headEnd - from > MAX_HEAD_BYTES) throw new HttpParseError('response head too large');
        this.parseHead(buf.toString('latin1', from, end.headEnd));
        return end.bodyStart;
      }
      this.keepPartialHead(buf.subarray(from));
      return buf.length;
    }
    // A head split across reads (rare): search the joined bytes, from a little before the join so a
    // blank line that straddles it is found.
    const head = Buffer.concat([pending, buf.subarray(from)]);
    this.pendingHead = undefined;
    const end = findHeadEnd(head, Math.max(0, pending.length - 3));
    if (end === undefined) {
      this.keepPartialHead(head);
      return buf.length;
    }
    if (end.headEnd > MAX_HEAD_BYTES) throw new HttpParseError('response head too large');
    this.parseHead(head.toString('latin1', 0, end.headEnd));
    return from + end.bodyStart - pending.length;
  }

  private keepPartialHead(bytes: Buffer): void {
    // The limit is on the head's text (without its blank line); a partial head may end in the first
    // two bytes of that blank line, hence the + 2.
    if (bytes.length > MAX_HEAD_BYTES + 2) throw new HttpParseError('response head too large');
    this.pendingHead = Buffer.from(bytes);
  }

  private parseHead(text: string): void {
    const firstEnd = lineEndAt(text, 0);
    const statusLine = text.slice(0, firstEnd.end);
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
    if (!m) throw new HttpParseError(`invalid status line ${JSON.stringify(statusLine.slice(0, 60))}`);
    const isHttp10 = m[1] === '0';
    const status = Number(m[2]);
    let contentLength = -1;
    let isChunked = false;
    let contentType: string | undefined;
    let connection = '';
    let metricsHeaders: Record<string, string> | undefined;
    // One pass over the header lines, copying only the four headers that matter (picked by their
    // name's length first): this runs twice per proxied request.
    for (let start = firstEnd.next; start < text.length; ) {
      const { end, next } = lineEndAt(text, start);
      if (end > start) {
        const colon = text.indexOf(':', start);
        if (colon <= start || colon >= end) throw new HttpParseError(`invalid header line ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))}`);
        const last = text.charCodeAt(colon - 1);
        // RFC 9112 5.1: no whitespace between a field name and its colon; such a response is rejected.
        if (last === 32 || last === 9) throw new HttpParseError(`whitespace before colon in header ${JSON.stringify(text.slice(start, colon))}`);
        const nameLength = colon - start;
        if (isMetricsHeaderName(text, start, nameLength)) {
          // Per-request metrics (TensorRT-LLM 1.3, request-metrics.ts): rare, so only looked at by name shape.
          const name = text.slice(start, colon).toLowerCase();
          const value = text.slice(colon + 1, end).trim();
          metricsHeaders ??= {};
          metricsHeaders[name] = metricsHeaders[name] === undefined ? value : `${metricsHeaders[name]}, ${value}`;
        } else if (nameLength === 14 || nameLength === 17 || nameLength === 12 || nameLength === 10) {
          const name = text.slice(start, colon).toLowerCase();
          const value = text.slice(colon + 1, end).trim();
          if (name === 'content-length') {
            if (!/^\d{1,15}$/.test(value)) throw new HttpParseError(`invalid content-length ${JSON.stringify(value)}`);
            const n = Number(value);
            if (contentLength >= 0 && contentLength !== n) throw new HttpParseError('conflicting content-length headers');
            contentLength = n;
          } else if (name === 'transfer-encoding') {
            // Only plain chunked: a compressing coding (gzip, chunked) would reach the client still
            // compressed, since the proxy relays bodies without transfer-coding headers.
            isChunked = value.toLowerCase() === 'chunked';
            if (!isChunked) throw new HttpParseError(`unsupported transfer-encoding ${JSON.stringify(value)}`);
          } else if (name === 'content-type') {
            contentType = value;
          } else if (name === 'connection') {
            connection += value.toLowerCase() + ',';
          }
        }
      }
      start = next;
    }
    if (status >= 100 && status < 200) {
      // 100 Continue, 103 Early Hints: informational; the real answer follows on the same connection.
      if (status === 101) throw new HttpParseError('unexpected protocol switch');
      this.state = State.Head;
      return;
    }
    this.canReuse = isHttp10 ? /(^|,)\s*keep-alive\s*(,|$)/.test(connection) : !/(^|,)\s*close\s*(,|$)/.test(connection);
    this.sink.onHead(status, contentType, metricsHeaders);
    if (this.state === State.Done) return; // the sink aborted from onHead
    if (status === 204 || status === 304) {
      this.complete();
    } else if (isChunked) {
      this.state = State.ChunkSize;
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      if (contentLength === 0) this.complete();
      else this.state = State.LengthBody;
    } else {
      this.canReuse = false;
      this.state = State.CloseBody;
    }
  }
}

/** The line starting at `start`: where its text ends (before CR LF or LF) and where the next begins. */
function lineEndAt(text: string, start: number): { end: number; next: number } {
  let nl = text.indexOf('\n', start);
  if (nl < 0) nl = text.length;
  const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  return { end, next: nl + 1 };
}

/**
 * Finds the blank line ending a head (CRLFCRLF, or LFLF from lenient servers) in `buf`, looking at
 * line feeds from `from` on. Returns where the head's text ends and where the body starts.
 */
function findHeadEnd(buf: Buffer, from: number): { headEnd: number; bodyStart: number } | undefined {
  for (let i = buf.indexOf(LF, from); i >= 0; i = buf.indexOf(LF, i + 1)) {
    const next = buf[i + 1];
    if (next === LF) return { headEnd: i, bodyStart: i + 2 };
    if (next === CR && buf[i + 2] === LF) return { headEnd: i, bodyStart: i + 3 };
  }
  return undefined;
}

/** `server-timing` or `x-trtllm-...` (case-insensitive), checked without slicing the usual headers. */
function isMetricsHeaderName(text: string, start: number, length: number): boolean {
  const c = text.charCodeAt(start) | 0x20;
  if (c === 115 /* s */) return length === 13 && text.slice(start, start + 13).toLowerCase() === 'server-timing';
  return c === 120 /* x */ && length > 9 && text.slice(start, start + 9).toLowerCase() === 'x-trtllm-';
}
