// `npm run bench:shed-cost [-- --requests 20000 --clients 16 --runs 3]`: what a shed answer costs the proxy
// against a served request (issue #16). Under CPU-bound overload each shed answer takes CPU from the
// admitted requests, so goodput at 1.5x capacity is bounded by (1 - 1.5 s) / (1 - s) of capacity, s being
// CPU per shed / CPU per served request (s <= 0.09 for the 0.95 target). Two single-process proxies:
// "served" (default limits) in front of zero-delay bench workers, and "full" (--max-concurrency 1
// --max-queue 0) whose one slot is held by a stream to a bounded worker that never finishes in the run, so
// every request to it is refused at headers time. The same closed-loop keep-alive clients send
// non-streamed completions to each, alternating per run; CPU is the proxy's utime + stime from
// /proc/PID/stat over the requests. Also shed with `connection: close` (a chunked body: the connection
// cannot be kept) and, for scale, a bare Node server answering the same 429 (the floor of any answer
// through node:http). A benchmark prints numbers; it is not a test (docs/performance.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { cpuSeconds, startUntil, stopChild } from './child-procs';
import { proxyCliArgs, proxyConfigYaml } from './proxy-config';

const ROOT = path.resolve(import.meta.dirname, '..');
const BODY = JSON.stringify({ model: 'm', prompt: 'hello there', max_tokens: 4 });

