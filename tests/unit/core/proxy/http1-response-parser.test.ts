// The upstream response parser gives the same head, body bytes and completion however the socket
// happens to cut the response into reads: every case is fed whole, split in two at every byte offset,
// and byte by byte, since a state that spans two reads (a CRLF, a chunk-size line, the blank line
// after the head) is where an incremental parser breaks. Malformed responses throw HttpParseError at
// every split as well.
import { describe, expect, it } from 'vitest';

import {
  Http1ResponseParser,
  HttpParseError,
  MAX_HEAD_BYTES,
  type ResponseSink,
} from '../../../../electron/core/proxy/http1-response-parser';

/** What the sink heard, with body bytes joined (how they are cut depends on the reads). */
interface Outcome {
  heads: { status: number; contentType: string | undefined }[];
  body: string;
  completions: boolean[];
  /** Sum of push()'s leftover counts. */
  leftover: number;
  /** endOfInput()'s answer, when the case ends the input. */
  ended: boolean | undefined;
  isDone: boolean;
  /** Events in order, so a body byte after completion or before the head shows. */
  order: string;
}

function feed(pieces: Buffer[], endInput: boolean): Outcome {
  const out: Outcome = {
    heads: [],
    body: '',
    completions: [],
    leftover: 0,
    ended: undefined,
    isDone: false,
    order: '',
  };
  const bodyParts: Buffer[] = [];
  const sink: ResponseSink = {
    onHead(status, contentType) {
      out.heads.push({ status, contentType });
      out.order += 'H';
    },
    onBody(chunk) {
      // A view of the pushed buffer: copy, so a later push cannot change what was heard.
      bodyParts.push(Buffer.from(chunk));
      if (!out.order.endsWith('B')) out.order += 'B';
    },
    onComplete(canReuse) {
      out.completions.push(canReuse);
      out.order += 'C';
    },
  };
  const p = new Http1ResponseParser(sink);
  for (const piece of pieces) out.leftover += p.push(piece);
  if (endInput) out.ended = p.endOfInput();
  out.body = Buffer.concat(bodyParts).toString('latin1');
  out.isDone = p.isDone;
  return out;
}

/** The whole input, every two-way split (including an empty first or last read), and byte by byte. */
function splits(raw: Buffer): { name: string; pieces: Buffer[] }[] {
  const all: { name: string; pieces: Buffer[] }[] = [{ name: 'whole', pieces: [raw] }];
  for (let k = 0; k <= raw.length; k++) {
    all.push({ name: `split at ${k}`, pieces: [raw.subarray(0, k), raw.subarray(k)] });
  }
  all.push({ name: 'byte by byte', pieces: Array.from(raw, (_, i) => raw.subarray(i, i + 1)) });
  return all;
}

interface ValidCase {
  name: string;
  raw: string;
  endInput?: boolean;
  status: number;
  contentType?: string;
  body: string;
  /** undefined: the response is not complete. */
  canReuse: boolean | undefined;
  leftover?: number;
}

const CHUNKED_HEAD =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
const EXTRA = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nno';

