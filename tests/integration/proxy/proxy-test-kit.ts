// Helpers for the proxy integration tests: fake workers as real child processes, an in-process
// proxy on port 0, an HTTP client that reads SSE, and the invariant checks of reliability.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import type { ProxyServer, ProxyServerOptions } from '../../../electron/core/proxy/proxy-server';
import { createProxyServer } from '../../../electron/core/proxy/proxy-server';

const FAKE = path.resolve(__dirname, '../../fixtures/fake-worker.mjs');

export interface FakeWorkerStats {
  counts: Record<string, number>;
  lastCtx: Record<string, unknown> | null;
  lastGen: Record<string, unknown> | null;
  aborted: number;
  open: number;
  /** Connections the worker ever accepted. */
  accepted: number;
  /** genSlots: streams being served now, waiting for a slot, and the most served at once. */
  genActive: number;
  genWaiting: number;
  genMaxActive: number;
  /** Bytes the generation streams wrote, and writes that hit backpressure (gen: flood). */
  genBytes: number;
  genBlocked: number;
}

export interface FakeWorker {
  port: number;
  url: string;
  proc: ChildProcess;
  control(modes: Record<string, unknown>): Promise<void>;
  stats(): Promise<FakeWorkerStats>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startFakeWorker(args: string[] = [], port = 0): Promise<FakeWorker> {
  const proc = spawn(process.execPath, [FAKE, '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake worker did not start in 10 s')), 10_000);
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fake worker exited early (${String(code)})`));
    });
  });
  const url = `127.0.0.1:${bound}`;
  return {
    port: bound,
    url,
    proc,
    async control(modes) {
      await request(bound, 'POST', '/_control', JSON.stringify(modes));
    },
    async stats() {
      const r = await request(bound, 'GET', '/_control');
      return JSON.parse(r.body) as FakeWorkerStats;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      return new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          resolve();
          return;
        }
        proc.once('exit', () => resolve());
        proc.kill(signal);
      });
    },
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Wall time to response headers, ms. */
  headersMs: number;
}

const clientAgent = new http.Agent({ keepAlive: false });

export function request(
  port: number,
  method: string,
  p: string,
  body?: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let headersMs = 0;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: p,
        agent: clientAgent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        headersMs = performance.now() - t0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            headersMs,
          });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`request ${method} ${p} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/**
 * Prefills `prompt` on a worker directly, behind the proxy's back, as a context-only request: afterwards
 * only the worker's `/kv_cache_events` tell a router that it holds the prompt's blocks.
 */
export function primeKvCache(
  workerPort: number,
  model: string,
  prompt: number[],
): Promise<HttpResult> {
  return request(
    workerPort,
    'POST',
    '/v1/completions',
    JSON.stringify({
      model,
      prompt,
      max_tokens: 1,
      disaggregated_params: { request_type: 'context_only' },
    }),
  );
}

/** `data:` payloads of an SSE body, in order. */
export function sseData(body: string): string[] {
  return body
    .split(/\r?\n\r?\n/)
    .map((ev) =>
      ev
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((d) => d.length > 0);
}

export function completionBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'fake-model',
    prompt: 'The capital of Germany is',
    max_tokens: 8,
    ...extra,
  });
}

export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'fake-model',
    messages: [{ role: 'user', content: 'Hello there' }],
    max_tokens: 8,
    ...extra,
  });
}

export interface ProxyUnderTest {
  proxy: ProxyServer;
  port: number;
  logs: string[];
}

export async function startProxy(
  opts: Partial<ProxyServerOptions> & Pick<ProxyServerOptions, 'contextUrls' | 'generationUrls'>,
): Promise<ProxyUnderTest> {
  const logs: string[] = [];
  const proxy = createProxyServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'debug',
    log: (lv, m) => logs.push(`${lv} ${m}`),
    ...opts,
  });
  const port = await proxy.listen();
  return { proxy, port, logs };
}

/** The usual topology: one context and one generation fake worker (`genArgs` for the latter) behind a proxy. */
export async function startProxyWithWorkers(
  genArgs: string[] = [],
): Promise<{ ctx: FakeWorker; gen: FakeWorker; p: ProxyUnderTest }> {
  const [ctx, gen] = await Promise.all([
    startFakeWorker(['--name', 'ctx']),
    startFakeWorker(['--name', 'gen', ...genArgs]),
  ]);
  const p = await startProxy({ contextUrls: [ctx.url], generationUrls: [gen.url] });
  return { ctx, gen, p };
}