interface Options {
  requests: number;
  clients: number;
  runs: number;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { requests: 20_000, clients: 16, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${flag ?? ''} needs a positive integer, got '${argv[i + 1] ?? ''}'`);
    }
    if (flag === '--requests') opts.requests = value;
    else if (flag === '--clients') opts.clients = value;
    else if (flag === '--runs') opts.runs = value;
    else throw new Error(`unknown flag ${flag ?? ''} (--requests N, --clients N, --runs N)`);
  }
  return opts;
}

type Started = ReturnType<typeof startUntil>;
const children: Started['child'][] = [];

async function startChild(name: string, cmd: [string, string[]], ready: RegExp): Promise<number> {
  const s = startUntil(name, cmd, ready, { cwd: ROOT, timeoutMs: 60_000 });
  children.push(s.child);
  return Number((await s.started)[1]);
}

function worker(args: string[] = []): Promise<number> {
  return startChild(
    'bench worker',
    [process.execPath, ['--import', 'tsx', 'bench/bench-worker.ts', '--port', '0', ...args]],
    /listening on (\d+)/,
  );
}

async function proxy(
  dir: string,
  name: string,
  ctx: number,
  gen: number,
  extra: string[],
): Promise<{ port: number; pid: number }> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, proxyConfigYaml({ port: 0, ctx: [ctx], gen: [gen] }));
  const s = startUntil(
    name,
    [
      process.execPath,
      [path.join(ROOT, 'bin/disagg-console.mjs'), ...proxyCliArgs(file, 1, extra)],
    ],
    /listening on http:\/\/[^:]+:(\d+)/,
    { cwd: ROOT, timeoutMs: 60_000 },
  );
  children.push(s.child);
  const port = Number((await s.started)[1]);
  return { port, pid: s.child.pid ?? 0 };
}

/** `total` requests from `clients` keep-alive clients back to back; returns the status counts. */
async function closedLoop(
  port: number,
  total: number,
  clients: number,
  headers: Record<string, string>,
): Promise<Record<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const statuses: Record<string, number> = {};
  let left = total;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/completions', agent, headers },
        (res) => {
          res.resume();
          res.on('end', () => {
            const k = String(res.statusCode);
            statuses[k] = (statuses[k] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        statuses['error'] = (statuses['error'] ?? 0) + 1;
        resolve();
      });
      req.end(BODY);
    });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (left > 0) {
        left--;
        await one();
      }
    }),
  );
  agent.destroy();
  return statuses;
}

const KEEP = { 'content-type': 'application/json', 'content-length': String(BODY.length) };
const CHUNKED = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' };

/** CPU microseconds per request of `pid` over one closed loop. */
async function measure(
  target: { port: number; pid: number },
  opts: Options,
  headers: Record<string, string>,
): Promise<{ usPerRequest: number; statuses: Record<string, number> }> {
  const before = cpuSeconds(target.pid);
  const statuses = await closedLoop(target.port, opts.requests, opts.clients, headers);
  const cpu = cpuSeconds(target.pid) - before;
  return { usPerRequest: (cpu * 1e6) / opts.requests, statuses };
}

/** The same 429 from a bare node:http server: the floor of any answer. Runs in a child so its CPU is its own. */
async function bareServer(): Promise<{ port: number; pid: number }> {
  const code = `const b='{"error":{"message":"busy","type":"rate_limit_error","param":null,"code":429}}';
require('http').createServer((q,r)=>{r.writeHead(429,{'content-type':'application/json','content-length':b.length,'retry-after':'1'});r.end(b);})
.listen(0,'127.0.0.1',function(){console.log('listening on '+this.address().port)});`;
  const s = startUntil('bare server', [process.execPath, ['-e', code]], /listening on (\d+)/, {
    cwd: ROOT,
  });
  children.push(s.child);
  return { port: Number((await s.started)[1]), pid: s.child.pid ?? 0 };
}

/** Resolves once the full proxy refuses (its slot is held). */
async function untilShedding(port: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const s = await closedLoop(port, 1, 1, KEEP);
    if (s['429'] === 1) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the full proxy never refused: its slot was not taken');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shed-cost-'));
  try {
    const [ctx, gen, slowGen] = await Promise.all([
      worker(['--tokens', '4']),
      worker(['--tokens', '4']),
      // One slot, a stream of 20,000 tokens 90 ms apart: held for 30 min, never idle past a timeout.
      worker(['--slots', '1', '--service-ms', '1800000', '--tokens', '20000']),
    ]);
    const served = await proxy(dir, 'served', ctx, gen, ['--max-loop-delay', '0']);
    const full = await proxy(dir, 'full', ctx, slowGen, [
      ...['--max-concurrency', '1', '--max-queue', '0', '--max-loop-delay', '0'],
    ]);
    const bare = await bareServer();
    // Hold the full proxy's one slot with that stream.
    const holder = http.request({
      host: '127.0.0.1',
      port: full.port,
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json' },
    });
    holder.on('error', () => undefined);
    holder.end(JSON.stringify({ model: 'm', prompt: 'hold', max_tokens: 4, stream: true }));
    await untilShedding(full.port);
    const cases = [
      { name: 'served (200)', target: served, headers: KEEP },
      { name: 'shed at headers, keep-alive (429)', target: full, headers: KEEP },
      { name: 'shed at headers, chunked body: close (429)', target: full, headers: CHUNKED },
      { name: 'bare node:http 429 (floor)', target: bare, headers: KEEP },
    ];
    const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    await closedLoop(served.port, 2_000, opts.clients, KEEP); // warm-up: JIT, pools
    await closedLoop(full.port, 2_000, opts.clients, KEEP);
    for (let run = 0; run < opts.runs; run++) {
      for (const c of cases) {
        const m = await measure(c.target, opts, c.headers);
        results.get(c.name)?.push(m.usPerRequest);
        process.stdout.write(
          `run ${run + 1} ${c.name}: ${m.usPerRequest.toFixed(1)} us/request ${JSON.stringify(m.statuses)}\n`,
        );
      }
    }
    const servedUs = median(results.get('served (200)') ?? []);
    process.stdout.write(
      `\n| case | CPU us/request (median of ${opts.runs}) | / served |\n| --- | --- | --- |\n`,
    );
    for (const c of cases) {
      const us = median(results.get(c.name) ?? []);
      process.stdout.write(`| ${c.name} | ${us.toFixed(1)} | ${(us / servedUs).toFixed(2)} |\n`);
    }
    holder.destroy();
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
