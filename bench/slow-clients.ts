// `npm run bench:slow-clients [-- --runs 3 --seconds 20]`: does a crowd of slow clients change the latency of
// normal requests through a concurrency-limited proxy (issue #15 item 1)? The standalone proxy
// (`--max-concurrency 8`) in front of two simulated workers (their default timing: real prefill and decode
// delays) serves normal streaming chat traffic, 4 clients back to back, once alone and once with slowloris
// beside it: clients that send their headers one line per second and clients that send a complete header and
// then their body at 1 byte per second, more of them than the proxy has slots, each reconnecting when cut off.
// Phases alternate (alone, with slow clients) so drift on a shared machine hits both. Printed per phase and
// as medians over runs: normal requests done, their end-to-end latency and TTFT p50/p99, errors, and how many
// slow clients the proxy cut off (it answered 408 or closed the connection). A benchmark prints numbers; it
// is not a test (docs/performance.md).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { createLogHistogram, observe, percentile } from '../shared/logic/percentiles';
import { startUntil, stopChild } from './child-procs';
import { proxyCliArgs, proxyConfigYaml } from './proxy-config';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'bin', 'disagg-console.mjs');
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const MAX_CONCURRENCY = 8;
const NORMAL_CLIENTS = 4;
const SLOW_HEADER_CLIENTS = 16;
const SLOW_BODY_CLIENTS = 16;
/** Defences under test, as an operator would set them (defaults: 20 s headers, 30 s body, 1 KiB/s). */
const PROXY_FLAGS = ['--header-timeout', '5', '--body-timeout', '10', '--min-body-rate', '1024'];

interface Options {
  runs: number;
  seconds: number;
}

interface PhaseResult {
  phase: 'alone' | 'with slow clients';
  done: number;
  errors: number;
  e2eP50: number | null;
  e2eP99: number | null;
  ttftP50: number | null;
  ttftP99: number | null;
  slowCut: number;
  slowOpened: number;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { runs: 3, seconds: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`${argv[i]} needs a positive number`);
    }
    if (argv[i] === '--runs') opts.runs = Math.round(value);
    else if (argv[i] === '--seconds') opts.seconds = value;
    else throw new Error(`unknown flag ${argv[i]} (--runs N, --seconds S)`);
  }
  return opts;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];

/** Starts `disagg-console ARGS` and resolves once its output matches ready (60 s bound). */
async function startCli(
  name: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<void> {
  const { child, started } = startUntil(name, [process.execPath, [CLI, ...args]], ready, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeoutMs: 60_000,
  });
  children.push(child);
  await started;
}

async function startRig(dir: string): Promise<number> {
  const [ctx, gen, proxy] = await Promise.all([freePort(), freePort(), freePort()]);
  // What upstream needs of a disaggregated worker: no overlap scheduler, a KV cache transceiver.
  const options = path.join(dir, 'worker.yaml');
  writeFileSync(
    options,
    'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: DEFAULT\n',
  );
  const worker = (port: number, name: string, gpu: string): Promise<void> =>
    startCli(
      name,
      [
        'sim-worker',
        MODEL,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--extra_llm_api_options',
        options,
      ],
      /Uvicorn running/,
      { CUDA_VISIBLE_DEVICES: gpu },
    );
  await Promise.all([worker(ctx, 'context worker', '0'), worker(gen, 'generation worker', '1')]);
  const config = path.join(dir, 'disagg_config.yaml');
  writeFileSync(config, proxyConfigYaml({ port: proxy, ctx: [ctx], gen: [gen] }));
  // One proxy process (--workers defaults to half the cores, and the limit is split between them).
  await startCli(
    'proxy',
    proxyCliArgs(config, 1, ['--max-concurrency', String(MAX_CONCURRENCY), ...PROXY_FLAGS]),
    /Disaggregated proxy listening/,
  );
  return proxy;
}

/** One normal streaming request: end-to-end and time to the first token, ms; null on an error. */
async function normalRequest(port: number): Promise<{ e2e: number; ttft: number } | null> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'Say something short about GPUs.' }],
        max_tokens: 16,
        stream: true,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200 || res.body === null) {
      noteError(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return null;
    }
    let ttft: number | null = null;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (ttft === null && text.includes('"content"')) ttft = performance.now() - t0;
    }
    if (!text.includes('[DONE]')) {
      noteError(`stream without [DONE]: ${text.slice(-200)}`);
      return null;
    }
    return { e2e: performance.now() - t0, ttft: ttft ?? performance.now() - t0 };
  } catch (err) {
    noteError(err instanceof Error ? err.message : String(err));
    return null;
  }
}

/** The first few distinct errors of normal requests, printed at the end. */
const errorSamples = new Set<string>();
function noteError(message: string): void {
  if (errorSamples.size < 5) errorSamples.add(message);
}

interface SlowCrowd {
  stop(): { cut: number; opened: number };
}

/**
 * Slow clients that reconnect when cut off. 'header': the request line and then one header line a second,
 * never the blank line. 'body': complete headers announcing 100,000 bytes, then one byte a second.
 */