/** Closes the proxy, then stops its workers. */
export async function stopProxyAndWorkers(
  p: ProxyUnderTest,
  ...workers: FakeWorker[]
): Promise<void> {
  await p.proxy.close();
  await Promise.all(workers.map((w) => w.kill()));
}

export function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Open fds of this process not counting the proxy's pooled upstream sockets (the baseline for checkInvariants). */
export function fdBaselineOf(p: ProxyUnderTest): number {
  return openFds() - p.proxy.workers().reduce((a, w) => a + w.openSockets, 0);
}

/** reliability.md invariants: /health answers, in-flight back to 0, fds near baseline, no unhandled errors. */
export async function checkInvariants(p: ProxyUnderTest, fdBaseline: number): Promise<void> {
  const h = await request(p.port, 'GET', '/health');
  if (h.status !== 200 && h.status !== 503) throw new Error(`/health answered ${h.status}`);
  await waitFor(
    () => p.proxy.workers().every((w) => w.inFlight === 0),
    3_000,
    'in-flight counters back to 0',
  );
  // Pooled keep-alive sockets to workers are meant to stay open; everything else must be released.
  const nonPooled = (): number =>
    openFds() - p.proxy.workers().reduce((a, w) => a + w.openSockets, 0);
  await waitFor(
    () => Math.abs(nonPooled() - fdBaseline) <= 5,
    3_000,
    `fds back to baseline ${fdBaseline} (now ${nonPooled()} besides pooled sockets)`,
  );
  const bad = p.logs.filter((l) => l.includes('unhandled'));
  if (bad.length > 0) throw new Error(`unhandled errors logged: ${bad.join('; ')}`);
}

export interface StreamResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Arrival time (performance.now) of each chunk. */
  chunkTimes: number[];
  endedAt: number;
}

/** POSTs and collects the streamed body with chunk arrival times. */
export function streamRequest(
  port: number,
  p: string,
  body: string,
  timeoutMs = 10_000,
  headers: Record<string, string> = {},
): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: p,
        agent: clientAgent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const chunkTimes: number[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          chunkTimes.push(performance.now());
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            chunkTimes,
            endedAt: performance.now(),
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`stream ${p} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** Opens a stream and destroys the connection after `afterChunks` chunks (0: right after sending). */
export function abandonStream(
  port: number,
  p: string,
  body: string,
  afterChunks: number,
  afterMs = 0,
): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: p,
        agent: clientAgent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let n = 0;
        res.on('data', () => {
          n++;
          if (n >= afterChunks) {
            req.destroy();
            resolve();
          }
        });
      },
    );
    req.on('error', () => resolve());
    req.end(body);
    if (afterChunks === 0) {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, afterMs);
    }
  });
}

/** Text of the token chunks of an SSE body (completions `text` or chat `delta.content`). */
export function streamedText(body: string): string[] {
  return sseData(body)
    .filter((d) => d !== '[DONE]')
    .map(
      (d) =>
        JSON.parse(d) as {
          choices?: Array<{ text?: string; delta?: { content?: string } }>;
          error?: unknown;
        },
    )
    .filter((c) => c.error === undefined)
    .map((c) => c.choices?.[0]?.text ?? c.choices?.[0]?.delta?.content ?? '')
    .filter((t) => t !== '');
}

export interface RawAnswer {
  /** 0 when the connection closed without any answer. */
  status: number;
  body: string;
  /** How the connection ended: 'end' (closed by the proxy) or the error code. */
  ending: string;
}

/**
 * A client on a raw socket that sends `head` (request line and headers, or part of them), then
 * `trickle` one byte every `everyMs` until the proxy answers or closes. The slow-body and slow-headers
 * attacker of issue #15. Resolves with whatever the proxy answered; never rejects.
 */
export function trickleClient(
  port: number,
  head: string,
  trickle: string,
  everyMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < trickle.length && socket.writable) socket.write(trickle[i++] as string);
    }, everyMs);
    const finish = (ending: string): void => {
      clearInterval(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      const split = received.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : 0,
        body: split >= 0 ? received.slice(split + 4) : '',
        ending,
      });
    };
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.on('end', () => finish('end'));
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    socket.on('close', () => finish('close'));
    socket.write(head);
  });
}

/** Request line and headers of a POST whose body of `length` bytes the caller sends later. */
export function postHead(p: string, length: number): string {
  return `POST ${p} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
}

/** A gauge or counter of the proxy's /metrics text (the sum over label sets when `label` is omitted). */
export function metricValue(text: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (-?[\d.e+]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (label !== undefined && m[2] !== `{${label}}`) continue;
    sum += Number(m[3]);
  }
  return sum;
}