const VALID: ValidCase[] = [
  {
    name: 'Content-Length',
    raw: 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nDate: x\r\n\r\n{"a":"b c"}',
    status: 200,
    contentType: 'application/json',
    body: '{"a":"b c"}',
    canReuse: true,
  },
  {
    name: 'Content-Length 0',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    body: '',
    canReuse: true,
  },
  {
    name: 'status line without a reason phrase',
    raw: 'HTTP/1.1 503\r\ncontent-length: 1\r\n\r\nx',
    status: 503,
    body: 'x',
    canReuse: true,
  },
  {
    name: 'header values trimmed, names case-insensitive',
    raw: 'HTTP/1.1 200 OK\r\nCONTENT-TYPE:   text/plain; charset=utf-8  \r\ncontent-LENGTH:2\r\n\r\nhi',
    status: 200,
    contentType: 'text/plain; charset=utf-8',
    body: 'hi',
    canReuse: true,
  },
  {
    name: 'chunked (SSE)',
    raw: CHUNKED_HEAD + '11\r\ndata: {"t":"a"}\n\n\r\n11\r\ndata: {"t":"b"}\n\n\r\n0\r\n\r\n',
    status: 200,
    contentType: 'text/event-stream',
    body: 'data: {"t":"a"}\n\ndata: {"t":"b"}\n\n',
    canReuse: true,
  },
  {
    name: 'chunked with extensions, upper-case hex and trailers',
    raw:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      '5;name=val\r\nhello\r\n' +
      'A;q="x;y"\r\n 012345678\r\n' +
      '0;last\r\nX-Trailer: a\r\nX-Other: b\r\n\r\n',
    status: 200,
    body: 'hello 012345678',
    canReuse: true,
  },
  {
    name: 'chunked body whose data contains CRLFs and looks like chunk lines',
    raw: CHUNKED_HEAD + '7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n',
    status: 200,
    contentType: 'text/event-stream',
    body: '\r\n0\r\n\r\n',
    canReuse: true,
  },
  {
    name: '204 has no body',
    raw: 'HTTP/1.1 204 No Content\r\nx-a: b\r\n\r\n',
    status: 204,
    body: '',
    canReuse: true,
  },
  {
    name: '304 has no body even with a Content-Length',
    raw: 'HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n',
    status: 304,
    body: '',
    canReuse: true,
  },
  {
    name: '100 Continue then 200',
    raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    canReuse: true,
  },
  {
    name: '103 Early Hints with headers, then 200',
    raw: 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\ncontent-length: 99\r\n\r\nHTTP/1.1 201 Created\r\ncontent-type: a/b\r\ncontent-length: 1\r\n\r\n!',
    status: 201,
    contentType: 'a/b',
    body: '!',
    canReuse: true,
  },
  {
    name: 'Connection: close is not reused',
    raw: 'HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    canReuse: false,
  },
  {
    name: 'close among several connection options',
    raw: 'HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nConnection: Upgrade, Close\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    body: '',
    canReuse: false,
  },
  {
    name: 'a connection token that only contains "close" does not close',
    raw: 'HTTP/1.1 200 OK\r\nconnection: closed-ish\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    body: '',
    canReuse: true,
  },
  {
    name: 'HTTP/1.0 without keep-alive is not reused',
    raw: 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    canReuse: false,
  },
  {
    name: 'HTTP/1.0 with Connection: Keep-Alive is reused',
    raw: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    canReuse: true,
  },
  {
    name: 'close-delimited body, completed by the end of input',
    raw: 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of\r\nthis',
    endInput: true,
    status: 200,
    contentType: 'text/plain',
    body: 'all of\r\nthis',
    canReuse: false,
  },
  {
    name: 'close-delimited body without the end of input is not complete',
    raw: 'HTTP/1.1 200 OK\r\n\r\npart',
    status: 200,
    body: 'part',
    canReuse: undefined,
  },
  {
    name: 'HTTP/1.0 keep-alive without a length is close-delimited',
    raw: 'HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\nbody',
    endInput: true,
    status: 200,
    body: 'body',
    canReuse: false,
  },
  {
    name: 'bytes after a Content-Length body are left over',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc' + EXTRA,
    status: 200,
    body: 'abc',
    canReuse: true,
    leftover: EXTRA.length,
  },
  {
    name: 'bytes after a chunked body are left over',
    raw: CHUNKED_HEAD + '1\r\nz\r\n0\r\n\r\n' + EXTRA,
    status: 200,
    contentType: 'text/event-stream',
    body: 'z',
    canReuse: true,
    leftover: EXTRA.length,
  },
  {
    name: 'bytes after a 204 are left over',
    raw: 'HTTP/1.1 204 No Content\r\n\r\n' + EXTRA,
    status: 204,
    body: '',
    canReuse: true,
    leftover: EXTRA.length,
  },
  {
    name: 'a Content-Length body cut short is not complete',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc',
    endInput: true,
    status: 200,
    body: 'abc',
    canReuse: undefined,
  },
  {
    name: 'a chunked body cut short is not complete',
    raw: CHUNKED_HEAD + '5\r\nab',
    endInput: true,
    status: 200,
    contentType: 'text/event-stream',
    body: 'ab',
    canReuse: undefined,
  },
];

