// Seeded generator of HTTP/1.1 responses for the parser's differential fuzzing: mostly well-formed
// answers of every framing, each with a chance of one or more faults drawn from what breaks parsers
// and what smuggling relies on (conflicting framing headers, obs-fold, bad chunk lines, bad bytes in
// names and values, huge sizes, bad status lines, bytes after the body). The same seed always yields
// the same responses, so a failure names a seed and an index that reproduce it.

/** A small fast PRNG (mulberry32): deterministic for a seed, good enough to pick cases. */
export class Rng {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const STATUS_LINES_VALID = [
  'HTTP/1.1 200 OK',
  'HTTP/1.1 200 ',
  'HTTP/1.1 200',
  'HTTP/1.1 201 Created',
  'HTTP/1.1 400 Bad Request',
  'HTTP/1.1 404 Not Found',
  'HTTP/1.1 429 Too Many Requests',
  'HTTP/1.1 500 Internal Server Error',
  'HTTP/1.1 503 Service Unavailable',
  'HTTP/1.1 204 No Content',
  'HTTP/1.1 304 Not Modified',
  'HTTP/1.0 200 OK',
  'HTTP/1.1 200 OK with spaces in reason',
  'HTTP/1.1 200 \xe9t\xe9',
];

const STATUS_LINES_BAD = [
  'HTTP/1.2 200 OK',
  'HTTP/2.0 200 OK',
  'HTTP/0.9 200 OK',
  'HTTP/1 200 OK',
  'http/1.1 200 OK',
  'HTTP/1.1  200 OK',
  'HTTP/1.1\t200 OK',
  'HTTP/1.1 20 OK',
  'HTTP/1.1 2000 OK',
  'HTTP/1.1 2x0 OK',
  'HTTP/1.1 000 Zero',
  'HTTP/1.1 099 Low',
  'HTTP/1.1 999 High',
  'HTTP/1.1 101 Switching Protocols',
  'HTTP/1.1 200 O\x00K',
  'HTTP/1.1 200 O\rK',
  'HTTP/1.1 200 O\x7fK',
  ' HTTP/1.1 200 OK',
  'HTTP/1.1 200OK',
  'HTTP/1.1',
  'ICE/1.0 200 OK',
  '',
  'GET / HTTP/1.1',
];

const INFORMATIONAL = [
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n',
  'HTTP/1.1 102 Processing\r\n\r\n',
];

const CONTENT_TYPES = [
  'application/json',
  'text/event-stream',
  'text/event-stream; charset=utf-8',
  'text/plain',
  '',
];

const NOISE_HEADERS: [string, string][] = [
  ['date', 'Mon, 07 Dec 2026 13:00:00 GMT'],
  ['server', 'uvicorn'],
  ['x-request-id', 'abc-123'],
  ['Cache-Control', 'no-cache'],
  ['x-empty', ''],
  ['x-tab', 'a\tb'],
  ['x-obs-text', '\xe9\xff'],
  ['Set-Cookie', 'a=b; Path=/'],
  ['x-quote', '"q,;=x"'],
  ['x-spaces', '  padded  '],
];

const BAD_NAMES = [
  'bad name',
  'bad\x00name',
  'bad(name)',
  '',
  'x@y',
  'bad"name',
  '\xe9',
  'a\tb',
  'x[1]',
];
const BAD_VALUES = ['a\x00b', 'a\x01b', 'a\x7fb', 'a\rb', 'a\x1bb'];
const CONNECTION_VALUES = [
  'close',
  'keep-alive',
  'Close',
  'Keep-Alive',
  'keep-alive, close',
  'upgrade',
  'close, upgrade',
  'x, close',
  'te',
  'closed',
];
const TE_VALUES = [
  'chunked',
  'Chunked',
  'CHUNKED',
  ' chunked',
  'chunked ',
  'gzip',
  'gzip, chunked',
  'chunked, gzip',
  'identity',
  '',
  'chunked;q=1',
  'chunk',
  'chunkedx',
  'x-custom',
  'chunked\t',
  '\tchunked',
  'chunked, chunked',
  'chunked,',
  ',chunked',
];
const CL_BAD = [
  '-1',
  '+3',
  '0x10',
  '3 3',
  '3,3',
  '3, 4',
  '',
  'abc',
  '1e3',
  '99999999999999999999',
  '18446744073709551616',
  '9007199254740993',
  '1234567890123456',
  ' 3',
  '3 ',
  '\t3',
];
const CHUNK_EXTENSIONS = [
  ';a=b',
  ';a',
  ';a="q"',
  ';a="q\\"x"',
  '; a=b',
  ' ;a=b',
  ';a=b;c=d',
  ';a=',
  ';=b',
  ';a b',
  ';a=\x00',
  ';\xe9',
  ';a="unterminated',
  '\t;a',
];
const TRAILERS = [
  'Trailer-A: 1\r\n',
  'x: y\r\nz: w\r\n',
  'bad name: 1\r\n',
  'nocolon\r\n',
  'x:\x00\r\n',
  ' fold: 1\r\n',
  'x: 1\n',
];

export interface GeneratedResponse {
  bytes: Buffer;
  /** What was drawn, for failure messages. */
  recipe: string[];
}

type Framing = 'length' | 'chunked' | 'close' | 'none';

/** Builds one response: a valid answer with probability about 40%, else with one to three faults. */
export function generateResponse(rng: Rng): GeneratedResponse {
  const recipe: string[] = [];
  const faultBudget = rng.chance(0.4) ? 0 : 1 + rng.int(3);
  let faults = 0;
  const fault = (p: number): boolean => faults < faultBudget && rng.chance(p) && ++faults > 0;
  const note = (s: string): void => void recipe.push(s);

  let text = '';
  if (rng.chance(0.08)) {
    const info = rng.pick(INFORMATIONAL);
    text += info;
    note('1xx first');
  }
  let statusLine = rng.pick(STATUS_LINES_VALID);
  if (fault(0.25)) {
    statusLine = rng.pick(STATUS_LINES_BAD);
    note(`bad status ${JSON.stringify(statusLine)}`);
  }
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 200);
  const eol = fault(0.05) ? (note('bare LF line endings'), '\n') : '\r\n';
  if (fault(0.03)) {
    text += '\r\n';
    note('CRLF before status line');
  }
  text += statusLine + eol;

