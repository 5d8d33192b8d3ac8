// What `proxy --workers N` costs the kv_cache_aware router (issue #16; docs/performance.md, "Routing state
// across processes"): four simulated context workers with block reuse and KV events, one generation worker,
// the CLI proxy with N = 1 and N = 4 processes, and the same workload through each: P prompts of 512 token
// ids (16 blocks of 32) sent R rounds, each round every prefix once in a shuffled order with a fresh 16-id
// tail, and a pause between rounds longer than the KV event poll (so a router that saw the events could
// use them). The KV hit rate is the context workers' own count (`/perf_metrics`: reused blocks / (reused +
// missed)), and beside it how the prefixes spread over the workers. Locally:
//   node --import tsx bench/fleet-routing.ts [--sizes 1,4] [--prefixes 12] [--rounds 5] [--concurrency 2]
// With `--ipc-cost`: what one node:cluster IPC message (a small JSON like an in-flight count update) costs
// in CPU, sent by the primary and received by one process, which is what sharing in-flight counts across
// the fleet would pay several times per request (docs/performance.md).
// A benchmark prints numbers; it is not a test.
import type { ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startUntil, stopChild } from './child-procs';
import { proxyCliArgs, proxyConfigYaml } from './proxy-config';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const OPTIONS =
  'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\nreturn_perf_metrics: true\n' +
  'perf_metrics_max_requests: 10000\nkv_cache_config:\n  enable_block_reuse: true\n  event_buffer_max_size: 100000\n';
const CONTEXT_WORKERS = 4;
const PREFIX_TOKENS = 512;
const TAIL_TOKENS = 16;
/** Longer than the proxy's KV event poll (500 ms) so each process polls between rounds. */
const ROUND_PAUSE_MS = 1_500;

interface KvCount {
  reused: number;
  missed: number;
}

/** The reused and missed blocks of every context request a worker still lists. */
async function kvCount(worker: Child): Promise<KvCount & { requests: number }> {
  const res = await fetch(`${worker.url}/perf_metrics`, { signal: AbortSignal.timeout(10_000) });
  const items = (await res.json()) as Array<{
    perf_metrics?: {
      kv_cache_metrics?: { num_reused_blocks?: number; num_missed_blocks?: number };
    };
  }>;
  let reused = 0;
  let missed = 0;
  for (const it of items) {
    reused += it.perf_metrics?.kv_cache_metrics?.num_reused_blocks ?? 0;
    missed += it.perf_metrics?.kv_cache_metrics?.num_missed_blocks ?? 0;
  }
  return { reused, missed, requests: items.length };
}

interface Child {
  child: ChildProcess;
  port: number;
  url: string;
}

function tempFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fleet-routing-')), name);
  writeFileSync(file, text);
  return file;
}