describe('Http1ResponseParser: valid responses, at every split', () => {
  it.each(VALID)('$name', (c) => {
    const raw = Buffer.from(c.raw, 'latin1');
    const expected = {
      heads: [{ status: c.status, contentType: c.contentType }],
      body: c.body,
      completions: c.canReuse === undefined ? [] : [c.canReuse],
      leftover: c.leftover ?? 0,
      ended: c.endInput ? c.canReuse !== undefined : undefined,
      isDone: c.canReuse !== undefined,
      order: (c.body === '' ? 'H' : 'HB') + (c.canReuse === undefined ? '' : 'C'),
    };
    for (const s of splits(raw)) {
      let got: Outcome;
      try {
        got = feed(s.pieces, c.endInput === true);
      } catch (err) {
        throw new Error(`${s.name}: ${(err as Error).message}`);
      }
      expect(got, s.name).toEqual(expected);
    }
  });

  it('a three-way split at every pair of offsets agrees too (chunked with an extension and a trailer)', () => {
    const raw = Buffer.from(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\nab\r\n3\r\ncde\r\n0\r\nT: x\r\n\r\n',
      'latin1',
    );
    for (let a = 0; a <= raw.length; a++) {
      for (let b = a; b <= raw.length; b++) {
        const got = feed([raw.subarray(0, a), raw.subarray(a, b), raw.subarray(b)], false);
        expect(got, `split at ${a} and ${b}`).toEqual({
          heads: [{ status: 200, contentType: undefined }],
          body: 'abcde',
          completions: [true],
          leftover: 0,
          ended: undefined,
          isDone: true,
          order: 'HBC',
        });
      }
    }
  });

  it('body chunks are views of the pushed buffer, not copies', () => {
    const chunks: Buffer[] = [];
    const p = new Http1ResponseParser({
      onHead() {},
      onBody: (c) => chunks.push(c),
      onComplete() {},
    });
    const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n');
    p.push(head);
    const body = Buffer.from('abcdef');
    p.push(body);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.buffer).toBe(body.buffer);
  });
});

interface ErrorCase {
  name: string;
  raw: string;
  message: RegExp;
}

