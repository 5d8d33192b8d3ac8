// `npm run bench:proxy`: the proxy benchmark of docs/performance.md. The proxy (and each floor: nginx
// one hop, a bare two-hop relay) runs pinned to core 0; zero-delay workers and the load generator run
// on core 1. Closed loop (non-streamed, 32 clients), streams (256 concurrent, 32 tokens, 5 ms apart),
// and open loop (Poisson) at 1.5x and 0.5x the proxy's capacity. Prints requests/s, latency
// percentiles and the proxy's CPU per request and per streamed token from /proc/PID/stat, measured
// inside the window. A benchmark prints numbers; it is not a test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const NGINX = '/usr/sbin/nginx';

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  output: () => string;
}

interface LoadResult {
  ok: number;
  statuses: Record<string, number>;
  transportErrors: number;
  doneMissing: number;
  rps: number;
  latP50: number;
  latP90: number;
  latP99: number;
  ttftP50: number;
  ttftP99: number;
  tokens: number;
  loadGenCoreFraction: number;
  /** Target process CPU seconds in the window (undefined for the direct path). */
  cpuS?: number;
}

const procs: Proc[] = [];
let canPin = false;

function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

function start(name: string, core: number, cmd: string, args: string[], ready: RegExp): Promise<{ proc: Proc; match: RegExpExecArray }> {
  const [c, a] = pinned(core, cmd, args);
  const child = spawn(c, a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const proc: Proc = { name, child, pid: child.pid ?? 0, output: () => out };
  procs.push(proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 20_000);
    const check = (): void => {
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m });
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${String(code)}):\n${out}`));
    });
  });
}

function tsNode(file: string, args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args]];
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

let clkTck = 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clkTck;
}

async function waitHealthy(port: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never became healthy`);
}

interface LoadSpec {
  port: number;
  path: string;
  body: string;
  mode: 'closed' | 'open';
  concurrency: number;
  rate: number;
  warmupMs: number;
  durationMs: number;
  isStream: boolean;
}

/** Runs the load generator on core 1; samples `targetPid`'s CPU at the window edges. */
function runLoad(spec: LoadSpec, targetPid?: number): Promise<LoadResult> {
  const [cmd, args] = tsNode('bench/load-gen.ts', [JSON.stringify(spec)]);
  const [c, a] = pinned(1, cmd, args);
  const child = spawn(c, a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let cpu0 = 0;
  let cpu1 = 0;
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (targetPid !== undefined && text.includes('WINDOW_START')) cpu0 = cpuSeconds(targetPid);
      if (targetPid !== undefined && text.includes('WINDOW_END')) cpu1 = cpuSeconds(targetPid);
      out += text;
    });
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) {
        reject(new Error(`load generator failed:\n${out}`));
        return;
      }
      const r = JSON.parse(line.slice(7)) as LoadResult;
      if (targetPid !== undefined) r.cpuS = cpu1 - cpu0;
      resolve(r);
    });
  });
}

function nginxConfig(dir: string, routes: Array<{ listen: number; upstream: number }>): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n  ');
  const blocks = routes
    .map(
      (r, i) => `
  upstream u${i} { server 127.0.0.1:${r.upstream}; keepalive 256; }
  server {
    listen 127.0.0.1:${r.listen};
    location / {
      proxy_pass http://u${i};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }`,
    )
    .join('\n');
  return `worker_processes 1;
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  ${temp}
${blocks}
}
`;
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');

