// An incremental HTTP/1.1 response parser for the proxy's upstream connections (RFC 9112): status
// line, headers, and a body framed by Content-Length, chunked transfer coding or the connection's
// close. It reads only what the proxy needs (status, content type, framing, reuse) and hands body
// bytes on as views of the socket's buffers, so a streamed token is never copied or decoded here.
//
// Why ours and not a library (measured, bench/upstream-client-bench.ts, same run, client pinned to one
// core, 2026-12-07, a loaded 2-core box): client CPU per whole-answer request 30.6 us for ours against
// 55.4 us for undici's dispatcher API (llhttp in wasm, raw handler, no IncomingMessage), and per streamed
// token 1.4 us against 5.8 us; Node's http client was most of the proxy's cost above a bare relay
// (bench/README.md). What a library gives, agreement with a well-tried parser, is held here by
// differential fuzzing against llhttp (tests/unit/core/proxy/http1-response-parser-fuzz.test.ts:
// 200,000 generated responses, no divergence): what llhttp rejects, this rejects. It is stricter on
// purpose in a few places (INTENDED_STRICTER there): HTTP versions other than 1.x, 101, transfer codings
// other than plain chunked, lengths past 2^53, chunk sizes past 12 hex digits, empty lines before the
// status line. Every HttpParseError closes the connection (upstream-pool.ts) and answers 502.
// Layer: core.

/** Where parsed pieces go. Called synchronously from `push` / `endOfInput`. */
export interface ResponseSink {
  /**
   * The final (non-1xx) status line and headers. `metricsHeaders`: Server-Timing and X-TRTLLM-* headers by
   * lower-case name, when the answer has any. `bodyLength`: the Content-Length, -1 when chunked or unknown.
   */
  onHead(
    status: number,
    contentType: string | undefined,
    metricsHeaders?: Record<string, string>,
    bodyLength?: number,
  ): void;
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

/**
 * Longest status line plus headers accepted, counted up to the LF that starts the blank line (Node's
 * default is 16 KB; uvicorn sends a few hundred bytes).
 */
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
  private keepAliveS = -1;

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

  /**
   * The idle time the worker keeps this connection open for, from the last answer's `Keep-Alive:
   * timeout=N` (seconds; -1 when it named none, as uvicorn does).
   */
  get workerKeepAliveS(): number {
    return this.keepAliveS;
  }

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.state = State.Head;
    this.pendingHead = undefined;
    this.pendingLine = '';
    this.remaining = 0;
    this.canReuse = true;
    this.hasBytes = false;
    this.keepAliveS = -1;
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
          // The CRLF after a chunk's data, possibly split across reads.
          const b = buf[i];
          if (b === CR && this.pendingLine === '') {
            this.pendingLine = '\r';
            i++;
          } else if (b === LF && this.pendingLine === '\r') {
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
          else checkFieldLine(line.text, 0, line.text.length);
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

  /** Reads one line ending in CRLF (CRLF stripped), possibly split across pushes. */
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
    if (!text.endsWith('\r')) throw new HttpParseError('chunk line not ended by CRLF');
    text = text.slice(0, -1);
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
      const digit =
        c >= 48 && c <= 57
          ? c - 48
          : c >= 97 && c <= 102
            ? c - 87
            : c >= 65 && c <= 70
              ? c - 55
              : -1;
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
    const size = parseChunkSizeLine(line);
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
        if (end.headEnd - 1 - from > MAX_HEAD_BYTES) {
          throw new HttpParseError('response head too large');
        }
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
    if (end.headEnd - 1 > MAX_HEAD_BYTES) throw new HttpParseError('response head too large');
    this.parseHead(head.toString('latin1', 0, end.headEnd));
    return from + end.bodyStart - pending.length;
  }

  private keepPartialHead(bytes: Buffer): void {
    // The limit is on the head's text (without its blank line); a partial head may end in the first
    // two bytes of that blank line, hence the + 2.
    if (bytes.length > MAX_HEAD_BYTES + 2) throw new HttpParseError('response head too large');
    this.pendingHead = Buffer.from(bytes);
  }