  const framing: Framing = rng.pick([
    'length',
    'length',
    'chunked',
    'chunked',
    'close',
    'none',
  ] as const);
  const body = randomBody(rng);
  const headers: string[] = [];
  const add = (name: string, value: string): void =>
    void headers.push(`${name}:${rng.chance(0.85) ? ' ' : ''}${value}`);

  if (rng.chance(0.8)) {
    add(rng.pick(['Content-Type', 'content-type', 'CONTENT-TYPE']), rng.pick(CONTENT_TYPES));
  }
  if (rng.chance(0.1)) add('content-type', 'text/second');
  for (let n = rng.int(4); n > 0; n--) {
    const [name, value] = rng.pick(NOISE_HEADERS);
    add(name, value);
  }
  if (rng.chance(0.3)) add(rng.pick(['Connection', 'connection']), rng.pick(CONNECTION_VALUES));
  if (rng.chance(0.02)) for (let n = 0; n < 40; n++) add(`x-many-${n}`, String(n));

  let declaredLength = body.length;
  if (framing === 'length') {
    if (fault(0.15)) {
      declaredLength = Math.max(0, body.length + rng.pick([-3, -1, 1, 5]));
      note(`content-length ${declaredLength} for ${body.length} body bytes`);
    }
    add(rng.pick(['Content-Length', 'content-length']), String(declaredLength));
    if (fault(0.15)) {
      const dup = rng.chance(0.5) ? String(declaredLength) : String(declaredLength + 1);
      add('Content-Length', dup);
      note(`second content-length ${dup}`);
    }
    if (fault(0.1)) {
      add('Transfer-Encoding', rng.pick(TE_VALUES));
      note('CL and TE');
    }
  } else if (framing === 'chunked') {
    let te = 'chunked';
    if (fault(0.15)) {
      te = rng.pick(TE_VALUES);
      note(`transfer-encoding ${JSON.stringify(te)}`);
    }
    add(rng.pick(['Transfer-Encoding', 'transfer-encoding']), te);
    if (fault(0.1)) {
      add('Transfer-Encoding', 'chunked');
      note('second transfer-encoding');
    }
    if (fault(0.12)) {
      add('Content-Length', String(body.length));
      note('TE and CL');
    }
  } else if (framing === 'none') {
    // No body framing headers, and no body: a 204/304 or a close-delimited empty body.
  }
  if (fault(0.12)) {
    const bad = rng.pick([
      'name',
      'value',
      'nocolon',
      'space-before-colon',
      'obs-fold',
      'empty-line-ws',
      'leading-space',
    ] as const);
    headers.splice(rng.int(headers.length + 1), 0, badHeader(rng, bad));
    note(`bad header (${bad})`);
  }
  if (fault(0.04)) {
    const size = rng.pick([20_000, 70_000]);
    add('x-huge', 'h'.repeat(size));
    note(`header of ${size} bytes`);
  }
  if (fault(0.05) && framing === 'length') {
    headers.push(`Content-Length: ${rng.pick(CL_BAD)}`);
    headers.splice(
      headers.findIndex((h) => h.toLowerCase().startsWith('content-length')),
      1,
    );
    note('bad content-length value');
  }
  for (const h of headers) text += h + eol;
  text += eol;