const ERRORS: ErrorCase[] = [
  { name: 'HTTP/2 status line', raw: 'HTTP/2 200 OK\r\n\r\n', message: /invalid status line/ },
  { name: 'two-digit status', raw: 'HTTP/1.1 20 OK\r\n\r\n', message: /invalid status line/ },
  {
    name: 'no space after the status',
    raw: 'HTTP/1.1 200OK\r\n\r\n',
    message: /invalid status line/,
  },
  { name: 'not HTTP at all', raw: 'SSH-2.0-OpenSSH_9.6\r\n\r\n', message: /invalid status line/ },
  { name: 'lower-case protocol', raw: 'http/1.1 200 OK\r\n\r\n', message: /invalid status line/ },
  {
    name: 'header line without a colon',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length 0\r\n\r\n',
    message: /invalid header line/,
  },
  {
    name: 'header line with an empty name',
    raw: 'HTTP/1.1 200 OK\r\n: x\r\n\r\n',
    message: /invalid header line/,
  },
  {
    name: 'whitespace between a header name and its colon (RFC 9112 5.1)',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length : 3\r\n\r\nabc',
    message: /whitespace before colon/,
  },
  {
    name: 'non-numeric content-length',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 1e3\r\n\r\n',
    message: /invalid content-length/,
  },
  {
    name: 'negative content-length',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
    message: /invalid content-length/,
  },
  {
    name: 'list-valued content-length',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 3, 3\r\n\r\nabc',
    message: /invalid content-length/,
  },
  {
    name: 'conflicting content-length headers',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!',
    message: /duplicate content-length/,
  },
  {
    name: 'transfer-encoding gzip',
    raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n',
    message: /unsupported transfer-encoding/,
  },
  {
    name: 'transfer-encoding gzip, chunked (would relay compressed bytes)',
    raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n',
    message: /unsupported transfer-encoding/,
  },
  {
    name: 'chunked not the last transfer coding',
    raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n',
    message: /unsupported transfer-encoding/,
  },
  {
    name: '101 Switching Protocols',
    raw: 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n',
    message: /protocol switch/,
  },
  { name: 'non-hex chunk size', raw: CHUNKED_HEAD + 'zz\r\n', message: /invalid chunk size/ },
  { name: 'empty chunk-size line', raw: CHUNKED_HEAD + '\r\n', message: /invalid chunk size/ },
  {
    name: 'negative chunk size',
    raw: CHUNKED_HEAD + '-5\r\nhello\r\n',
    message: /invalid chunk size/,
  },
  {
    name: 'chunk size of 13 hex digits',
    raw: CHUNKED_HEAD + '1000000000000\r\n',
    message: /chunk size too large/,
  },
  // Where llhttp (Node's parser) rejects, so do we: the differential fuzzing in
  // http1-response-parser-fuzz.test.ts holds the two together; these are the named cases.
  {
    name: 'Content-Length and Transfer-Encoding together (RFC 9112 6.1; the shape of response smuggling)',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    message: /both content-length and transfer-encoding/,
  },
  {
    name: 'Transfer-Encoding before Content-Length',
    raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    message: /both content-length and transfer-encoding/,
  },
  {
    name: 'repeated identical Content-Length',
    raw: 'HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\nContent-Length: 3\r\n\r\nbad',
    message: /duplicate content-length/,
  },
  {
    name: 'LF-only line ends in the head',
    raw: 'HTTP/1.1 200 OK\ncontent-length: 4\n\n{\r\n}',
    message: /not ended by CRLF/,
  },
  {
    name: 'LF-only blank line after CRLF headers',
    raw: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\n',
    message: /not ended by CRLF/,
  },
  {
    name: 'LF-only chunk-size line',
    raw: CHUNKED_HEAD + '3\nabc\r\n0\r\n\r\n',
    message: /not ended by CRLF/,
  },
  {
    name: 'LF-only end of chunk data',
    raw: CHUNKED_HEAD + '3\r\nabc\n0\r\n\r\n',
    message: /missing CRLF after chunk data/,
  },
  {
    name: 'obs-fold (a header line continued on the next)',
    raw: 'HTTP/1.1 200 OK\r\nx-a: b\r\n c\r\ncontent-length: 0\r\n\r\n',
    message: /invalid header line/,
  },
  {
    name: 'a header name with a space',
    raw: 'HTTP/1.1 200 OK\r\nbad name: v\r\ncontent-length: 0\r\n\r\n',
    message: /whitespace before colon|invalid header line/,
  },
  {
    name: 'a control byte in a header value',
    raw: 'HTTP/1.1 200 OK\r\nx-a: b\x01c\r\ncontent-length: 0\r\n\r\n',
    message: /invalid character in header/,
  },
  {
    name: 'a bare CR in a header value',
    raw: 'HTTP/1.1 200 OK\r\nx-a: b\rc\r\ncontent-length: 0\r\n\r\n',
    message: /invalid character in header/,
  },
  {
    name: 'whitespace before a chunk extension',
    raw: CHUNKED_HEAD + '3 ;a=b\r\nabc\r\n0\r\n\r\n',
    message: /invalid chunk extension/,
  },
  {
    name: 'an unterminated quoted chunk extension',
    raw: CHUNKED_HEAD + '3;a="x\r\nabc\r\n0\r\n\r\n',
    message: /invalid chunk extension/,
  },
  {
    name: 'a malformed trailer',
    raw: CHUNKED_HEAD + '0\r\nbad trailer\r\n\r\n',
    message: /invalid header line/,
  },
  {
    name: 'transfer-encoding "chunked<TAB>" (llhttp reads it as not chunked)',
    raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\t\r\n\r\n0\r\n\r\n',
    message: /unsupported transfer-encoding/,
  },
  {
    name: 'an empty line before the status line',
    raw: '\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    message: /empty line before the status line/,
  },
  {
    name: 'HTTP/2.0 status line',
    raw: 'HTTP/2.0 200 OK\r\ncontent-length: 0\r\n\r\n',
    message: /unsupported HTTP version/,
  },
  {
    name: 'chunk data longer than its size',
    raw: CHUNKED_HEAD + '3\r\nabcd\r\n0\r\n\r\n',
    message: /missing CRLF after chunk data/,
  },
  {
    name: 'CR CR after chunk data',
    raw: CHUNKED_HEAD + '3\r\nabc\r\r\n0\r\n\r\n',
    message: /missing CRLF after chunk data/,
  },
];