function startSlowCrowd(port: number, headerClients: number, bodyClients: number): SlowCrowd {
  let isRunning = true;
  let cut = 0;
  let opened = 0;
  const sockets = new Set<net.Socket>();
  const open = (kind: 'header' | 'body'): void => {
    if (!isRunning) return;
    opened++;
    const socket = net.connect(port, '127.0.0.1');
    sockets.add(socket);
    const head =
      kind === 'header'
        ? `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
        : `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`;
    socket.on('connect', () => socket.write(head));
    const ticker = setInterval(() => {
      if (!socket.writable) return;
      socket.write(kind === 'header' ? `x-slow-${Date.now()}: 1\r\n` : ' ');
    }, 1000);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearInterval(ticker);
      sockets.delete(socket);
      if (!isRunning) return;
      // The proxy ended it (408 or a close): counted, and the client comes back.
      cut++;
      setTimeout(() => open(kind), 100);
    });
  };
  for (let i = 0; i < headerClients; i++) open('header');
  for (let i = 0; i < bodyClients; i++) open('body');
  return {
    stop() {
      isRunning = false;
      for (const s of sockets) s.destroy();
      return { cut, opened };
    },
  };
}

async function runPhase(
  port: number,
  seconds: number,
  phase: PhaseResult['phase'],
): Promise<PhaseResult> {
  const crowd =
    phase === 'alone' ? null : startSlowCrowd(port, SLOW_HEADER_CLIENTS, SLOW_BODY_CLIENTS);
  // Slow clients get a head start, so they already hold their connections when measuring begins.
  if (crowd) await new Promise((r) => setTimeout(r, 2000));
  const e2e = createLogHistogram();
  const ttft = createLogHistogram();
  let done = 0;
  let errors = 0;
  const endAt = performance.now() + seconds * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const r = await normalRequest(port);
      if (r === null) {
        errors++;
        continue;
      }
      done++;
      observe(e2e, r.e2e);
      observe(ttft, r.ttft);
    }
  };
  await Promise.all(Array.from({ length: NORMAL_CLIENTS }, client));
  const slow = crowd?.stop() ?? { cut: 0, opened: 0 };
  return {
    phase,
    done,
    errors,
    e2eP50: percentile(e2e, 0.5),
    e2eP99: percentile(e2e, 0.99),
    ttftP50: percentile(ttft, 0.5),
    ttftP99: percentile(ttft, 0.99),
    slowCut: slow.cut,
    slowOpened: slow.opened,
  };
}

const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);

function row(r: PhaseResult): string {
  return `| ${r.phase} | ${r.done} | ${r.errors} | ${ms(r.e2eP50)} | ${ms(r.e2eP99)} | ${ms(r.ttftP50)} | ${ms(r.ttftP99)} | ${r.phase === 'alone' ? '-' : `${r.slowCut} of ${r.slowOpened}`} |`;
}

function median(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : (v[Math.floor((v.length - 1) / 2)] as number);
}

function medianOf(results: PhaseResult[], phase: PhaseResult['phase']): PhaseResult {
  const of = results.filter((r) => r.phase === phase);
  return {
    phase,
    done: median(of.map((r) => r.done)) ?? 0,
    errors: median(of.map((r) => r.errors)) ?? 0,
    e2eP50: median(of.map((r) => r.e2eP50)),
    e2eP99: median(of.map((r) => r.e2eP99)),
    ttftP50: median(of.map((r) => r.ttftP50)),
    ttftP99: median(of.map((r) => r.ttftP99)),
    slowCut: median(of.map((r) => r.slowCut)) ?? 0,
    slowOpened: median(of.map((r) => r.slowOpened)) ?? 0,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-slow-'));
  const header =
    '| phase | normal requests done | errors | e2e p50 | e2e p99 | TTFT p50 | TTFT p99 | slow clients cut off |\n|---|---|---|---|---|---|---|---|';
  try {
    const port = await startRig(dir);
    process.stdout.write(
      `proxy --max-concurrency ${MAX_CONCURRENCY} ${PROXY_FLAGS.join(' ')}; ${NORMAL_CLIENTS} normal streaming clients (16 tokens); ${SLOW_HEADER_CLIENTS} slow-header + ${SLOW_BODY_CLIENTS} slow-body clients; ${opts.seconds} s per phase; load average ${os.loadavg()[0]?.toFixed(1)}\n`,
    );
    // Warm-up: connections, JIT, the workers' first requests.
    await runPhase(port, 3, 'alone');
    const results: PhaseResult[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      for (const phase of ['alone', 'with slow clients'] as const) {
        const r = await runPhase(port, opts.seconds, phase);
        results.push(r);
        process.stdout.write(`run ${run}: ${row(r)}\n`);
      }
    }
    process.stdout.write(`\nMedians over ${opts.runs} runs:\n${header}\n`);
    process.stdout.write(`${row(medianOf(results, 'alone'))}\n`);
    process.stdout.write(`${row(medianOf(results, 'with slow clients'))}\n`);
    process.stdout.write(`load average at the end ${os.loadavg()[0]?.toFixed(1)}\n`);
    for (const e of errorSamples) process.stdout.write(`normal request error: ${e}\n`);
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  process.exit(1);
});