/** `disagg-console <args>`, resolved once its output names the port it listens on (60 s at most). */
async function startCli(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<Child> {
  const { child, started } = startUntil(
    args[0] ?? 'disagg-console',
    [process.execPath, [path.join(ROOT, 'bin/disagg-console.mjs'), ...args]],
    ready,
    { cwd: ROOT, env: { ...process.env, ...env }, timeoutMs: 60_000 },
  );
  const m = await started;
  return { child, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}` };
}

const stopCli = ({ child }: Child): Promise<void> => stopChild(child);

const SIM_ENV = { DISAGG_SIM_ZERO_DELAY: '1', DISAGG_SIM_LOAD_MS: '0', CUDA_VISIBLE_DEVICES: '0' };

/** A small seeded generator, so both fleet sizes get the same order. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

async function runWorkload(
  port: number,
  prefixes: number,
  rounds: number,
  concurrency: number,
): Promise<void> {
  const rnd = seeded(7);
  let tail = 50_000;
  for (let r = 0; r < rounds; r++) {
    const order = Array.from({ length: prefixes }, (_, i) => i).sort(() => rnd() - 0.5);
    // A few at a time: with more in flight the routers' load term spreads the prefixes over the workers.
    for (let i = 0; i < order.length; i += concurrency) {
      await Promise.all(
        order.slice(i, i + concurrency).map(async (p) => {
          const prompt = [
            ...Array.from({ length: PREFIX_TOKENS }, (_, k) => 1_000 + p * 1_000 + k),
            ...Array.from({ length: TAIL_TOKENS }, () => tail++),
          ];
          const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: MODEL, prompt, max_tokens: 2, temperature: 0 }),
            signal: AbortSignal.timeout(30_000),
          });
          await res.text();
          if (res.status !== 200) throw new Error(`request answered ${res.status}`);
        }),
      );
    }
    await new Promise((res) => setTimeout(res, ROUND_PAUSE_MS));
  }
}

async function measure(
  n: number,
  prefixes: number,
  rounds: number,
  concurrency: number,
): Promise<string> {
  const opts = tempFile('w.yaml', OPTIONS);
  const simArgs = [
    'sim-worker',
    MODEL,
    '--extra_llm_api_options',
    opts,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ];
  // One after the other: on a busy machine several start-ups at once are slow to get ready.
  const workers: Child[] = [];
  let proxy: Child | undefined;
  try {
    for (let i = 0; i <= CONTEXT_WORKERS; i++) {
      workers.push(await startCli(simArgs, SIM_ENV, /Uvicorn running on http:\/\/[^:]+:(\d+)/));
    }
    proxy = await startFleetProxy(workers, n);
    return await kvRow(workers, proxy, n, prefixes, rounds, concurrency);
  } finally {
    if (proxy) await stopCli(proxy);
    await Promise.all(workers.map(stopCli));
  }
}

function startFleetProxy(workers: Child[], n: number): Promise<Child> {
  const ctx = workers.slice(0, CONTEXT_WORKERS);
  const gen = workers[CONTEXT_WORKERS] as Child;
  const cfg = tempFile(
    'disagg.yaml',
    proxyConfigYaml({
      port: 0,
      ctx: ctx.map((w) => w.port),
      gen: [gen.port],
      ctxRouter: { type: 'kv_cache_aware', max_batch_size: 64, tokens_per_block: 32 },
    }),
  );
  return startCli(proxyCliArgs(cfg, n), {}, /listening on http:\/\/[^:]+:(\d+)/);
}

/** Runs the workload through the proxy and reads the context workers' own KV counts. */
async function kvRow(
  workers: Child[],
  proxy: Child,
  n: number,
  prefixes: number,
  rounds: number,
  concurrency: number,
): Promise<string> {
  await runWorkload(proxy.port, prefixes, rounds, concurrency);
  const counts = await Promise.all(workers.slice(0, CONTEXT_WORKERS).map(kvCount));
  const reused = counts.reduce((a, c) => a + c.reused, 0);
  const missed = counts.reduce((a, c) => a + c.missed, 0);
  // Rounds after the first can hit at most all 16 blocks of the prefix (the tail never repeats).
  const best = ((rounds - 1) * PREFIX_TOKENS) / (rounds * (PREFIX_TOKENS + TAIL_TOKENS));
  return (
    `| ${n} | ${((100 * reused) / Math.max(1, reused + missed)).toFixed(1)}% | ${(100 * best).toFixed(1)}% | ` +
    `${counts.map((c) => c.requests).join(' / ')} |`
  );
}

const IPC_MESSAGES = 20_000;

/** In the primary: forks one process, sends it IPC_MESSAGES small messages, prints the CPU per message. */
async function measureIpcCost(): Promise<void> {
  const worker = cluster.fork({ FLEET_ROUTING_IPC_CHILD: '1' });
  await new Promise<void>((res) => worker.once('message', () => res()));
  const before = process.cpuUsage();
  for (let i = 0; i < IPC_MESSAGES; i++) {
    worker.send({ type: 'inflight', url: 'http://127.0.0.1:8001', delta: 1, seq: i });
  }
  const childUs = await new Promise<number>((res) =>
    worker.once('message', (m: { cpuUs: number }) => res(m.cpuUs)),
  );
  const used = process.cpuUsage(before);
  worker.kill();
  const per = (us: number): string => (us / IPC_MESSAGES).toFixed(1);
  process.stdout.write(
    `${IPC_MESSAGES} IPC messages primary -> one process: ${per(used.user + used.system)} us CPU per message to send, ` +
      `${per(childUs)} us to receive\n`,
  );
}

/** In the forked process: counts the messages, reports its CPU for them. */
function ipcCostChild(): void {
  let n = 0;
  let before: NodeJS.CpuUsage | undefined;
  process.on('message', () => {
    before ??= process.cpuUsage();
    if (++n < IPC_MESSAGES) return;
    const used = process.cpuUsage(before);
    process.send?.({ cpuUs: used.user + used.system });
  });
  process.send?.('ready');
}

async function main(): Promise<void> {
  const value = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
  };
  const sizes = value('sizes', '1,4').split(',').map(Number);
  const prefixes = Number(value('prefixes', '12'));
  const rounds = Number(value('rounds', '5'));
  const concurrency = Number(value('concurrency', '2'));
  if (process.argv.includes('--ipc-cost')) return measureIpcCost();
  const rows: string[] = [];
  for (const n of sizes) rows.push(await measure(n, prefixes, rounds, concurrency));
  process.stdout.write(
    `kv_cache_aware over ${CONTEXT_WORKERS} context workers, ${prefixes} prefixes x ${rounds} rounds, ${concurrency} at a time\n\n` +
      '| proxy processes | KV hit rate (blocks) | best possible | context requests per worker |\n' +
      `| --- | --- | --- | --- |\n${rows.join('\n')}\n`,
  );
}

if (cluster.isWorker && process.env['FLEET_ROUTING_IPC_CHILD'] === '1') ipcCostChild();
else {
  void main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