export async function runProxyBench(args: string[]): Promise<number> {
  const isQuick = args.includes('--quick');
  if (args.includes('--help')) {
    process.stdout.write('Usage: npm run bench:proxy [-- --quick]\n');
    return 0;
  }
  const warmupMs = isQuick ? 500 : 1_000;
  const durationMs = isQuick ? 2_000 : 4_000;
  canPin = os.cpus().length >= 2 && existsSync('/usr/bin/taskset');
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    clkTck = 100;
  }
  const log = (s: string): void => void process.stdout.write(s + '\n');
  log(`proxy benchmark (${isQuick ? 'quick' : 'full'}): ${canPin ? 'proxy pinned to core 0, workers and load on core 1' : 'NOT pinned (need 2 cores and taskset)'}`);
  try {
    // Workers: one context, one instant generation, one streaming generation (32 tokens, 5 ms apart).
    const wk = async (name: string, extra: string[]): Promise<number> => {
      const [cmd, a] = tsNode('bench/bench-worker.ts', ['--port', '0', '--tokens', '32', ...extra]);
      const { match } = await start(name, 1, cmd, a, /listening on (\d+)/);
      return Number(match[1]);
    };
    const [ctxPort, genPort, streamPort] = await Promise.all([wk('ctx', []), wk('gen', []), wk('gen-stream', ['--interval-ms', '5'])]);

    // The proxy under test, twice (instant gen / streaming gen), through the real CLI.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'proxy-bench-'));
    const proxyFor = async (name: string, gen: number): Promise<{ port: number; pid: number }> => {
      const port = await freePort();
      const cfg = path.join(tmp, `${name}.yaml`);
      writeFileSync(cfg, `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${ctxPort}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${gen}"]\n`);
      const { proc } = await start(name, 0, process.execPath, [path.join(ROOT, 'bin/disagg-console.mjs'), 'proxy', '-c', cfg, '-l', 'warning'], /listening on/);
      await waitHealthy(port);
      return { port, pid: proc.pid };
    };
    const proxyA = await proxyFor('proxy', genPort);
    const proxyB = await proxyFor('proxy-stream', streamPort);

    const relayFor = async (name: string, gen: number): Promise<{ port: number; pid: number }> => {
      const [cmd, a] = tsNode('bench/bare-relay.ts', ['--port', '0', '--ctx', `127.0.0.1:${ctxPort}`, '--gen', `127.0.0.1:${gen}`]);
      const { proc, match } = await start(name, 0, cmd, a, /listening on (\d+)/);
      return { port: Number(match[1]), pid: proc.pid };
    };
    const relayA = await relayFor('relay', genPort);
    const relayB = await relayFor('relay-stream', streamPort);

    let nginx: { a: number; b: number; pid: number } | undefined;
    if (existsSync(NGINX)) {
      const a = await freePort();
      const b = await freePort();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-bench-nginx-'));
      const conf = path.join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConfig(dir, [{ listen: a, upstream: genPort }, { listen: b, upstream: streamPort }]));
      const [c, ar] = pinned(0, NGINX, ['-p', dir, '-c', conf]);
      const child = spawn(c, ar, { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push({ name: 'nginx', child, pid: child.pid ?? 0, output: () => '' });
      try {
        await waitHealthy(a);
        nginx = { a, b, pid: child.pid ?? 0 };
      } catch {
        log('nginx did not start; skipping the nginx floor');
      }
    }

    const plain = JSON.stringify({ model: 'bench', prompt: 'The capital of Germany is', max_tokens: 32, temperature: 0 });
    const streamed = JSON.stringify({ model: 'bench', prompt: 'The capital of Germany is', max_tokens: 32, temperature: 0, stream: true });
    const closed = (port: number, body: string, isStream: boolean, concurrency: number): LoadSpec => ({
      port,
      path: '/v1/completions',
      body,
      mode: 'closed',
      concurrency,
      rate: 0,
      warmupMs,
      durationMs,
      isStream,
    });

    // Run 1: non-streamed, 32 clients, instant workers.
    log('\nRun 1: non-streamed requests, closed loop, 32 clients, instant workers');
    log('path                 req/s   p50 ms  p99 ms  CPU us/req  loadgen core');
    const run1: Record<string, LoadResult> = {};
    const targets1: Array<[string, number, number | undefined]> = [
      ['direct (one worker)', genPort, undefined],
      ...(nginx ? ([['nginx one hop', nginx.a, nginx.pid]] as Array<[string, number, number]>) : []),
      ['bare two-hop relay', relayA.port, relayA.pid],
      ['disagg-console proxy', proxyA.port, proxyA.pid],
    ];
    for (const [name, port, pid] of targets1) {
      const r = await runLoad(closed(port, plain, false, 32), pid);
      run1[name] = r;
      const cpuUs = r.cpuS !== undefined && r.ok > 0 ? (r.cpuS * 1e6) / r.ok : Number.NaN;
      log(`${name.padEnd(20)} ${f0(r.rps).padStart(6)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(6)}  ${f1(cpuUs).padStart(10)}  ${r.loadGenCoreFraction.toFixed(2).padStart(12)}${Object.keys(r.statuses).some((s) => s !== '200') ? `  statuses ${JSON.stringify(r.statuses)}` : ''}`);
    }

    // Run 1b: the same with 128 clients, so the relays saturate core 0 (on a VM, cross-core wakeups
    // dominate an unsaturated run and inflate CPU per request).
    log('\nRun 1b: non-streamed, closed loop, 128 clients (relays saturated)');
    log('path                 req/s   p50 ms  p99 ms  CPU us/req  proxy core');
    const run1b: Record<string, LoadResult> = {};
    for (const [name, port, pid] of targets1.filter(([, , pid]) => pid !== undefined)) {
      const r = await runLoad(closed(port, plain, false, 128), pid);
      run1b[name] = r;
      const cpuUs = r.cpuS !== undefined && r.ok > 0 ? (r.cpuS * 1e6) / r.ok : Number.NaN;
      const core = r.cpuS !== undefined ? r.cpuS / (durationMs / 1000) : Number.NaN;
      log(`${name.padEnd(20)} ${f0(r.rps).padStart(6)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(6)}  ${f1(cpuUs).padStart(10)}  ${core.toFixed(2).padStart(10)}`);
    }

    // Run 2: 256 concurrent streams of 32 tokens, 5 ms apart (each token its own write).
    log('\nRun 2: 256 concurrent streams, 32 tokens each, 5 ms between tokens');
    log('path                 streams/s  TTFT p50  TTFT p99  CPU us/token  CPU us/stream  [DONE] missing');
    const targets2: Array<[string, number, number | undefined]> = [
      ['direct (one worker)', streamPort, undefined],
      ...(nginx ? ([['nginx one hop', nginx.b, nginx.pid]] as Array<[string, number, number]>) : []),
      ['bare two-hop relay', relayB.port, relayB.pid],
      ['disagg-console proxy', proxyB.port, proxyB.pid],
    ];
    const run2: Record<string, LoadResult> = {};
    for (const [name, port, pid] of targets2) {
      const r = await runLoad(closed(port, streamed, true, 256), pid);
      run2[name] = r;
      const perTok = r.cpuS !== undefined && r.tokens > 0 ? (r.cpuS * 1e6) / r.tokens : Number.NaN;
      const perStream = r.cpuS !== undefined && r.ok > 0 ? (r.cpuS * 1e6) / r.ok : Number.NaN;
      log(`${name.padEnd(20)} ${f0(r.rps).padStart(9)}  ${f1(r.ttftP50).padStart(8)}  ${f1(r.ttftP99).padStart(8)}  ${f1(perTok).padStart(12)}  ${f1(perStream).padStart(13)}  ${String(r.doneMissing).padStart(14)}`);
    }

    // Open loop around the proxy's measured capacity.
    const capacity = run1['disagg-console proxy']?.rps ?? 0;
    log(`\nOpen loop (Poisson, latency from the scheduled time); proxy capacity from run 1: ${f0(capacity)} req/s`);
    log('case                           offered  goodput  shed(429/503)  p50 ms   p99 ms  transport errors');
    const open = (port: number, rate: number): LoadSpec => ({ ...closed(port, plain, false, 0), mode: 'open', rate });
    const cases: Array<[string, number, number, number | undefined]> = [
      ['direct at 0.5x', genPort, 0.5 * capacity, undefined],
      ['bare relay at 0.5x', relayA.port, 0.5 * capacity, relayA.pid],
      ['proxy at 0.5x', proxyA.port, 0.5 * capacity, proxyA.pid],
      ['bare relay at 1.5x', relayA.port, 1.5 * capacity, relayA.pid],
      ['proxy at 1.5x', proxyA.port, 1.5 * capacity, proxyA.pid],
    ];
    const openResults: Record<string, LoadResult> = {};
    for (const [name, port, rate, pid] of cases) {
      const r = await runLoad(open(port, Math.max(1, Math.round(rate))), pid);
      openResults[name] = r;
      const shed = (r.statuses['429'] ?? 0) + (r.statuses['503'] ?? 0);
      log(`${name.padEnd(30)} ${f0(rate).padStart(7)}  ${f0(r.rps).padStart(7)}  ${String(shed).padStart(13)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(7)}  ${String(r.transportErrors).padStart(16)}`);
    }

    // Summary against the targets of docs/performance.md.
    const p1 = run1['disagg-console proxy'];
    const p2 = run2['disagg-console proxy'];
    const d1 = run1['direct (one worker)'];
    const half = openResults['proxy at 0.5x'];
    const halfDirect = openResults['direct at 0.5x'];
    const over = openResults['proxy at 1.5x'];
    log('\nSummary');
    if (p1?.cpuS !== undefined) log(`  proxy CPU per two-hop request: ${f1((p1.cpuS * 1e6) / Math.max(1, p1.ok))} us at 32 clients (target <= 100, then <= 70)`);
    const p1b = run1b['disagg-console proxy'];
    const r1b = run1b['bare two-hop relay'];
    if (p1b?.cpuS !== undefined && r1b?.cpuS !== undefined) {
      const pu = (p1b.cpuS * 1e6) / Math.max(1, p1b.ok);
      const ru = (r1b.cpuS * 1e6) / Math.max(1, r1b.ok);
      log(`  saturated: proxy ${f1(pu)} us/req vs bare relay ${f1(ru)} us/req (ratio ${(pu / ru).toFixed(2)}); throughput ${f0(p1b.rps)} vs ${f0(r1b.rps)} req/s`);
    }
    if (p2?.cpuS !== undefined) log(`  proxy CPU per streamed token:  ${f1((p2.cpuS * 1e6) / Math.max(1, p2.tokens))} us (target <= 20, then <= 10)`);
    const relay2 = run2['bare two-hop relay'];
    if (p2 && relay2) log(`  TTFT p99 with 256 streams: ${f1(p2.ttftP99)} ms vs bare relay ${f1(relay2.ttftP99)} ms (ratio ${(p2.ttftP99 / relay2.ttftP99).toFixed(2)}, target <= 1.2)`);
    if (half && halfDirect) log(`  added latency at 0.5x capacity: p50 ${f1(half.latP50 - halfDirect.latP50)} ms, p99 ${f1(half.latP99 - halfDirect.latP99)} ms (targets < 1 / < 5)`);
    const relayOver = openResults['bare relay at 1.5x'];
    if (over && p1) log(`  at 1.5x offered: goodput ${f0(over.rps)} req/s = ${((100 * over.rps) / Math.max(1, p1.rps)).toFixed(0)}% of peak (target >= 90%); bare relay ${f0(relayOver?.rps ?? Number.NaN)} req/s`);
    if (d1 && p1) log(`  rig check: direct ${f0(d1.rps)} req/s vs proxy ${f0(p1.rps)} (${(d1.rps / Math.max(1, p1.rps)).toFixed(1)}x; below 3x the run measured the rig, not the proxy)`);
    const lg = Math.max(...Object.values(run1).map((r) => r.loadGenCoreFraction));
    log(`  load generator peak core use: ${lg.toFixed(2)} (sanity: <= 0.5)`);
    return 0;
  } finally {
    for (const p of procs.reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null && p.pid > 0) {
        try {
          process.kill(p.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  }
}
