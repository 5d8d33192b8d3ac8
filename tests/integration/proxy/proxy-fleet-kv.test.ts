// `disagg-console proxy --workers 2` with kv_cache_aware routing over simulated workers with block reuse
// (issue #16): the KV events a worker reports reach the routers of BOTH processes, so a prompt whose
// blocks one context worker holds goes to that worker whichever process the connection lands on.
// Before the fleet feed each process drained the events for itself and one of them routed blind.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isProcessAlive } from '../../helpers/process-alive';
import { type SimProcess, startSimWorker, tempFile } from '../sim/sim-process';
import { primeKvCache, request } from './proxy-test-kit';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'disagg-console.mjs');
const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const OPTIONS =
  'disable_overlap_scheduler: true\ncache_transceiver_config:\n  backend: UCX\nkv_cache_config:\n' +
  '  enable_block_reuse: true\n  event_buffer_max_size: 1024\n';
const ENV = { DISAGG_SIM_ZERO_DELAY: '1' };

/** Waits (polling every 50 ms, at most timeoutMs) until `re` matches the output; the match or undefined. */
async function outputMatch(
  out: () => string,
  re: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(out());
    if (m || Date.now() > until) return m ?? undefined;
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('proxy --workers 2 with kv_cache_aware routing', () => {
  const sims: SimProcess[] = [];
  let fleet: ChildProcess | undefined;
  let out = '';
  let port = 0;
  const pids: number[] = [];

  beforeAll(async () => {
    const opts = tempFile('w.yaml', OPTIONS);
    // One after the other: on a busy machine several start-ups at once are slow to get ready.
    for (let i = 0; i < 3; i++) {
      sims.push(await startSimWorker([MODEL, '--extra_llm_api_options', opts], ENV));
    }
    const [a, b, g] = sims as [SimProcess, SimProcess, SimProcess];
    const cfg = tempFile(
      'disagg.yaml',
      'hostname: 127.0.0.1\nport: 0\ncontext_servers:\n  num_instances: 2\n' +
        `  urls: ["127.0.0.1:${a.port}", "127.0.0.1:${b.port}"]\n` +
        '  router:\n    type: kv_cache_aware\n    max_batch_size: 64\n    tokens_per_block: 32\n' +
        `generation_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${g.port}"]\n`,
    );
    fleet = spawn(
      process.execPath,
      [BIN, 'proxy', '-c', cfg, '-t', '20', '-l', 'debug', '--workers', '2'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    fleet.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    fleet.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const m = await outputMatch(
      () => out,
      /2 proxy processes \(pids (\d+), (\d+)\) serve port (\d+)/,
      60_000,
    );
    if (!m) throw new Error(`the fleet did not start:\n${out}`);
    pids.push(Number(m[1]), Number(m[2]));
    port = Number(m[3]);
  }, 120_000);

  afterAll(async () => {
    // By pid: the primary first (so it restarts nothing), then any process it left.
    if (fleet?.pid && fleet.exitCode === null && fleet.signalCode === null) {
      const exited = new Promise((r) => fleet?.once('exit', r));
      process.kill(fleet.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all(sims.map((s) => s.stop()));
  }, 60_000);

  it('sends a prompt to the context worker that cached it, from either process', async () => {
    const primed = sims[1] as SimProcess;
    const prompt = Array.from({ length: 512 }, (_, i) => 3_000 + i);
    const mark = out.length;
    // Prime the second context worker behind the proxy's back: only its /kv_cache_events tell the routers.
    const prime = await primeKvCache(primed.port, MODEL, prompt);
    expect(prime.status).toBe(200);
    // Process 1 logs when the fleet feed brought it the worker's events (process 0 polled them first).
    // Bounded and not asserted here: without a feed the routing below is what fails.
    const learned = new RegExp(
      `\\[1\\] kv feed: applied \\d+ events of http://127\\.0\\.0\\.1:${primed.port}`,
    );
    await outputMatch(() => out.slice(mark), learned, 15_000);

    const body = JSON.stringify({ model: MODEL, prompt, max_tokens: 2, temperature: 0 });
    const served: string[] = [];
    const requestIds: string[] = [];
    // A fresh connection each (no keep-alive): the primary hands connections to the processes in turn.
    for (let i = 0; i < 6; i++) {
      const r = await request(port, 'POST', '/v1/completions', body);
      expect(r.status).toBe(200);
      served.push(String(r.headers['x-disagg-context-worker']));
      requestIds.push(String(r.headers['x-disagg-request-id']));
    }
    // Request ids count per process from 1: a repeated id means both processes served some of these.
    expect(new Set(requestIds).size).toBeLessThan(requestIds.length);
    // Without cache knowledge a router's tie goes to the first worker; every repeat must go to the primed one.
    expect(served).toEqual(Array.from({ length: 6 }, () => `127.0.0.1:${primed.port}`));
  }, 60_000);
});