  const hasNoBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  if (framing === 'length') text += body;
  else if (framing === 'chunked') text += chunkedBody(rng, body, fault, note);
  else if (framing === 'close') text += body;
  if (!hasNoBody && framing !== 'close' && framing !== 'none' && fault(0.1)) {
    const extra = rng.pick([
      'garbage',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      '\r\n',
      'X',
    ]);
    text += extra;
    note(`bytes after the body ${JSON.stringify(extra.slice(0, 12))}`);
  }
  if (fault(0.05)) {
    const cut = rng.int(text.length);
    text = text.slice(0, cut);
    note(`cut at ${cut}`);
  }
  return { bytes: Buffer.from(text, 'latin1'), recipe };
}

function randomBody(rng: Rng): string {
  const kind = rng.int(5);
  if (kind === 0) return '';
  if (kind === 1) return '{"id":"cmpl-1","choices":[{"text":"hi"}]}';
  if (kind === 2) return 'data: {"choices":[{"text":"a"}]}\n\ndata: [DONE]\n\n';
  if (kind === 3) return 'x'.repeat(1 + rng.int(300));
  let s = '';
  for (let n = rng.int(64); n > 0; n--) s += String.fromCharCode(rng.int(256));
  return s;
}

function badHeader(
  rng: Rng,
  kind:
    | 'name'
    | 'value'
    | 'nocolon'
    | 'space-before-colon'
    | 'obs-fold'
    | 'empty-line-ws'
    | 'leading-space',
): string {
  switch (kind) {
    case 'name':
      return `${rng.pick(BAD_NAMES)}: v`;
    case 'value':
      return `x-bad: ${rng.pick(BAD_VALUES)}`;
    case 'nocolon':
      return 'no colon here';
    case 'space-before-colon':
      return rng.pick(['Content-Length : 0', 'x-a : b', 'x-a\t: b']);
    case 'obs-fold':
      return rng.pick([
        'x-fold: a\r\n b',
        'x-fold: a\r\n\tb',
        'Content-Type: text/plain\r\n ; charset=x',
      ]);
    case 'empty-line-ws':
      return ' ';
    case 'leading-space':
      return ' x-lead: 1';
  }
}

function hexSize(rng: Rng, n: number): string {
  const hex = n.toString(16);
  const cased = rng.chance(0.3) ? hex.toUpperCase() : hex;
  return rng.chance(0.1) ? '0'.repeat(1 + rng.int(4)) + cased : cased;
}

function chunkedBody(
  rng: Rng,
  body: string,
  fault: (p: number) => boolean,
  note: (s: string) => void,
): string {
  let out = '';
  let rest = body;
  const crlf = (): string => {
    if (fault(0.03)) {
      const bad = rng.pick(['\n', '\r', '', 'XX', '\r\r\n']);
      note(`chunk line end ${JSON.stringify(bad)}`);
      return bad;
    }
    return '\r\n';
  };
  while (rest.length > 0) {
    const n = 1 + rng.int(Math.min(rest.length, 40));
    let sizeLine = hexSize(rng, n);
    if (fault(0.06)) {
      sizeLine += rng.pick(CHUNK_EXTENSIONS);
      note(`chunk extension ${JSON.stringify(sizeLine)}`);
    } else if (rng.chance(0.05)) {
      sizeLine += ';name=value';
    }
    if (fault(0.03)) {
      sizeLine = rng.pick([
        '',
        'g',
        '-1',
        ' 1',
        '1 ',
        '0x1',
        'ffffffffffffffffff',
        '1000000000000',
        '7fffffffffffffff',
      ]);
      note(`chunk size ${JSON.stringify(sizeLine)}`);
    }
    out += sizeLine + crlf() + rest.slice(0, n);
    rest = rest.slice(n);
    if (fault(0.03)) {
      note('chunk data longer than its size');
      out += 'zz';
    }
    out += crlf();
  }
  let last = '0';
  if (rng.chance(0.05)) last = rng.pick(['00', '0;ext=1', '000']);
  out += last + crlf();
  if (rng.chance(0.1)) {
    const t = fault(0.5) ? rng.pick(TRAILERS) : 'Trailer-A: 1\r\n';
    out += t;
    note(`trailer ${JSON.stringify(t)}`);
  }
  out += crlf();
  return out;
}

/** Where a response is cut into reads: whole, a few random cuts, or byte by byte. */
export function randomSplit(rng: Rng, bytes: Buffer): Buffer[] {
  const mode = rng.int(10);
  if (mode === 0 || bytes.length < 2) return [bytes];
  if (mode === 1 && bytes.length <= 2_000) {
    return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  }
  const cuts = new Set<number>();
  for (let n = 1 + rng.int(4); n > 0; n--) cuts.add(rng.int(bytes.length + 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of sorted) {
    pieces.push(bytes.subarray(from, c));
    from = c;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

/** Every two-way split of `bytes` (including an empty first or last read). */
export function everySplit(bytes: Buffer): Buffer[][] {
  const all: Buffer[][] = [];
  for (let k = 0; k <= bytes.length; k++) all.push([bytes.subarray(0, k), bytes.subarray(k)]);
  return all;
}
