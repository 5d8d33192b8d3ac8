// A worker whose answer breaks HTTP/1.1 framing (Content-Length with Transfer-Encoding, conflicting
// lengths, a bad chunk) gets its connection closed, and the client gets a 502 in the OpenAI error
// shape: a JSON error before any 200, or an SSE error event when the stream had already started.
// Never a relayed 200 of bytes two parsers would read differently.
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import { completionBody, request, sseData, startFakeWorker, startProxy } from './proxy-test-kit';

/**
 * A worker on a raw socket that answers every request with `answer` (given as parts: written 50 ms
 * apart, so each arrives in a read of its own) and records closed connections.
 */
class BrokenWorker {
  readonly server: net.Server;
  port = 0;
  requests = 0;
  readonly open = new Set<net.Socket>();
  closed = 0;

  constructor(private readonly answer: string | string[]) {
    this.server = net.createServer((socket) => {
      this.open.add(socket);
      socket.on('close', () => {
        this.open.delete(socket);
        this.closed++;
      });
      socket.on('error', () => undefined);
      let seen = '';
      socket.on('data', (b: Buffer) => {
        seen += b.toString('latin1');
        const headEnd = seen.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(seen.slice(0, headEnd))?.[1] ?? 0);
        if (seen.length < headEnd + 4 + length) return;
        seen = '';
        this.requests++;
        const parts = typeof this.answer === 'string' ? [this.answer] : this.answer;
        parts.forEach((part, i) => setTimeout(() => socket.write(part), 50 * i));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const SMUGGLE =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n';
const DOUBLE_LENGTH =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}x';

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let n = 0; n < 200 && !cond(); n++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

function expectOpenAiError(body: string, status: number): { message: string } {
  const parsed = JSON.parse(body) as {
    error?: { message?: unknown; type?: unknown; code?: unknown };
  };
  expect(parsed.error).toBeDefined();
  expect(typeof parsed.error?.message).toBe('string');
  expect(typeof parsed.error?.type).toBe('string');
  expect(parsed.error?.code).toBe(status);
  return { message: String(parsed.error?.message) };
}

describe('framing errors from a worker', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(
    ctxAnswer: string | undefined,
    genAnswer: string | string[] | undefined,
  ): Promise<{ p: ProxyUnderTest; broken: BrokenWorker }> {
    const broken = await new BrokenWorker((ctxAnswer ?? genAnswer) as string | string[]).listen();
    cleanups.push(() => broken.close());
    const good: FakeWorker = await startFakeWorker([
      '--name',
      ctxAnswer === undefined ? 'ctx' : 'gen',
    ]);
    cleanups.push(() => good.kill());
    const p = await startProxy({
      contextUrls: [ctxAnswer === undefined ? good.url : broken.url],
      generationUrls: [genAnswer === undefined ? good.url : broken.url],
    });
    cleanups.push(() => p.proxy.close());
    return { p, broken };
  }

  it.each([
    ['Content-Length with Transfer-Encoding', SMUGGLE],
    ['two different Content-Lengths', DOUBLE_LENGTH],
  ])(
    'context worker sends %s: 502 JSON error, no retry, connection closed',
    async (_name, answer) => {
      const { p, broken } = await setUp(answer, undefined);
      const res = await request(p.port, 'POST', '/v1/completions', completionBody());
      expect(res.status).toBe(502);
      expect(expectOpenAiError(res.body, 502).message).toMatch(
        /Context server sent an invalid HTTP response/,
      );
      expect(broken.requests).toBe(1);
      await waitFor(
        () => broken.closed === 1 && broken.open.size === 0,
        'the worker connection to close',
      );
    },
  );

  it('generation worker sends Content-Length with Transfer-Encoding, non-streamed: 502 JSON error, connection closed', async () => {
    const { p, broken } = await setUp(undefined, SMUGGLE);
    const res = await request(p.port, 'POST', '/v1/completions', completionBody());
    expect(res.status).toBe(502);
    expectOpenAiError(res.body, 502);
    expect(broken.requests).toBe(1);
    await waitFor(() => broken.closed === 1, 'the worker connection to close');
  });

  it('generation worker sends Content-Length with Transfer-Encoding to a stream request: 502 before any 200', async () => {
    const { p, broken } = await setUp(
      undefined,
      SMUGGLE.replace('application/json', 'text/event-stream'),
    );
    const res = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
    expect(res.status).toBe(502);
    expect(expectOpenAiError(res.body, 502).message).toMatch(
      /Generation server sent an invalid HTTP response/,
    );
    expect(broken.requests).toBe(1);
    await waitFor(() => broken.closed === 1, 'the worker connection to close');
  });

  it('a bad chunk in the middle of a stream: an SSE error event with code 502, then [DONE]', async () => {
    const head =
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
    const event = 'data: {"choices":[{"index":0,"text":"a","finish_reason":null}]}\n\n';
    const answer = `${head}${event.length.toString(16)}\r\n${event}\r\nzz\r\n`;
    const { p, broken } = await setUp(undefined, answer);
    const res = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
    expect(res.status).toBe(200);
    const events = sseData(res.body);
    expect(events[events.length - 1]).toBe('[DONE]');
    const error = JSON.parse(events[events.length - 2] as string) as {
      error: { code: number; message: string };
    };
    expect(error.error.code).toBe(502);
    await waitFor(() => broken.closed === 1, 'the worker connection to close');
  });

  it('a bad chunk in the same read as good ones: those tokens reach the client first, then the SSE error', async () => {
    const head =
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
    const chunk = (text: string): string => {
      const event = `data: {"choices":[{"index":0,"text":"${text}","finish_reason":null}]}\n\n`;
      return `${event.length.toString(16)}\r\n${event}\r\n`;
    };
    // The first token alone; then, in one later write (one read), two tokens and a broken chunk.
    const { p } = await setUp(undefined, [
      `${head}${chunk('a')}`,
      `${chunk('b')}${chunk('c')}zz\r\n`,
    ]);
    const res = await request(p.port, 'POST', '/v1/completions', completionBody({ stream: true }));
    expect(res.status).toBe(200);
    const events = sseData(res.body);
    const texts = events
      .slice(0, -2)
      .map((e) => (JSON.parse(e) as { choices: { text: string }[] }).choices[0]?.text);
    expect(texts).toEqual(['a', 'b', 'c']);
    const error = JSON.parse(events[events.length - 2] as string) as { error: { code: number } };
    expect(error.error.code).toBe(502);
    expect(events[events.length - 1]).toBe('[DONE]');
  });
});