  /** Parses the status line and header lines; `text` is the head without its blank line, each line ending in CRLF. */
  private parseHead(text: string): void {
    const statusEnd = crlfAt(text, 0, 'status line');
    const { isHttp10, status } = parseStatusLine(text.slice(0, statusEnd));
    const fields = new HeadFields();
    for (let start = statusEnd + 2; start < text.length;) {
      const end = crlfAt(text, start, 'header line');
      fields.add(text, start, end);
      start = end + 2;
    }
    const framing = fields.framing();
    if (status >= 100 && status < 200) {
      // 100 Continue, 103 Early Hints: informational; the real answer follows on the same connection.
      if (status === 101) throw new HttpParseError('unexpected protocol switch');
      this.state = State.Head;
      return;
    }
    this.canReuse = fields.keepsAlive(isHttp10);
    this.keepAliveS = fields.keepAliveS;
    const bodyLength = typeof framing === 'number' ? framing : -1;
    this.sink.onHead(status, fields.contentType, fields.metricsHeaders, bodyLength);
    if (this.state === State.Done) return; // the sink aborted from onHead
    if (status === 204 || status === 304) {
      this.complete();
    } else if (framing === 'chunked') {
      this.state = State.ChunkSize;
    } else if (framing >= 0) {
      this.remaining = framing;
      if (framing === 0) this.complete();
      else this.state = State.LengthBody;
    } else {
      this.canReuse = false;
      this.state = State.CloseBody;
    }
  }
}

/** tchar of RFC 9110 5.6.2: the bytes a header (or chunk extension) name may hold. */
const IS_TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  IS_TOKEN[c.charCodeAt(0)] = 1;
}

/** field-vchar, SP and HTAB (RFC 9110 5.5): what a header value or reason phrase may hold. */
function isFieldChar(c: number): boolean {
  return c === 9 || (c >= 32 && c !== 127);
}

/**
 * A chunk-size line without its CRLF: hex digits, then chunk extensions, checked and ignored. The
 * extension grammar is llhttp's (RFC 9112 7.1.1 without its optional whitespace, which llhttp rejects,
 * and with empty names and values, which llhttp accepts): `;name`, `;name=token`, `;name="quoted"`.
 */
function parseChunkSizeLine(line: string): number {
  const m = /^([0-9a-fA-F]+)(.*)$/s.exec(line);
  if (!m) throw new HttpParseError(`invalid chunk size ${JSON.stringify(line.slice(0, 40))}`);
  const hex = (m[1] as string).replace(/^0+(?=.)/, '');
  if (m[2] !== '' && !CHUNK_EXTENSIONS.test(m[2] as string)) {
    throw new HttpParseError(`invalid chunk extension ${JSON.stringify(line.slice(0, 40))}`);
  }
  if (hex.length > 12) {
    throw new HttpParseError(`chunk size too large ${JSON.stringify(line.slice(0, 40))}`);
  }
  return parseInt(hex, 16);
}

const TCHARS = "[!#$%&'*+\\-.^_`|~0-9a-zA-Z]";
const QUOTED =
  '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const CHUNK_EXTENSIONS = new RegExp(
  `^(?:;(?:${TCHARS}+(?:=(?:${TCHARS}*|${QUOTED}))?|=(?:${TCHARS}*|${QUOTED})))+$`,
);

/** The CRLF ending the line that starts at `from`; a bare LF (or none) is an error, as in llhttp. */
function crlfAt(text: string, from: number, what: string): number {
  const nl = text.indexOf('\n', from);
  if (nl < 0 || nl === from || text.charCodeAt(nl - 1) !== CR) {
    throw new HttpParseError(`${what} not ended by CRLF`);
  }
  return nl - 1;
}

