// The bytes a streaming client receives, read off a raw socket: HTTP/1.1 clients get chunked framing
// that the proxy writes itself (one frame per upstream read), HTTP/1.0 clients a close-delimited body.
// Either way every token arrives once and [DONE] exactly once, and an HTTP/1.1 connection stays usable.
import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import { completionBody, startProxyWithWorkers, stopProxyAndWorkers } from './proxy-test-kit';

/** Sends raw request bytes and collects everything until `isComplete` says so or the socket closes. */
function rawExchange(
  port: number,
  requests: string[],
  isComplete: (text: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(text.slice(0, 400))}`));
    }, 10_000);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      if (isComplete(text)) done();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(requests.join(''));
  });
}

function post(version: '1.0' | '1.1', body: string): string {
  return `POST /v1/completions HTTP/${version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Decodes a chunked body strictly; throws on any framing error. Returns the body, what followed and the frame count. */
function dechunk(raw: string): { body: string; rest: string; frames: number } {
  let i = 0;
  let body = '';
  let frames = 0;
  for (;;) {
    const nl = raw.indexOf('\r\n', i);
    if (nl < 0) throw new Error('missing chunk size line');
    const sizeText = raw.slice(i, nl);
    if (!/^[0-9a-f]+$/.test(sizeText)) {
      throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
    }
    const size = parseInt(sizeText, 16);
    i = nl + 2;
    if (size === 0) {
      if (raw.slice(i, i + 2) !== '\r\n') throw new Error('missing CRLF after last chunk');
      return { body, rest: raw.slice(i + 2), frames };
    }
    frames++;
    body += raw.slice(i, i + size);
    i += size;
    if (raw.slice(i, i + 2) !== '\r\n') throw new Error('missing CRLF after chunk data');
    i += 2;
  }
}

const dataEvents = (body: string): string[] =>
  body.split('\n\n').filter((e) => e.startsWith('data: '));

describe('streamed answer framing on the wire', () => {
  let ctx: FakeWorker;
  let gen: FakeWorker;
  let p: ProxyUnderTest;
  const streamBody = completionBody({ stream: true, max_tokens: 6 });

  beforeAll(async () => {
    ({ ctx, gen, p } = await startProxyWithWorkers(['--token-delay-ms', '2']));
  });
  afterAll(() => stopProxyAndWorkers(p, ctx, gen));

  it('HTTP/1.1: valid chunked framing, every token once, one [DONE], and the connection serves the next request', async () => {
    // Two requests pipelined on one connection: the second answer must follow the first intact.
    const text = await rawExchange(
      p.port,
      [post('1.1', streamBody), post('1.1', streamBody)],
      (t) => t.split('data: [DONE]').length - 1 >= 2 && t.endsWith('0\r\n\r\n'),
    );
    const answers: string[] = [];
    let rest = text;
    for (let n = 0; n < 2; n++) {
      const headEnd = rest.indexOf('\r\n\r\n');
      const head = rest.slice(0, headEnd).toLowerCase();
      expect(head.startsWith('http/1.1 200')).toBe(true);
      expect(head).toContain('transfer-encoding: chunked');
      expect(head).toContain('content-type: text/event-stream');
      const decoded = dechunk(rest.slice(headEnd + 4));
      answers.push(decoded.body);
      rest = decoded.rest;
    }
    expect(rest).toBe('');
    for (const body of answers) {
      const events = dataEvents(body);
      expect(events.filter((e) => e === 'data: [DONE]')).toHaveLength(1);
      expect(events[events.length - 1]).toBe('data: [DONE]');
      expect(events.filter((e) => e !== 'data: [DONE]')).toHaveLength(6);
    }
  });

  it('HTTP/1.0: a close-delimited body with every token once and one [DONE]', async () => {
    const text = await rawExchange(p.port, [post('1.0', streamBody)], () => false);
    const headEnd = text.indexOf('\r\n\r\n');
    const head = text.slice(0, headEnd).toLowerCase();
    expect(head.startsWith('http/1.1 200')).toBe(true);
    expect(head).not.toContain('transfer-encoding');
    const events = dataEvents(text.slice(headEnd + 4));
    expect(events.filter((e) => e === 'data: [DONE]')).toHaveLength(1);
    expect(events.filter((e) => e !== 'data: [DONE]')).toHaveLength(6);
  });
});

describe('a generation worker that sends several tokens in one segment', () => {
  let ctx: FakeWorker;
  let gen: FakeWorker;
  let p: ProxyUnderTest;

  beforeAll(async () => {
    ({ ctx, gen, p } = await startProxyWithWorkers());
    // Tokens 0 and 1 paced 30 ms apart, then tokens 2-7 and [DONE] in one tick (one TCP segment).
    await gen.control({ gen: 'burst_after', failAfterTokens: 2, tokenDelayMs: 30 });
  });
  afterAll(() => stopProxyAndWorkers(p, ctx, gen));

  it('relays what one read carries as one chunk frame, every event once and in order, request after request', async () => {
    const body = completionBody({ stream: true, max_tokens: 8 });
    // One request at a time (a pipelined answer still queued has no socket of its own to frame onto).
    for (let n = 0; n < 3; n++) {
      const text = await rawExchange(
        p.port,
        [post('1.1', body)],
        (t) => t.includes('data: [DONE]') && t.endsWith('0\r\n\r\n'),
      );
      const decoded = dechunk(text.slice(text.indexOf('\r\n\r\n') + 4));
      expect(decoded.rest).toBe('');
      const events = dataEvents(decoded.body);
      const tokens = events.filter((e) => e !== 'data: [DONE]');
      // The fake worker's token i is the text " w<i>": in order, each once.
      const texts = tokens.map(
        (e) => (JSON.parse(e.slice(6)) as { choices: { text: string }[] }).choices[0]?.text,
      );
      expect(texts).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => ` w${i}`));
      expect(events[events.length - 1]).toBe('data: [DONE]');
      expect(events.filter((e) => e === 'data: [DONE]')).toHaveLength(1);
      // Token 0 (with the head), token 1, then the burst: one frame per upstream read, not one per
      // upstream chunk (which made 9 frames and 9 write system calls).
      expect(decoded.frames).toBeLessThanOrEqual(3);
    }
  });
});