function errorAt(pieces: Buffer[]): unknown {
  try {
    feed(pieces, true);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('Http1ResponseParser: malformed responses, at every split', () => {
  it.each(ERRORS)('$name', (c) => {
    for (const s of splits(Buffer.from(c.raw, 'latin1'))) {
      const err = errorAt(s.pieces);
      expect(err, s.name).toBeInstanceOf(HttpParseError);
      expect((err as Error).message, s.name).toMatch(c.message);
    }
  });

  it('a head without its blank line beyond MAX_HEAD_BYTES', () => {
    const raw = Buffer.from(
      'HTTP/1.1 200 OK\r\n' + 'x-pad: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n',
      'latin1',
    );
    for (const size of [1024, 16 * 1024, raw.length - 1, raw.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < raw.length; i += size) pieces.push(raw.subarray(i, i + size));
      const err = errorAt(pieces);
      expect(err, `reads of ${size}`).toBeInstanceOf(HttpParseError);
      expect((err as Error).message).toMatch(/head too large/);
    }
  });

  it('a complete head beyond MAX_HEAD_BYTES is refused however it is read', () => {
    const raw = Buffer.from(
      'HTTP/1.1 200 OK\r\nx-pad: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\ncontent-length: 0\r\n\r\n',
      'latin1',
    );
    for (const size of [4096, 40 * 1024, raw.length - 1, raw.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < raw.length; i += size) pieces.push(raw.subarray(i, i + size));
      const err = errorAt(pieces);
      expect(err, `reads of ${size}`).toBeInstanceOf(HttpParseError);
    }
  });

  it('a head just under MAX_HEAD_BYTES is accepted', () => {
    const prefix = 'HTTP/1.1 200 OK\r\nx-pad: ';
    const suffix = '\r\ncontent-length: 0\r\n\r\n';
    const raw = Buffer.from(
      prefix + 'a'.repeat(MAX_HEAD_BYTES - prefix.length - suffix.length) + suffix,
      'latin1',
    );
    for (const size of [4096, raw.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < raw.length; i += size) pieces.push(raw.subarray(i, i + size));
      expect(feed(pieces, false).completions).toEqual([true]);
    }
  });

  it('the head limit is on the head text, the same at every split near its end', () => {
    // The head text runs up to the LF that starts the blank line (the last header's CR included).
    const headOf = (textLen: number): Buffer => {
      const prefix = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-pad: ';
      return Buffer.from(prefix + 'a'.repeat(textLen - prefix.length - 1) + '\r\n\r\n', 'latin1');
    };
    for (const [textLen, isOk] of [
      [MAX_HEAD_BYTES, true],
      [MAX_HEAD_BYTES + 1, false],
    ] as const) {
      const raw = headOf(textLen);
      const cuts = [raw.length];
      for (let k = raw.length - 8; k < raw.length; k++) cuts.push(k);
      for (const k of cuts) {
        const err = errorAt([raw.subarray(0, k), raw.subarray(k)]);
        if (isOk) expect(err, `head text ${textLen}, split at ${k}`).toBeUndefined();
        else expect(err, `head text ${textLen}, split at ${k}`).toBeInstanceOf(HttpParseError);
      }
    }
  });

  it('an over-long chunk-size line is refused however it is read', () => {
    const raw = Buffer.from(
      CHUNKED_HEAD + '5;ext=' + 'e'.repeat(8 * 1024) + '\r\nhello\r\n0\r\n\r\n',
      'latin1',
    );
    for (const size of [1024, raw.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < raw.length; i += size) pieces.push(raw.subarray(i, i + size));
      const err = errorAt(pieces);
      expect(err, `reads of ${size}`).toBeInstanceOf(HttpParseError);
    }
  });
});

describe('Http1ResponseParser: state and reset', () => {
  function sinkLog(): { sink: ResponseSink; log: string[] } {
    const log: string[] = [];
    return {
      log,
      sink: {
        onHead: (s, ct) => log.push(`head ${s} ${ct ?? '-'}`),
        onBody: (c) => log.push(`body ${c.toString('latin1')}`),
        onComplete: (r) => log.push(`complete ${r}`),
      },
    };
  }

  it('hasStarted, hasHead and isDone follow the response', () => {
    const { sink } = sinkLog();
    const p = new Http1ResponseParser(sink);
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([false, false, false]);
    expect(p.push(Buffer.alloc(0))).toBe(0);
    expect(p.hasStarted).toBe(false);
    expect(p.endOfInput()).toBe(false);
    p.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'));
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([true, false, false]);
    p.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-'));
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([true, false, false]);
    p.push(Buffer.from('length: 4\r\n\r\nab'));
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([true, true, false]);
    expect(p.push(Buffer.from('cd'))).toBe(0);
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([true, true, true]);
    expect(p.endOfInput()).toBe(true);
    // Anything after the end is left over, never body.
    expect(p.push(Buffer.from('xyz'))).toBe(3);
  });

  it('reset() readies the parser for the next response on the same connection', () => {
    const { sink, log } = sinkLog();
    const p = new Http1ResponseParser(sink);
    p.push(Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\na'));
    p.reset();
    expect([p.hasStarted, p.hasHead, p.isDone]).toEqual([false, false, false]);
    p.push(
      Buffer.from(
        'HTTP/1.1 201 Created\r\ncontent-type: t/x\r\ntransfer-encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n',
      ),
    );
    expect(p.isDone).toBe(true);
    expect(log).toEqual([
      'head 200 -',
      'body a',
      'complete false',
      'head 201 t/x',
      'body b',
      'complete true',
    ]);
  });

  it("reads the worker's Keep-Alive timeout from each answer's head (-1 without one)", () => {
    const { sink } = sinkLog();
    const p = new Http1ResponseParser(sink);
    const answer = (extra: string): number => {
      p.reset();
      p.push(Buffer.from(`HTTP/1.1 200 OK\r\n${extra}content-length: 1\r\n\r\na`));
      return p.workerKeepAliveS;
    };
    expect(answer('keep-alive: timeout=5\r\n')).toBe(5);
    expect(answer('Keep-Alive: max=100, timeout=120\r\n')).toBe(120);
    expect(answer('')).toBe(-1);
    expect(answer('keep-alive: max=3\r\n')).toBe(-1);
    expect(answer('keep-alive: timeout=soon\r\n')).toBe(-1);
  });

  it('reset() mid-response drops every partial state (head, chunk line, CR after chunk data)', () => {
    const partials = [
      'HTTP/1.1 200 OK\r\ncontent-le',
      CHUNKED_HEAD + '1f;ext=abc',
      CHUNKED_HEAD + '3\r\nabc\r',
      'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc',
      CHUNKED_HEAD + '0\r\nX-Trailer: ha',
    ];
    for (const partial of partials) {
      const { sink, log } = sinkLog();
      const p = new Http1ResponseParser(sink);
      p.push(Buffer.from(partial));
      expect(p.isDone, partial).toBe(false);
      p.reset();
      log.length = 0;
      expect(p.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'))).toBe(0);
      expect(log, partial).toEqual(['head 200 -', 'body ok', 'complete true']);
    }
  });
});
