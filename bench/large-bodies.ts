// `npm run bench:large-bodies`: docs/performance.md's "large bodies beside streams" target, measured instead of
// asserted (the reliability test of item 16 checks only outcomes). The proxy runs on its own event loop, in the
// worker thread the console uses; two fake workers (tests/fixtures/fake-worker.mjs) stream 60 tokens 10 ms
// apart. Each round measures the inter-token gap p99 of 4 concurrent streams alone, then of 4 streams while a
// 1 MB chat body and a 40k-token prompt arrive. The figure is the median over rounds of (with - without), a
// difference within one round, so the machine's other load affects both sides; the target is at most 5 ms.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

import { startProxyInWorkerThread } from '../electron/core/proxy/proxy-thread';
import { parseDisaggConfig } from '../shared/logic/config-parse';
import { proxyConfigYaml } from './proxy-config';

const ROUNDS = Number(process.argv[2] ?? 5);
const STREAMS = 4;
const TOKENS = 60;
const FAKE_WORKER = path.resolve(import.meta.dirname, '..', 'tests', 'fixtures', 'fake-worker.mjs');

function startFakeWorker(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [FAKE_WORKER, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), proc });
    });
    proc.once('exit', (code) => reject(new Error(`fake worker exited early (${String(code)})`)));
  });
}

/** POSTs `body`; resolves with the arrival time of every body chunk (performance.now, ms). */
function post(
  port: number,
  urlPath: string,
  body: string,
): Promise<{ status: number; chunkTimes: number[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: urlPath,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunkTimes: number[] = [];
        res.on('data', () => chunkTimes.push(performance.now()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, chunkTimes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Gap p99 of STREAMS concurrent streams, the first two chunks (headers, role) left out. */
async function streamGapP99(
  port: number,
  alongside: () => Promise<unknown> = () => Promise.resolve(),
): Promise<number> {
  const body = JSON.stringify({ model: 'm', prompt: 'hello', max_tokens: TOKENS, stream: true });
  const streams = Promise.all(
    Array.from({ length: STREAMS }, () => post(port, '/v1/completions', body)),
  );
  await alongside();
  const gaps = (await streams).flatMap((r) =>
    r.chunkTimes.slice(2).map((t, i) => t - (r.chunkTimes[i + 1] as number)),
  );
  return p99(gaps);
}

async function main(): Promise<void> {
  const ctx = await startFakeWorker();
  const gen = await startFakeWorker();
  const control = JSON.stringify({ tokens: TOKENS, tokenDelayMs: 10 });
  await Promise.all([post(ctx.port, '/_control', control), post(gen.port, '/_control', control)]);
  const yaml = proxyConfigYaml({ port: 0, ctx: [ctx.port], gen: [gen.port] });
  const config = parseDisaggConfig(yaml, 'bench.yaml');
  if (!config.ok) throw new Error('bench config did not parse');
  const proxy = await startProxyInWorkerThread({ config: config.value, overrides: { port: 0 } });
  try {
    // Built before measuring, so only their sending and the proxy's handling of them are on the clock.
    const bigChat = JSON.stringify({
      model: 'm',
      messages: [{ role: 'user', content: 'y'.repeat(1024 * 1024) }],
      max_tokens: 2,
    });
    const bigIds = JSON.stringify({
      model: 'm',
      prompt: Array.from({ length: 40_000 }, (_, i) => i % 30000),
      max_tokens: 2,
    });
    const sendBig = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, 100));
      const answers = await Promise.all([
        post(proxy.port, '/v1/chat/completions', bigChat),
        post(proxy.port, '/v1/completions', bigIds),
      ]);
      if (answers.some((a) => a.status !== 200)) {
        throw new Error(`large bodies answered ${answers.map((a) => a.status).join(', ')}`);
      }
    };
    await streamGapP99(proxy.port); // warm-up: pooled connections, JIT
    const rows: Array<{ alone: number; beside: number }> = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      rows.push({
        alone: await streamGapP99(proxy.port),
        beside: await streamGapP99(proxy.port, sendBig),
      });
    }
    const delta = median(rows.map((r) => r.beside - r.alone));
    process.stdout.write(
      `large bodies beside ${STREAMS} streams, ${ROUNDS} rounds (inter-token gap p99, ms)\n`,
    );
    for (const [i, r] of rows.entries()) {
      process.stdout.write(
        `  round ${i + 1}: alone ${r.alone.toFixed(1)}, beside a 1 MB chat and a 40k-token prompt ${r.beside.toFixed(1)}\n`,
      );
    }
    process.stdout.write(`  median increase ${delta.toFixed(1)} ms (target: at most 5 ms)\n`);
  } finally {
    await proxy.stop(1_000);
    ctx.proc.kill('SIGKILL');
    gen.proc.kill('SIGKILL');
  }
}

await main();