function parseStatusLine(line: string): { isHttp10: boolean; status: number } {
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(line);
  if (!m) {
    // llhttp skips empty lines before a status line; RFC 9112 2.2 allows that before a request only,
    // and a worker that sends stray line ends between answers is out of step with its connection.
    if (line === '') throw new HttpParseError('empty line before the status line');
    if (/^[A-Z]+\/\d\.\d \d{3}(?: |$)/.test(line)) {
      throw new HttpParseError(`unsupported HTTP version ${JSON.stringify(line.slice(0, 12))}`);
    }
    throw new HttpParseError(`invalid status line ${JSON.stringify(line.slice(0, 60))}`);
  }
  // The reason phrase is not read; like llhttp, only a bare CR in it is an error.
  if (line.includes('\r')) {
    throw new HttpParseError(`bare CR in the status line ${JSON.stringify(line.slice(0, 60))}`);
  }
  return { isHttp10: m[1] === '0', status: Number(m[2]) };
}

/**
 * Checks a field line (RFC 9112 5: token name, colon, OWS, value, OWS) and returns where its value's
 * text starts and ends, trimmed. Used for headers and trailers alike.
 */
function checkFieldLine(
  text: string,
  start: number,
  end: number,
): { colon: number; valueStart: number; valueEnd: number } {
  let colon = start;
  while (colon < end && IS_TOKEN[text.charCodeAt(colon)] === 1) colon++;
  if (colon === end || text.charCodeAt(colon) !== 58) {
    const c = text.charCodeAt(colon);
    // RFC 9112 5.1: no whitespace between a field name and its colon; such a response is rejected.
    if (
      colon > start &&
      (c === 32 || c === 9) &&
      text.indexOf(':', colon) > 0 &&
      text.indexOf(':', colon) < end
    ) {
      throw new HttpParseError(
        `whitespace before colon in header ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))}`,
      );
    }
    throw new HttpParseError(
      `invalid header line ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))}`,
    );
  }
  if (colon === start) {
    throw new HttpParseError(
      `invalid header line ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))}`,
    );
  }
  let valueStart = colon + 1;
  let valueEnd = end;
  for (let k = valueStart; k < end; k++) {
    if (!isFieldChar(text.charCodeAt(k))) {
      throw new HttpParseError(
        `invalid character in header ${JSON.stringify(text.slice(start, colon))}`,
      );
    }
  }
  while (valueStart < valueEnd && isOws(text.charCodeAt(valueStart))) valueStart++;
  while (valueEnd > valueStart && isOws(text.charCodeAt(valueEnd - 1))) valueEnd--;
  return { colon, valueStart, valueEnd };
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * The header fields that decide framing, reuse and the content type, plus the per-request metrics
 * headers; the rest are checked and dropped.
 */
class HeadFields {
  contentType: string | undefined;
  /** Server-Timing and X-TRTLLM-* values by lower-case name (repeats joined), when the answer has any. */
  metricsHeaders: Record<string, string> | undefined;
  private contentLength = -1;
  private transferEncoding: string | undefined;
  private connection = '';
  /** `Keep-Alive: timeout=N` in seconds, -1 without one. */
  keepAliveS = -1;

  add(text: string, start: number, end: number): void {
    const { colon, valueStart, valueEnd } = checkFieldLine(text, start, end);
    // Only the four headers that matter are copied, picked by their name's length first: this runs
    // for every header line, twice per proxied request.
    const nameLength = colon - start;
    if (isMetricsHeaderName(text, start, nameLength)) {
      this.addMetricsHeader(
        text.slice(start, colon).toLowerCase(),
        text.slice(valueStart, valueEnd),
      );
      return;
    }
    if (nameLength !== 14 && nameLength !== 17 && nameLength !== 12 && nameLength !== 10) return;
    const name = text.slice(start, colon).toLowerCase();
    if (name === 'content-length') this.addContentLength(text.slice(valueStart, valueEnd));
    else if (name === 'transfer-encoding') {
      // Several Transfer-Encoding lines are one list (RFC 9110 5.3). Kept with trailing whitespace:
      // llhttp reads "chunked<TAB>" as not chunked, so it must not look chunked here.
      const value = text.slice(valueStart, end);
      this.transferEncoding =
        this.transferEncoding === undefined ? value : `${this.transferEncoding}, ${value}`;
    } else if (name === 'content-type') {
      // The first one, as Node's http client keeps it.
      this.contentType ??= text.slice(valueStart, valueEnd);
    } else if (name === 'connection') {
      this.connection += text.slice(valueStart, valueEnd).toLowerCase() + ',';
    } else if (name === 'keep-alive') {
      // RFC 9112 appendix C.2.2's hint (Node's servers send it; uvicorn does not): how long the worker
      // keeps an idle connection, so the pool can keep its own connections warm that long.
      const timeout = /(?:^|,)\s*timeout\s*=\s*(\d{1,6})\s*(?:,|$)/i.exec(
        text.slice(valueStart, valueEnd),
      );
      if (timeout) this.keepAliveS = Number(timeout[1]);
    }
  }

  /** Per-request metrics (TensorRT-LLM 1.3, request-metrics.ts): rare, so only looked at by name shape. */
  private addMetricsHeader(name: string, value: string): void {
    const headers = (this.metricsHeaders ??= {});
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : `${earlier}, ${value}`;
  }

  private addContentLength(value: string): void {
    // llhttp rejects any second Content-Length, even an equal one: a list or repeat is how lengths get
    // smuggled past one parser and not another.
    if (this.contentLength >= 0) throw new HttpParseError('duplicate content-length headers');
    if (!/^\d+$/.test(value)) {
      throw new HttpParseError(`invalid content-length ${JSON.stringify(value.slice(0, 30))}`);
    }
    // Past 15 digits a JS number is no longer an exact byte count; no worker sends a petabyte.
    if (value.replace(/^0+/, '').length > 15) {
      throw new HttpParseError(`content-length too large ${JSON.stringify(value.slice(0, 30))}`);
    }
    this.contentLength = Number(value);
  }

  /** 'chunked', a Content-Length, or -1 for a body delimited by the connection's close. */
  framing(): 'chunked' | number {
    const te = this.transferEncoding;
    if (te === undefined) return this.contentLength;
    // Only plain chunked: a compressing coding (gzip, chunked) would reach the client still compressed,
    // since the proxy relays bodies without transfer-coding headers.
    if (te.replace(/ +$/, '').toLowerCase() !== 'chunked') {
      throw new HttpParseError(`unsupported transfer-encoding ${JSON.stringify(te.slice(0, 40))}`);
    }
    // RFC 9112 6.1: both framings at once "ought to be handled as an error" (the shape of response
    // smuggling); llhttp rejects it.
    if (this.contentLength >= 0) {
      throw new HttpParseError('both content-length and transfer-encoding');
    }
    return 'chunked';
  }

  keepsAlive(isHttp10: boolean): boolean {
    return isHttp10
      ? /(^|,)\s*keep-alive\s*(,|$)/.test(this.connection)
      : !/(^|,)\s*close\s*(,|$)/.test(this.connection);
  }
}

/**
 * Finds the blank line ending a head in `buf`, looking at line feeds from `from` on. Returns where the
 * head's text ends (after its last line's CRLF) and where the body starts. A blank line of a bare LF
 * is an error (llhttp in strict mode rejects it too).
 */
function findHeadEnd(
  buf: Buffer,
  from: number,
): { headEnd: number; bodyStart: number } | undefined {
  for (let i = buf.indexOf(LF, from); i >= 0; i = buf.indexOf(LF, i + 1)) {
    const next = buf[i + 1];
    if (next === CR && buf[i + 2] === LF) return { headEnd: i + 1, bodyStart: i + 3 };
    if (next === LF) throw new HttpParseError('line not ended by CRLF in the response head');
  }
  return undefined;
}

/** `server-timing` or `x-trtllm-...` (case-insensitive), checked without slicing the usual headers. */
function isMetricsHeaderName(text: string, start: number, length: number): boolean {
  const c = text.charCodeAt(start) | 0x20;
  if (c === 115 /* s */) {
    return length === 13 && text.slice(start, start + 13).toLowerCase() === 'server-timing';
  }
  return (
    c === 120 /* x */ && length > 9 && text.slice(start, start + 9).toLowerCase() === 'x-trtllm-'
  );
}
