// `npm run bench:proxy`: the proxy benchmark of docs/performance.md. The proxy (and each floor: nginx
// one hop, a bare two-hop relay) runs pinned to core 0; zero-delay workers and the load generator run
// on core 1. Closed loop (non-streamed, 32 and 128 clients), streams (256 concurrent, 32 tokens, 5 ms
// apart), and open loop (Poisson) at 1.5x and 0.5x the proxy's capacity; run 3 overloads bounded
// workers (capacity a few hundred req/s, set by their slots) at 1.5x through the proxy with a fitting
// --max-concurrency, the proxy with default limits and the bare relay. Every case runs N times,
// interleaved across targets, and medians are printed with ratios against the floors of the same run,
// plus the sanity checks of docs/performance.md. CPU per request and per streamed token comes from
// /proc/PID/stat sampled inside the window. A benchmark prints numbers; it is not a test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startUntil, stopAtExit, stopChild } from './child-procs';
import { runLoadGen } from './load-run';
import type { LoadGenResult, LoadSpec } from './load-spec';
import { proxyCliArgs, proxyConfigYaml } from './proxy-config';
import {
  p99RatiosPerRun,
  type ProxyWindowDiagnostics,
  proxyWindowDiagnostics,
  type RelayLoopDelay,
  runsWithin,
  samplePercentile,
  spread,
} from './tail-diagnostics';

// Under the device bundle (CommonJS) import.meta is empty: every path there comes from --bundles.
const ROOT = import.meta.dirname ? path.resolve(import.meta.dirname, '..') : process.cwd();
/**
 * `--bundles DIR` (the device pack, scripts/device/proxy-bench.sh): the esbuild bundles of the CLI, the
 * load generator, the bench worker and the bare relay run instead of the TypeScript sources under tsx.
 */
let bundles: string | undefined;
/** Whose proxy is started (`--proxy-root DIR`: another checkout, to compare builds in one sitting). */
let proxyRoot = ROOT;
/** `--base-root DIR`: a second build measured beside the proxy in run 5 (before/after in one run). */
let baseRoot: string | undefined;
/** nginx, the one-hop floor (`--nginx PATH`: another binary, e.g. the device pack's wrapper). */
let nginxPath = '/usr/sbin/nginx';

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
}

interface LoadResult extends LoadGenResult {
  /** Target process CPU seconds in the window (undefined for the direct path). */
  cpuS?: number;
  /** Write system calls the target made in the window (/proc/PID/io; NaN where unreadable). */
  writeCalls?: number;
}

const procs: Proc[] = [];
let canPin = false;
/**
 * Where the rig runs. On the 2-core box the workers and the load generator share core 1. On a machine
 * with cores to spare (the 16-core device machine) the load generator has core 1 and each worker a core
 * of its own from 2 up, so the rig never slows itself and a run measures the target on core 0.
 */
interface RigLayout {
  loadGenCore: number;
  workerCores: number[];
}
let rig: RigLayout = { loadGenCore: 1, workerCores: [1] };
let workersPlaced = 0;

function rigLayoutFor(cores: number): RigLayout {
  if (cores < 4) return { loadGenCore: 1, workerCores: [1] };
  return { loadGenCore: 1, workerCores: Array.from({ length: cores - 2 }, (_, i) => i + 2) };
}

function describeRig(): string {
  const w = rig.workerCores;
  if (w.length === 1 && w[0] === rig.loadGenCore) {
    return `workers and load generator to core ${w[0]}`;
  }
  return `load generator to core ${rig.loadGenCore}, workers one per core on ${w[0]}-${w[w.length - 1]}`;
}

function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

function workerPinned(cmd: string, args: string[]): [string, string[]] {
  const core = rig.workerCores[workersPlaced++ % rig.workerCores.length] ?? 1;
  return pinned(core, cmd, args);
}

async function start(
  name: string,
  core: number | 'worker',
  cmd: string,
  args: string[],
  ready: RegExp,
): Promise<{ proc: Proc; match: RegExpExecArray }> {
  const placed = core === 'worker' ? workerPinned(cmd, args) : pinned(core, cmd, args);
  const { child, started } = startUntil(name, placed, ready, { cwd: ROOT });
  const proc: Proc = { name, child, pid: child.pid ?? 0 };
  procs.push(proc);
  return { proc, match: await started };
}

/** A bench part (`bench/NAME.ts`): its bundle under --bundles, else the source through tsx. */
function tsNode(file: string, args: string[]): [string, string[]] {
  if (bundles !== undefined) {
    return [process.execPath, [path.join(bundles, `${path.basename(file, '.ts')}.cjs`), ...args]];
  }
  return [process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args]];
}

/** The `disagg-console` entry of a checkout; this checkout's CLI bundle under --bundles. */
function cliEntry(root: string): string {
  if (bundles !== undefined && root === ROOT) return path.join(bundles, 'fleet-cli.cjs');
  return path.join(root, 'bin/disagg-console.mjs');
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

/**
 * Write system calls of a process so far (`syscw` of /proc/PID/io; NaN where unreadable). Per streamed
 * token it shows whether a relay writes once per upstream read or once per token (bench/README.md).
 */
function writeCalls(pid: number): number {
  try {
    const m = /^syscw:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
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

/** Called when the load generator opens and closes its measured window (run 2 scrapes diagnostics). */
interface WindowEdges {
  onStart(): void;
  onEnd(): void;
}

/** Runs the load generator on its rig core; samples `targetPid`'s CPU at the window edges. */
async function runLoad(
  spec: LoadSpec,
  targetPid?: number,
  edges?: WindowEdges,
): Promise<LoadResult> {
  const cpuNow = (): number => (targetPid === undefined ? 0 : cpuSeconds(targetPid));
  let cpu0 = 0;
  let cpu1 = 0;
  let writes0 = 0;
  let writes1 = 0;
  const r: LoadResult = await runLoadGen(
    pinned(rig.loadGenCore, ...tsNode('bench/load-gen.ts', [])),
    spec,
    ROOT,
    {
      onWindowStart: () => {
        cpu0 = cpuNow();
        if (targetPid !== undefined) writes0 = writeCalls(targetPid);
        edges?.onStart();
      },
      onWindowEnd: () => {
        cpu1 = cpuNow();
        if (targetPid !== undefined) writes1 = writeCalls(targetPid);
        edges?.onEnd();
      },
    },
  );
  if (targetPid !== undefined) {
    r.cpuS = cpu1 - cpu0;
    r.writeCalls = writes1 - writes0;
  }
  return r;
}

function nginxConfig(dir: string, routes: Array<{ listen: number; upstream: number }>): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${dir}/${t};`)
    .join('\n  ');
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
  # Run 5 sends 1 MB prompts (nginx refuses bodies over 1 MB by default, with 413).
  client_max_body_size 16m;
  ${temp}
${blocks}
}
`;
}

/** The proxy under test through the real CLI, pinned to core 0, with `extra` proxy flags. */
async function startProxy(
  tmp: string,
  name: string,
  ctx: number,
  gen: number,
  extra: string[] = [],
  root = proxyRoot,
): Promise<{ port: number; pid: number }> {
  const port = await freePort();
  const cfg = path.join(tmp, `${name}.yaml`);
  writeFileSync(cfg, proxyConfigYaml({ port, ctx: [ctx], gen: [gen] }));
  // One process (--workers defaults to half the cores): the fleet is measured on its own.
  const { proc } = await start(
    name,
    0,
    process.execPath,
    [cliEntry(root), ...proxyCliArgs(cfg, 1, extra)],
    /listening on/,
  );
  await waitHealthy(port);
  return { port, pid: proc.pid };
}

async function startRelay(
  name: string,
  ctx: number,
  gen: number,
): Promise<{ port: number; pid: number }> {
  const [cmd, a] = tsNode('bench/bare-relay.ts', [
    '--port',
    '0',
    '--ctx',
    `127.0.0.1:${ctx}`,
    '--gen',
    `127.0.0.1:${gen}`,
  ]);
  const { proc, match } = await start(name, 0, cmd, a, /listening on (\d+)/);
  return { port: Number(match[1]), pid: proc.pid };
}

/** The Node one-hop floor (bench/tcp-pipe.ts) to `to`, on core 0 like the other targets. */
async function startTcpPipe(name: string, to: number): Promise<{ port: number; pid: number }> {
  const [cmd, a] = tsNode('bench/tcp-pipe.ts', ['--port', '0', '--to', `127.0.0.1:${to}`]);
  const { proc, match } = await start(name, 0, cmd, a, /listening on (\d+)/);
  return { port: Number(match[1]), pid: proc.pid };
}

/** A bench worker on its rig core; returns its port. */
async function startWorker(name: string, extra: string[]): Promise<number> {
  const [cmd, a] = tsNode('bench/bench-worker.ts', ['--port', '0', ...extra]);
  const { match } = await start(name, 'worker', cmd, a, /listening on (\d+)/);
  return Number(match[1]);
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

function median(values: number[]): number {
  return spread(values).median;
}

/** One target's repeated results reduced to medians, per field (a lone run on a shared box is noise). */
interface Measured {
  runs: LoadResult[];
  rps: number;
  latP50: number;
  latP99: number;
  ttftP50: number;
  ttftP99: number;
  /** Proxy CPU per completed request and per streamed token, us (NaN for the direct path). */
  cpuUsPerReq: number;
  cpuUsPerToken: number;
  /** Write system calls per streamed token (NaN without /proc/PID/io). */
  writesPerToken: number;
  /** Share of core 0 the target used in the window. */
  core: number;
  loadGenCore: number;
  doneMissing: number;
  transportErrors: number;
  shed: number;
  non200: number;
  shed429: number;
  shed503: number;
  /** Shed answers that carried Retry-After. */
  shedRetryAfter: number;
  shedLatP50: number;
  shedLatP99: number;
  unfinished: number;
}

function reduce(runs: LoadResult[], durationS: number): Measured {
  const m = (pick: (r: LoadResult) => number): number => median(runs.map(pick));
  const cpu = (r: LoadResult, n: number): number =>
    r.cpuS !== undefined && n > 0 ? (r.cpuS * 1e6) / n : Number.NaN;
  const sum = (pick: (r: LoadResult) => number): number => runs.reduce((a, r) => a + pick(r), 0);
  return {
    runs,
    rps: m((r) => r.rps),
    latP50: m((r) => r.latP50),
    latP99: m((r) => r.latP99),
    ttftP50: m((r) => r.ttftP50),
    ttftP99: m((r) => r.ttftP99),
    cpuUsPerReq: m((r) => cpu(r, r.ok)),
    cpuUsPerToken: m((r) => cpu(r, r.tokens)),
    writesPerToken: m((r) =>
      r.writeCalls !== undefined && r.tokens > 0 ? r.writeCalls / r.tokens : Number.NaN,
    ),
    core: m((r) => (r.cpuS !== undefined ? r.cpuS / durationS : Number.NaN)),
    loadGenCore: Math.max(...runs.map((r) => r.loadGenCoreFraction)),
    doneMissing: sum((r) => r.doneMissing),
    transportErrors: sum((r) => r.transportErrors),
    shed: sum((r) => (r.statuses['429'] ?? 0) + (r.statuses['503'] ?? 0)),
    non200: sum((r) =>
      Object.entries(r.statuses).reduce((a, [s, n]) => a + (s === '200' ? 0 : n), 0),
    ),
    shed429: sum((r) => r.statuses['429'] ?? 0),
    shed503: sum((r) => r.statuses['503'] ?? 0),
    shedRetryAfter: sum((r) => r.shedRetryAfter),
    shedLatP50: m((r) => r.shedLatP50),
    shedLatP99: m((r) => r.shedLatP99),
    unfinished: sum((r) => r.unfinished),
  };
}

/** A path the load runs against; `directGenPort`: run 5's direct two-hop path (`port` is the context worker). */
type Target = { name: string; port: number; pid: number | undefined; directGenPort?: number };

/**
 * Runs every target `runs` times, interleaved (A B C A B C ...), so slow drift of a shared machine hits
 * all targets alike; returns the medians per target.
 */
async function measure(
  targets: Target[],
  spec: (t: Target) => LoadSpec,
  runs: number,
  durationS: number,
): Promise<Record<string, Measured>> {
  const all: Record<string, LoadResult[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const t of targets) {
      const r = await runLoad(spec(t), t.pid);
      (all[t.name] ??= []).push(r);
    }
  }
  const out: Record<string, Measured> = {};
  for (const t of targets) out[t.name] = reduce(all[t.name] ?? [], durationS);
  return out;
}

/** Measures `targets` and logs a row for each: its name, then `columns` of its medians. */
async function measureRows(
  targets: Target[],
  spec: (t: Target) => LoadSpec,
  sitting: { runs: number; durationS: number; log: (s: string) => void },
  columns: (r: Measured) => string,
): Promise<Record<string, Measured>> {
  const results = await measure(targets, spec, sitting.runs, sitting.durationS);
  for (const t of targets) {
    sitting.log(`${t.name.padEnd(20)} ${columns(results[t.name] as Measured)}`);
  }
  return results;
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? `${(a / b).toFixed(2)}x`
    : '-';

/** Run 2: concurrent streams, the TTFT tail case of issue #16. */
const STREAMS = 256;
const STREAM_BODY = JSON.stringify({
  model: 'bench',
  prompt: 'The capital of Germany is',
  max_tokens: 32,
  temperature: 0,
  stream: true,
});

/** One target's window in run 2: TTFT percentiles from the raw samples, and what it said about itself. */
interface StreamRun {
  run: number;
  n: number;
  ttftP50: number;
  ttftP99: number;
  ttftP999: number;
  /** The proxy's /metrics over the window. */
  proxy?: ProxyWindowDiagnostics;
  /** The bare relay's event-loop delay over the window. */
  relay?: RelayLoopDelay;
}

/** GET `path` on the target, as text; '' when it does not answer in 5 s (a diagnostic, never fatal). */
async function getText(port: number, urlPath: string): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
      signal: AbortSignal.timeout(5_000),
    });
    return await r.text();
  } catch {
    return '';
  }
}

/** Scrapes at the window's edges: the proxy's /metrics, or the relay's /__eld (which resets it). */
function diagnosticsAt(t: Target): {
  edges: WindowEdges | undefined;
  read(): Promise<Pick<StreamRun, 'proxy' | 'relay'>>;
} {
  const isProxy = t.name === PROXY_NAME || t.name === BASE_PROXY_NAME;
  const urlPath = isProxy
    ? '/metrics'
    : t.name === BARE || t.name === BARE_CONTROL
      ? '/__eld'
      : undefined;
  if (urlPath === undefined) return { edges: undefined, read: () => Promise.resolve({}) };
  let before: Promise<string> = Promise.resolve('');
  let after: Promise<string> = Promise.resolve('');
  return {
    edges: {
      onStart: () => void (before = getText(t.port, urlPath)),
      onEnd: () => void (after = getText(t.port, urlPath)),
    },
    async read() {
      const [b, a] = await Promise.all([before, after]);
      if (isProxy) return b && a ? { proxy: proxyWindowDiagnostics(b, a) } : {};
      try {
        return { relay: JSON.parse(a) as RelayLoopDelay };
      } catch {
        return {};
      }
    },
  };
}

/**
 * Run 2: every target `runs` times, interleaved, with the raw TTFT samples (for p99.9) and the
 * diagnostics of each window. Returns the medians (as `measure`) and the per-run rows.
 */
async function measureStreams(
  targets: Target[],
  spec: (t: Target) => LoadSpec,
  runs: number,
  durationS: number,
): Promise<{ medians: Record<string, Measured>; perRun: Record<string, StreamRun[]> }> {
  const all: Record<string, LoadResult[]> = {};
  const perRun: Record<string, StreamRun[]> = {};
  // One unrecorded window per target first: the tail asked about is the steady state's, and a proxy
  // just started spends its first window compiling its hot paths (V8 tiers up), which the tiny relay
  // barely has to.
  for (const t of targets) await runLoad(spec(t), t.pid);
  for (let i = 0; i < runs; i++) {
    // Every other run goes in the reverse order, so no target always follows another's window (the
    // workers carry the previous window's garbage and queues into the next).
    for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
      const diag = diagnosticsAt(t);
      const r = await runLoad({ ...spec(t), isWithSamples: true }, t.pid, diag.edges);
      const sorted = (r.samples ?? []).sort((a, b) => a - b);
      r.samples = undefined;
      (all[t.name] ??= []).push(r);
      (perRun[t.name] ??= []).push({
        run: i + 1,
        n: sorted.length,
        ttftP50: samplePercentile(sorted, 0.5),
        ttftP99: samplePercentile(sorted, 0.99),
        ttftP999: samplePercentile(sorted, 0.999),
        ...(await diag.read()),
      });
    }
  }
  const medians: Record<string, Measured> = {};
  for (const t of targets) medians[t.name] = reduce(all[t.name] ?? [], durationS);
  return { medians, perRun };
}

/** Run 2's tail: per run TTFT p50/p99/p99.9 of each two-hop target, its p99 ratio to the bare relay's, the diagnostics. */
interface StreamTail {
  perRun: Record<string, StreamRun[]>;
  /** proxy p99 / bare relay p99, per run. */
  ratios: number[];
  /** The same for the A/A control (a second bare relay) and a --base-root proxy, when they ran. */
  controlRatios?: number[];
  baseRatios?: number[];
  spread: Record<string, ReturnType<typeof spread>>;
}

/** The bound of issue #16's tail target: TTFT p99 at most this times the bare relay's, in every run. */
const TAIL_RATIO_TARGET = 1.1;

function streamTail(perRun: Record<string, StreamRun[]>, log: (s: string) => void): StreamTail {
  const relay = perRun[BARE] ?? [];
  const ratiosOf = (name: string): number[] | undefined => {
    const rows = perRun[name];
    return rows === undefined ? undefined : p99RatiosPerRun(rows, relay);
  };
  const ratios = ratiosOf(PROXY_NAME) ?? [];
  const controlRatios = ratiosOf(BARE_CONTROL);
  const baseRatios = ratiosOf(BASE_PROXY_NAME);
  const rowOrder = [BARE, BARE_CONTROL, BASE_PROXY_NAME, PROXY_NAME];
  log(
    `\nRun 2 tail, per run (TTFT ms from the raw samples; proxy diagnostics from /metrics over the window: event-loop delay, GC, upstream pool wait, admission wait, and the p99 of the proxy's own TTFT, context round trip and generation first token; quantiles are bucket bounds)`,
  );
  log(
    'run  path                  streams  TTFT p50    p99  p99.9  p99 ratio | ELD p99   max  GC total   max (n)  pool p99 (conns)  adm p99 | p99 TTFT  ctx  gen 1st',
  );
  for (let i = 0; i < relay.length; i++) {
    for (const name of rowOrder) {
      const r = perRun[name]?.[i];
      if (r === undefined) continue;
      const ttft = `${String(r.n).padStart(7)}  ${f1(r.ttftP50).padStart(8)}  ${f1(r.ttftP99).padStart(5)}  ${f1(r.ttftP999).padStart(5)}`;
      const ratio = name === BARE ? '' : f2(ratiosOf(name)?.[i] ?? Number.NaN);
      log(
        `${String(r.run).padEnd(4)} ${name.padEnd(20)} ${ttft}  ${ratio.padStart(9)} | ${diagColumns(r)}`,
      );
    }
  }
  const p99s = (name: string): number[] => (perRun[name] ?? []).map((r) => r.ttftP99);
  const p999s = (name: string): number[] => (perRun[name] ?? []).map((r) => r.ttftP999);
  const spreads: Record<string, ReturnType<typeof spread>> = {
    'proxy TTFT p99': spread(p99s(PROXY_NAME)),
    'bare relay TTFT p99': spread(p99s(BARE)),
    'proxy TTFT p99.9': spread(p999s(PROXY_NAME)),
    'bare relay TTFT p99.9': spread(p999s(BARE)),
    'p99 proxy/bare relay': spread(ratios),
  };
  if (baseRatios) spreads['p99 base proxy/bare relay'] = spread(baseRatios);
  if (controlRatios) spreads['p99 control/bare relay'] = spread(controlRatios);
  log('spread over runs (min / median / max)');
  for (const [k, v] of Object.entries(spreads)) {
    log(`  ${k.padEnd(26)} ${f2(v.min)} / ${f2(v.median)} / ${f2(v.max)}`);
  }
  const within = (xs: number[]): string => `${runsWithin(xs, TAIL_RATIO_TARGET)} of ${xs.length}`;
  log(
    `  runs with TTFT p99 <= ${TAIL_RATIO_TARGET}x the bare relay's: ${within(ratios)} (target: all)`,
  );
  if (baseRatios) log(`    the --base-root proxy: ${within(baseRatios)}`);
  // The A/A control is the same relay program measured again: what it scores is this rig's
  // resolution for the target, since no code difference can explain its misses.
  if (controlRatios) log(`    the control (the same relay again): ${within(controlRatios)}`);
  return { perRun, ratios, controlRatios, baseRatios, spread: spreads };
}

/**
 * The Node floor beside nginx: the same one hop piped by Node with no HTTP parsing. Its ratio to nginx
 * is what any Node relay pays for its reads and writes; the proxy's ratio to it is what the proxy adds.
 */
function nodeFloorLines(
  run1b: Record<string, Measured>,
  run2: Record<string, Measured>,
  log: (s: string) => void,
): void {
  const pipe1b = run1b[NODE_PIPE_NAME]?.cpuUsPerReq;
  const pipe2 = run2[NODE_PIPE_NAME]?.cpuUsPerToken;
  if (pipe1b === undefined && pipe2 === undefined) return;
  log(
    `  ${NODE_PIPE_NAME} (Node's one hop, no HTTP): CPU us/request saturated ${f1(pipe1b ?? Number.NaN)} = ${ratio(pipe1b, run1b[NGINX_NAME]?.cpuUsPerReq)} nginx; per streamed token ${f1(pipe2 ?? Number.NaN)} = ${ratio(pipe2, run2[NGINX_NAME]?.cpuUsPerToken)} nginx`,
  );
  log(
    `  proxy / ${NODE_PIPE_NAME}: per request ${ratio(run1b[PROXY_NAME]?.cpuUsPerReq, pipe1b)}, per token ${ratio(run2[PROXY_NAME]?.cpuUsPerToken, pipe2)}`,
  );
}

/** The diagnostics columns of one run-2 row (the relay reports only its event-loop delay). */
function diagColumns(r: StreamRun): string {
  const d = r.proxy;
  if (d !== undefined) {
    return `${f1(d.loopDelayP99Ms).padStart(7)}  ${f1(d.loopDelayMaxMs).padStart(4)}  ${f1(d.gcPauseTotalMs).padStart(8)}  ${f1(d.gcPauseMaxMs).padStart(4)} (${d.gcPauses})  ${f1(d.poolWaitP99Ms).padStart(8)} (${d.connectionsOpened})  ${f1(d.admissionWaitP99Ms).padStart(7)} | ${f0(d.proxyTtftP99Ms).padStart(8)}  ${f0(d.ctxRoundTripP99Ms).padStart(3)}  ${f0(d.genFirstTokenP99Ms).padStart(7)}`;
  }
  if (r.relay !== undefined) {
    const g = r.relay;
    const gcCols =
      g.gcTotalMs === undefined
        ? ''
        : `  ${f1(g.gcTotalMs).padStart(8)}  ${f1(g.gcMaxMs ?? Number.NaN).padStart(4)} (${g.gcCount ?? 0})`;
    return `${f1(g.p99Ms).padStart(7)}  ${f1(g.maxMs).padStart(4)}${gcCols}  (ELD: hdr, exact)`;
  }
  return '';
}

/**
 * Run 3's rig: bounded workers (a GPU batch each: `--slots`, `--service-ms`) whose capacity, a few
 * hundred req/s, is far below what core 1 can offer and core 0 can relay, so the overload is the
 * workers' and the proxy's admission control is what is measured. Generation dominates the service
 * time, as in disaggregated serving; the context worker is ten times faster.
 */
const OVERLOAD = { slots: 16, genServiceMs: 50, ctxServiceMs: 5, tokens: 4 };
/**
 * The proxy configured for those workers: the limit at the generation batch, a queue target of two
 * generation service times, an interval of ten (so a Poisson burst passes), a queue of at most four
 * batches, and no wait longer than 1 s.
 */
const OVERLOAD_FLAGS = [
  '--max-concurrency',
  String(OVERLOAD.slots),
  '--max-queue',
  String(4 * OVERLOAD.slots),
  '--queue-target',
  '0.1',
  '--queue-interval',
  '0.5',
  '--queue-timeout',
  '1',
];
const LIMITED = `proxy --max-concurrency ${OVERLOAD.slots}`;
const DEFAULTS = 'proxy, default limits';
const BARE = 'bare two-hop relay';
const PROXY_NAME = 'disagg-console proxy';
const NGINX_NAME = 'nginx one hop';
/** The same one hop in Node with no HTTP parsing (bench/tcp-pipe.ts): Node's own floor. */
const NODE_PIPE_NAME = 'node tcp pipe';
const BASE_PROXY_NAME = 'proxy (--base-root)';
/** Run 2's A/A control in --only-streams: a second bare relay, measured like the first. */
const BARE_CONTROL = 'bare relay (control)';

interface OverloadResult {
  /** What the generation worker can serve at most: slots x 1000 / service ms. */
  nominal: number;
  /** Closed-loop goodput through the limited proxy (the capacity the open loop is scaled from). */
  peak: number;
  offered: number;
  closed: Record<string, Measured>;
  open: Record<string, Measured>;
}

async function runOverload(
  tmp: string,
  runs: number,
  isQuick: boolean,
  log: (s: string) => void,
): Promise<OverloadResult> {
  const { slots, genServiceMs, ctxServiceMs, tokens } = OVERLOAD;
  const tok = ['--tokens', String(tokens)];
  const [ctx, gen] = await Promise.all([
    startWorker('ctx-bounded', [
      ...tok,
      '--slots',
      String(slots),
      '--service-ms',
      String(ctxServiceMs),
    ]),
    startWorker('gen-bounded', [
      ...tok,
      '--slots',
      String(slots),
      '--service-ms',
      String(genServiceMs),
    ]),
  ]);
  const limited = await startProxy(tmp, 'proxy-limited', ctx, gen, OVERLOAD_FLAGS);
  const defaults = await startProxy(tmp, 'proxy-defaults', ctx, gen);
  const relay = await startRelay('relay-bounded', ctx, gen);
  const nominal = (slots * 1000) / genServiceMs;
  // Past the start of shedding (one --queue-interval) before the window opens.
  const warmupMs = 1_000;
  const durationMs = isQuick ? 1_500 : 2_000;
  const body = JSON.stringify({
    model: 'bench',
    prompt: 'The capital of Germany is',
    max_tokens: tokens,
    temperature: 0,
    stream: true,
  });
  const base: LoadSpec = {
    port: 0,
    path: '/v1/completions',
    body,
    mode: 'closed',
    concurrency: 2 * slots,
    rate: 0,
    warmupMs,
    durationMs,
    isStream: true,
    isBySend: true,
    drainMs: 5_000,
  };
  log(
    `\nRun 3: overload, capacity set by the workers (generation worker ${slots} slots x ${genServiceMs} ms = ${f0(nominal)} req/s, context worker ${slots} x ${ctxServiceMs} ms; ` +
      `streams of ${tokens} tokens spread over the service time; ${LIMITED} with ${OVERLOAD_FLAGS.slice(2).join(' ')})`,
  );
  // Two clients per slot keep every slot busy; the queue they form (one batch, about 55 ms) stays under
  // the target, so the closed loop sheds nothing.
  const closed = await measure(
    [{ name: LIMITED, port: limited.port, pid: limited.pid }],
    (t) => ({ ...base, port: t.port, isBySend: false }),
    runs,
    durationMs / 1000,
  );
  const peak = closed[LIMITED]?.rps ?? 0;
  const offered = Math.max(1, Math.round(1.5 * peak));
  log(
    `peak (closed loop, ${2 * slots} clients through ${LIMITED}): ${f0(peak)} req/s; open loop (Poisson, latency from the scheduled time) at 1.5x: ${offered} req/s`,
  );
  const open = await measure(
    [
      { name: LIMITED, port: limited.port, pid: limited.pid },
      { name: DEFAULTS, port: defaults.port, pid: defaults.pid },
      { name: BARE, port: relay.port, pid: relay.pid },
    ],
    (t) => ({ ...base, port: t.port, mode: 'open', concurrency: 0, rate: offered }),
    runs,
    durationMs / 1000,
  );
  log(
    'case                        offered  goodput  /peak   429   503  Retry-After  TTFT p50  TTFT p99  shed p50  shed p99  unfinished',
  );
  for (const [name, r] of Object.entries(open)) {
    const shed = r.shed429 + r.shed503;
    log(
      `${name.padEnd(26)} ${String(offered).padStart(8)}  ${f0(r.rps).padStart(7)}  ${ratio(r.rps, peak).padStart(5)}  ${String(r.shed429).padStart(4)}  ${String(r.shed503).padStart(4)}  ${(shed > 0 ? `${r.shedRetryAfter}/${shed}` : '-').padStart(11)}  ` +
        `${f1(r.ttftP50).padStart(8)}  ${f1(r.ttftP99).padStart(8)}  ${f1(r.shedLatP50).padStart(8)}  ${f1(r.shedLatP99).padStart(8)}  ${String(r.unfinished).padStart(10)}`,
    );
  }
  return { nominal, peak, offered, closed, open };
}

const strip = (g: Record<string, Measured>): Record<string, Omit<Measured, 'runs'>> =>
  Object.fromEntries(Object.entries(g).map(([k, v]) => [k, { ...v, runs: undefined }]));

function overloadJson(ov: OverloadResult): object {
  return {
    workers: OVERLOAD,
    proxyFlags: OVERLOAD_FLAGS.join(' '),
    nominal: ov.nominal,
    peak: ov.peak,
    offered: ov.offered,
    closed: strip(ov.closed),
    open: strip(ov.open),
  };
}

/** Run 3's line under Targets, and its sanity warnings. */
function overloadTargets(ov: OverloadResult, log: (s: string) => void, warnings: string[]): void {
  const l = ov.open[LIMITED];
  if (!l) return;
  const shed = l.shed429 + l.shed503;
  const ra =
    shed === 0
      ? 'nothing shed'
      : l.shedRetryAfter === shed
        ? 'all with Retry-After'
        : `${l.shedRetryAfter} of ${shed} with Retry-After`;
  log(
    `  worker-bound overload at 1.5x (${ov.offered} req/s offered): goodput ${f0(l.rps)} req/s = ${((100 * l.rps) / Math.max(1, ov.peak)).toFixed(0)}% of peak (>= 90%); ` +
      `shed ${l.shed429} x 429 + ${l.shed503} x 503, ${ra}, p99 ${f1(l.shedLatP99)} ms; admitted TTFT p99 ${f1(l.ttftP99)} ms ` +
      `(default limits ${f1(ov.open[DEFAULTS]?.ttftP99 ?? Number.NaN)} ms, bare relay ${f1(ov.open[BARE]?.ttftP99 ?? Number.NaN)} ms)`,
  );
  if (shed > l.shedRetryAfter) {
    warnings.push(`run 3: ${shed - l.shedRetryAfter} of ${shed} shed answers had no Retry-After`);
  }
  for (const [name, r] of [...Object.entries(ov.closed), ...Object.entries(ov.open)]) {
    if (r.unfinished > 0) {
      warnings.push(
        `run 3, ${name}: ${r.unfinished} requests still unanswered 5 s after the window (their TTFT is missing from the percentiles)`,
      );
    }
    if (r.transportErrors > 0 || r.doneMissing > 0) {
      warnings.push(
        `run 3, ${name}: ${r.transportErrors} transport errors, ${r.doneMissing} streams without [DONE]`,
      );
    }
    if (r.loadGenCore > 0.5) {
      warnings.push(
        `run 3, ${name}: the load generator used ${r.loadGenCore.toFixed(2)} of a core (> 0.5)`,
      );
    }
  }
  const c = ov.closed[LIMITED];
  if (c && c.non200 > 0) {
    warnings.push(`run 3: the closed loop that measures peak got ${c.non200} non-200 answers`);
  }
  if (ov.peak < 0.5 * ov.nominal) {
    warnings.push(
      `run 3: peak ${f0(ov.peak)} req/s is under half the workers' ${f0(ov.nominal)}: something other than the workers limited it`,
    );
  }
}

/**
 * Run 4, slow clients (issue #15): normal requests in a closed loop through a proxy whose slots match
 * bounded workers, alone and then beside clients that send their body (or their headers) a byte a
 * second. Those must hold no slot (the body is read before admission, under a rate and a deadline), so
 * the normal requests keep their latency. Prints p50/p99 of the normal requests with and without them,
 * their non-200 answers, and how the slow clients were answered.
 */
const SLOW = { slowBodies: 10, slowHeaders: 10, slots: 8, genServiceMs: 20, clients: 8 };

interface SlowClientTally {
  answered408: number;
  otherAnswers: number;
  stillOpen: number;
}

/** Opens `n` connections that trickle one byte a second: a body after complete headers, or the headers themselves. */
function startSlowClients(
  port: number,
  n: number,
  isHeaders: boolean,
): { stop(): SlowClientTally } {
  const body = '{"model":"m","prompt":"x","max_tokens":4}';
  const head = `POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  const first = isHeaders ? head.slice(0, 4) : head;
  const trickle = isHeaders ? head.slice(4) + body : body;
  const conns = Array.from({ length: n }, () => {
    const c = { socket: net.connect(port, '127.0.0.1'), answer: '', sent: 0, isClosed: false };
    c.socket.on('data', (d: Buffer) => (c.answer += d.toString('latin1')));
    c.socket.on('error', () => undefined);
    c.socket.on('close', () => (c.isClosed = true));
    c.socket.write(first);
    return c;
  });
  const timer = setInterval(() => {
    for (const c of conns) {
      if (!c.isClosed && c.sent < trickle.length) c.socket.write(trickle[c.sent++] as string);
    }
  }, 1_000);
  return {
    stop() {
      clearInterval(timer);
      const tally = { answered408: 0, otherAnswers: 0, stillOpen: 0 };
      for (const c of conns) {
        if (c.answer.startsWith('HTTP/1.1 408')) tally.answered408++;
        else if (c.answer !== '') tally.otherAnswers++;
        else tally.stillOpen++;
        c.socket.destroy();
      }
      return tally;
    },
  };
}

async function runSlowClients(
  tmp: string,
  runs: number,
  isQuick: boolean,
  log: (s: string) => void,
): Promise<object> {
  const { slots, genServiceMs, clients, slowBodies, slowHeaders } = SLOW;
  const [ctx, gen] = await Promise.all([
    startWorker('ctx-slow', ['--tokens', '4', '--slots', String(slots), '--service-ms', '2']),
    startWorker('gen-slow', [
      '--tokens',
      '4',
      '--slots',
      String(slots),
      '--service-ms',
      String(genServiceMs),
    ]),
  ]);
  const proxy = await startProxy(tmp, 'proxy-slow-clients', ctx, gen, [
    '--max-concurrency',
    String(slots),
    '--max-queue',
    String(4 * slots),
  ]);
  // The window ends before the default 5 s rate grace: the slow bodies are still trickling throughout.
  const spec: LoadSpec = {
    port: proxy.port,
    path: '/v1/completions',
    body: JSON.stringify({ model: 'm', prompt: 'x', max_tokens: 4 }),
    mode: 'closed',
    concurrency: clients,
    rate: 0,
    warmupMs: 300,
    durationMs: isQuick ? 2_000 : 3_000,
    isStream: false,
  };
  const alone: LoadResult[] = [];
  const beside: LoadResult[] = [];
  const tallies: SlowClientTally[] = [];
  for (let i = 0; i < runs; i++) {
    alone.push(await runLoad(spec, proxy.pid));
    const bodies = startSlowClients(proxy.port, slowBodies, false);
    const headers = startSlowClients(proxy.port, slowHeaders, true);
    await new Promise((r) => setTimeout(r, 500));
    beside.push(await runLoad(spec, proxy.pid));
    // Past the rate grace: the slow bodies have been answered 408 by now; slow headers wait for --header-timeout.
    await new Promise((r) => setTimeout(r, 6_000 - spec.durationMs - spec.warmupMs));
    const b = bodies.stop();
    const h = headers.stop();
    tallies.push(b, h);
    log(`  run ${i + 1}: slow bodies ${JSON.stringify(b)}, slow headers ${JSON.stringify(h)}`);
  }
  const a = reduce(alone, spec.durationMs / 1000);
  const s = reduce(beside, spec.durationMs / 1000);
  log(
    `Run 4: ${clients} closed-loop clients through --max-concurrency ${slots} (gen ${slots} slots x ${genServiceMs} ms), alone and beside ${slowBodies} slow-body + ${slowHeaders} slow-header clients (1 byte/s)`,
  );
  log(
    `  alone:  ${f0(a.rps)} req/s, latency p50 ${f1(a.latP50)} ms, p99 ${f1(a.latP99)} ms, non-200 ${a.non200}`,
  );
  log(
    `  beside: ${f0(s.rps)} req/s, latency p50 ${f1(s.latP50)} ms, p99 ${f1(s.latP99)} ms, non-200 ${s.non200} (p99 ratio ${ratio(s.latP99, a.latP99)})`,
  );
  return {
    alone: { rps: a.rps, latP50: a.latP50, latP99: a.latP99, non200: a.non200 },
    beside: { rps: s.rps, latP50: s.latP50, latP99: s.latP99, non200: s.non200 },
    tallies,
  };
}

/**
 * Run 2: the streams case, its medians row per target (CPU per token, TTFT), then the tail per run with
 * the spread and the diagnostics.
 */
async function runStreams(
  targets: Target[],
  spec: (t: Target) => LoadSpec,
  sitting: { runs: number; durationS: number; log: (s: string) => void },
): Promise<{ medians: Record<string, Measured>; tail: StreamTail }> {
  const { log } = sitting;
  log(
    `\nRun 2: ${STREAMS} concurrent streams, 32 tokens each, 5 ms between tokens (${sitting.durationS} s windows after one unrecorded window per target; every other run in reverse order)`,
  );
  log(
    'path                 streams/s  TTFT p50  TTFT p99  CPU us/token  CPU us/stream  writes/token  [DONE] missing',
  );
  const { medians, perRun } = await measureStreams(targets, spec, sitting.runs, sitting.durationS);
  for (const t of targets) {
    const r = medians[t.name] as Measured;
    log(
      `${t.name.padEnd(20)} ${f0(r.rps).padStart(9)}  ${f1(r.ttftP50).padStart(8)}  ${f1(r.ttftP99).padStart(8)}  ${f1(r.cpuUsPerToken).padStart(12)}  ${f1(r.cpuUsPerReq).padStart(13)}  ${f2(r.writesPerToken).padStart(12)}  ${String(r.doneMissing).padStart(14)}`,
    );
  }
  return { medians, tail: streamTail(perRun, log) };
}

/**
 * `--only-streams`: run 2 alone, for the tail over `--runs` runs: direct, the bare relay, its A/A control
 * (a second bare relay: the ratio it scores is the rig's noise, not a code difference), the proxy, and
 * with --base-root that checkout's proxy as well (a before/after of one change in one sitting).
 */
async function runStreamsOnly(
  tmp: string,
  sitting: { runs: number; durationS: number; log: (s: string) => void },
  closedStream: (port: number) => LoadSpec,
): Promise<object> {
  const [ctx, gen] = await Promise.all([
    startWorker('ctx', ['--tokens', '32']),
    startWorker('gen-stream', ['--tokens', '32', '--interval-ms', '5']),
  ]);
  const proxy = await startProxy(tmp, 'proxy-stream', ctx, gen);
  const base =
    baseRoot === undefined
      ? undefined
      : await startProxy(tmp, 'base-proxy-stream', ctx, gen, [], baseRoot);
  const relay = await startRelay('relay-stream', ctx, gen);
  const control = await startRelay('relay-control', ctx, gen);
  const targets: Target[] = [
    { name: 'direct (one worker)', port: gen, pid: undefined },
    { name: BARE, port: relay.port, pid: relay.pid },
    { name: BARE_CONTROL, port: control.port, pid: control.pid },
    ...(base ? [{ name: BASE_PROXY_NAME, port: base.port, pid: base.pid }] : []),
    { name: PROXY_NAME, port: proxy.port, pid: proxy.pid },
  ];
  const { medians, tail } = await runStreams(targets, (t) => closedStream(t.port), sitting);
  return { run2: strip(medians), run2Tail: tail };
}

/**
 * Run 5's cases: a long RAG/code prompt, a large one (llm-d's 220 KB case), and 1 MB, each a fixed
 * number of requests (a multiple of the clients) instead of a time window: on a loaded 2-core box a
 * 2 s window held no finished 1 MB request, while a count gives every target the same requests and
 * CPU sampled around all of them, however long they take.
 */
const LONG_PROMPT_CASES = [
  { promptBytes: 20 * 1024, requests: 160, aloneRequests: 200 },
  { promptBytes: 200 * 1024, requests: 48, aloneRequests: 100 },
  { promptBytes: 1024 * 1024, requests: 24, aloneRequests: 40 },
];
const LONG_PROMPT_CLIENTS = 8;
/** The most one counted window may take (then what is left counts as unfinished). */
const LONG_PROMPT_BOUND_MS = 180_000;
/** Run 5's direct path: the client itself calls the context worker and then the generation worker. */
const DIRECT_TWO_HOP = 'direct (both hops)';
/** Run 5's targets whose CPU per KB is compared from 200 KB to 1 MB. */
const LINEARITY_TARGETS = [PROXY_NAME, BARE, NGINX_NAME];

interface LongPromptRow {
  promptBytes: number;
  requests: number;
  isStream: boolean;
  /** The loaded pass (LONG_PROMPT_CLIENTS clients): rate and CPU. */
  results: Record<string, Measured>;
  /** The latency pass, one client: the proxy's added latency against the direct path. */
  alone: Record<string, Measured>;
}

const sizeLabel = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
const kindLabel = (isStream: boolean): string => (isStream ? 'streamed' : 'plain');

/** One run 5 row per target of one pass: rate, latency, CPU per request and per prompt KB. */
function logLongPromptCase(
  row: LongPromptRow,
  pass: Record<string, Measured>,
  clients: number,
  log: (s: string) => void,
): void {
  for (const [name, r] of Object.entries(pass)) {
    const perKb = r.cpuUsPerReq / (row.promptBytes / 1024);
    const trouble = r.non200 + r.transportErrors + r.unfinished + r.doneMissing;
    log(
      `${sizeLabel(row.promptBytes).padEnd(8)} ${kindLabel(row.isStream).padEnd(10)} ${String(clients).padStart(7)}  ${name.padEnd(20)} ${f1(r.rps).padStart(7)}  ${f1(r.latP50).padStart(7)}  ${f1(r.latP99).padStart(7)}  ${f1(r.cpuUsPerReq).padStart(10)}  ${f2(perKb).padStart(9)}` +
        (trouble > 0
          ? `  non-200: ${r.non200}, errors: ${r.transportErrors}, unfinished: ${r.unfinished}, [DONE] missing: ${r.doneMissing}`
          : ''),
    );
  }
}

/**
 * Run 5, long prompts: completions with prompts of 20 KB, 200 KB and 1 MB (the context worker answers
 * with one token id per 4 prompt bytes, which go out again in the generation request), non-streamed and
 * streamed, a fixed request count per case. A loaded pass (8 closed-loop clients) against the direct
 * two-hop path, the bare relay and nginx gives rate and CPU; a pass with one client against the
 * two-hop targets gives latency without queueing (in a closed loop, latency is clients / rate, so with 8
 * clients a latency difference is a rate difference), from which the summary takes the added latency.
 */
async function runLongPrompts(
  targets: Target[],
  base: (port: number, isStream: boolean) => LoadSpec,
  runs: number,
  log: (s: string) => void,
): Promise<LongPromptRow[]> {
  const rows: LongPromptRow[] = [];
  const counts = (pick: (c: (typeof LONG_PROMPT_CASES)[number]) => number): string =>
    LONG_PROMPT_CASES.map((c) => `${pick(c)} at ${sizeLabel(c.promptBytes)}`).join(', ');
  log(
    `\nRun 5: long prompts (completions), closed loop, a fixed number of requests per case and run (after one warm-up request per client): ` +
      `${LONG_PROMPT_CLIENTS} clients (${counts((c) => c.requests)}), then 1 client on the two-hop paths (${counts((c) => c.aloneRequests)})`,
  );
  log(
    'prompt   kind       clients  path                   req/s   p50 ms   p99 ms  CPU us/req  CPU us/KB',
  );
  for (const isStream of [false, true]) {
    // nginx is one hop (no context call): its latency is no floor for a two-hop path.
    const twoHop = targets.filter((t) => t.name !== NGINX_NAME);
    for (const { promptBytes, requests, aloneRequests } of LONG_PROMPT_CASES) {
      const pass = (
        on: Target[],
        clients: number,
        count: number,
      ): Promise<Record<string, Measured>> =>
        measure(
          on,
          (t) => ({
            ...base(t.port, isStream),
            concurrency: clients,
            promptBytes,
            requestCount: count,
            durationMs: LONG_PROMPT_BOUND_MS,
            directGenPort: t.directGenPort,
          }),
          runs,
          Number.NaN,
        );
      const results = await pass(targets, LONG_PROMPT_CLIENTS, requests);
      const alone = await pass(twoHop, 1, aloneRequests);
      const row = { promptBytes, requests, isStream, results, alone };
      rows.push(row);
      logLongPromptCase(row, results, LONG_PROMPT_CLIENTS, log);
      logLongPromptCase(row, alone, 1, log);
    }
  }
  return rows;
}

/** `target`'s CPU per KB at 1 MB over its CPU per KB at 200 KB, for one kind (NaN when one is missing). */
function cpuPerKbGrowth(rows: LongPromptRow[], isStream: boolean, target: string): number {
  const perKb = (bytes: number): number =>
    (rows.find((r) => r.isStream === isStream && r.promptBytes === bytes)?.results[target]
      ?.cpuUsPerReq ?? Number.NaN) /
    (bytes / 1024);
  return perKb(1024 * 1024) / perKb(200 * 1024);
}

/**
 * Run 5's summary: the proxy against the bare relay and nginx per case, its added latency (proxy minus
 * the direct two-hop path, p50 and p99), and per target the 200 KB -> 1 MB growth of CPU per KB.
 */
function longPromptSummary(rows: LongPromptRow[], log: (s: string) => void): void {
  log(
    '\nRun 5 summary (proxy ratios within this run; targets of issue 16 at 200 KB: CPU <= 0.5x bare, rate >= 0.9x bare, added p99 <= 2 ms; ' +
      `CPU and rate from the ${LONG_PROMPT_CLIENTS}-client pass, added latency = proxy minus direct two-hop path with 1 client)`,
  );
  log(
    'prompt   kind       CPU/bare  CPU/nginx  rate/bare  added p50 ms  added p99 ms  p99 - bare p99 ms  CPU/base build',
  );
  const minus = (a: number | undefined, b: number | undefined): string =>
    f1((a ?? Number.NaN) - (b ?? Number.NaN));
  for (const row of rows) {
    const p = row.results[PROXY_NAME];
    const b = row.results[BARE];
    const n = row.results[NGINX_NAME];
    const pAlone = row.alone[PROXY_NAME];
    const dAlone = row.alone[DIRECT_TWO_HOP];
    const base = row.results[BASE_PROXY_NAME];
    log(
      `${sizeLabel(row.promptBytes).padEnd(8)} ${kindLabel(row.isStream).padEnd(10)} ${ratio(p?.cpuUsPerReq, b?.cpuUsPerReq).padStart(8)}  ${ratio(p?.cpuUsPerReq, n?.cpuUsPerReq).padStart(9)}  ${ratio(p?.rps, b?.rps).padStart(9)}  ` +
        `${minus(pAlone?.latP50, dAlone?.latP50).padStart(12)}  ${minus(pAlone?.latP99, dAlone?.latP99).padStart(12)}  ${minus(p?.latP99, b?.latP99).padStart(17)}  ${base ? ratio(p?.cpuUsPerReq, base.cpuUsPerReq).padStart(14) : ''}`,
    );
  }
  log('CPU per KB at 1 MB / at 200 KB (1.0 = linear; above about 1.2 is a super-linear step):');
  for (const isStream of [false, true]) {
    const growth = LINEARITY_TARGETS.map((t) => `${t} ${f2(cpuPerKbGrowth(rows, isStream, t))}`);
    log(`  ${kindLabel(isStream).padEnd(9)} ${growth.join(', ')}`);
  }
  for (const isStream of [false, true]) {
    const at = rows.find((r) => r.isStream === isStream && r.promptBytes === 200 * 1024);
    const added =
      (at?.alone[PROXY_NAME]?.latP99 ?? Number.NaN) -
      (at?.alone[DIRECT_TWO_HOP]?.latP99 ?? Number.NaN);
    log(`  added latency p99 at 200 KB, ${kindLabel(isStream)}: ${f1(added)} ms (<= 2)`);
  }
}

function machineName(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`;
}

/** `--json FILE`: the results with the date, machine and Node version; nothing without a file. */
function writeResults(file: string | undefined, results: object): void {
  if (file === undefined) return;
  const head = { date: new Date().toISOString(), machine: machineName(), node: process.version };
  writeFileSync(file, JSON.stringify({ ...head, ...results }, null, 2));
}

function longPromptJson(rows: LongPromptRow[]): object {
  return rows.map((r) => ({
    promptBytes: r.promptBytes,
    requests: r.requests,
    isStream: r.isStream,
    results: strip(r.results),
    oneClient: strip(r.alone),
  }));
}

/** What `disagg-console bench-proxy` read from its flags (electron/cli/bench-proxy-command.ts). */
export interface ProxyBenchOptions {
  isQuick: boolean;
  /** Interleaved runs per case (default 3, quick 1). */
  runs: number | undefined;
  jsonOut: string | undefined;
  /** Another checkout whose proxy is benchmarked. */
  proxyRoot: string | undefined;
  /** Another checkout whose proxy runs beside this one in run 5 (before/after in one run). */
  baseRoot?: string | undefined;
  only: 'overload' | 'slow-clients' | 'long-prompts' | 'streams' | undefined;
  /** Run 2's measured window in seconds (default: the other runs' window). */
  streamWindowS?: number | undefined;
  /** Run the esbuild bundles in DIR instead of the sources (the device pack). */
  bundles?: string | undefined;
  /** nginx binary (default /usr/sbin/nginx). */
  nginx?: string | undefined;
  isOverloadSkipped: boolean;
  isLongSkipped: boolean;
}

export async function runProxyBench(options: ProxyBenchOptions): Promise<number> {
  const { isQuick, jsonOut } = options;
  // A full run: 3 interleaved runs of every case, medians reported, about 3 minutes in all.
  const runs = options.runs ?? (isQuick ? 1 : 3);
  proxyRoot = path.resolve(options.proxyRoot ?? ROOT);
  baseRoot = options.baseRoot === undefined ? undefined : path.resolve(options.baseRoot);
  bundles = options.bundles === undefined ? undefined : path.resolve(options.bundles);
  if (options.nginx !== undefined) nginxPath = path.resolve(options.nginx);
  const isOverloadOnly = options.only === 'overload';
  const isLongOnly = options.only === 'long-prompts';
  const isLong = isLongOnly || !options.isLongSkipped;
  const isOverload = isOverloadOnly || !options.isOverloadSkipped;
  const warmupMs = isQuick ? 500 : 600;
  const durationMs = isQuick ? 1_500 : 2_000;
  const durationS = durationMs / 1000;
  const streamMs = options.streamWindowS === undefined ? durationMs : options.streamWindowS * 1000;
  canPin = os.cpus().length >= 2 && existsSync('/usr/bin/taskset');
  rig = rigLayoutFor(os.cpus().length);
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    clkTck = 100;
  }
  const log = (s: string): void => void process.stdout.write(s + '\n');
  const warnings: string[] = [];
  log(
    `proxy benchmark (${isQuick ? 'quick' : 'full'}, median of ${runs} interleaved run${runs > 1 ? 's' : ''} per case, ${durationMs} ms windows): ` +
      `${canPin ? `proxy and floors pinned to core 0, ${describeRig()}` : 'NOT pinned (need 2 cores and taskset)'}`,
  );
  log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  try {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'proxy-bench-'));
    if (options.only === 'slow-clients') {
      const result = await runSlowClients(tmp, runs, isQuick, log);
      if (jsonOut) {
        writeFileSync(
          jsonOut,
          JSON.stringify({ date: new Date().toISOString(), runs, slowClients: result }, null, 2),
        );
      }
      return 0;
    }
    if (options.only === 'streams') {
      const streamSitting = { runs, durationS: streamMs / 1000, log };
      const result = await runStreamsOnly(tmp, streamSitting, (port) => ({
        port,
        path: '/v1/completions',
        body: STREAM_BODY,
        mode: 'closed',
        concurrency: STREAMS,
        rate: 0,
        warmupMs,
        durationMs: streamMs,
        isStream: true,
      }));
      writeResults(jsonOut, { runs, durationMs: streamMs, ...result });
      return 0;
    }
    if (isOverloadOnly) {
      const ov = await runOverload(tmp, runs, isQuick, log);
      log('Targets (docs/performance.md)');
      overloadTargets(ov, log, warnings);
      for (const w of warnings) log(`  WARNING: ${w}`);
      if (jsonOut) {
        writeFileSync(
          jsonOut,
          JSON.stringify(
            {
              date: new Date().toISOString(),
              runs,
              machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
              node: process.version,
              overload: overloadJson(ov),
              warnings,
            },
            null,
            2,
          ),
        );
      }
      return 0;
    }
    // Workers: one context, one instant generation, one streaming generation (32 tokens, 5 ms apart).
    const wk = (name: string, extra: string[]): Promise<number> =>
      startWorker(name, ['--tokens', '32', ...extra]);
    const [ctxPort, genPort, streamPort] = await Promise.all([
      wk('ctx', []),
      wk('gen', []),
      wk('gen-stream', ['--interval-ms', '5']),
    ]);

    // The proxy under test, twice (instant gen / streaming gen), through the real CLI.
    const proxyFor = (name: string, gen: number): Promise<{ port: number; pid: number }> =>
      startProxy(tmp, name, ctxPort, gen);
    const proxyA = await proxyFor('proxy', genPort);
    const proxyB = await proxyFor('proxy-stream', streamPort);
    const baseFor = (name: string, gen: number): Promise<{ port: number; pid: number }> =>
      startProxy(tmp, name, ctxPort, gen, [], baseRoot);
    const baseA = baseRoot === undefined ? undefined : await baseFor('base', genPort);
    const baseTarget = (b: { port: number; pid: number } | undefined): Target[] =>
      b === undefined ? [] : [{ name: BASE_PROXY_NAME, port: b.port, pid: b.pid }];

    const relayFor = (name: string, gen: number): Promise<{ port: number; pid: number }> =>
      startRelay(name, ctxPort, gen);
    const relayA = await relayFor('relay', genPort);
    const relayB = await relayFor('relay-stream', streamPort);
    const pipeA = await startTcpPipe('tcp-pipe', genPort);
    const pipeB = await startTcpPipe('tcp-pipe-stream', streamPort);

    let nginx: { a: number; b: number; pid: number } | undefined;
    if (existsSync(nginxPath)) {
      const a = await freePort();
      const b = await freePort();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-bench-nginx-'));
      const conf = path.join(dir, 'nginx.conf');
      writeFileSync(
        conf,
        nginxConfig(dir, [
          { listen: a, upstream: genPort },
          { listen: b, upstream: streamPort },
        ]),
      );
      const [c, ar] = pinned(0, nginxPath, ['-p', dir, '-c', conf]);
      const child = stopAtExit(spawn(c, ar, { stdio: ['ignore', 'pipe', 'pipe'] }));
      procs.push({ name: 'nginx', child, pid: child.pid ?? 0 });
      try {
        await waitHealthy(a);
        nginx = { a, b, pid: child.pid ?? 0 };
      } catch {
        log('nginx did not start; skipping the nginx floor');
      }
    } else {
      log('nginx not installed; the nginx floor is skipped');
    }

    const plain = JSON.stringify({
      model: 'bench',
      prompt: 'The capital of Germany is',
      max_tokens: 32,
      temperature: 0,
    });
    const streamed = STREAM_BODY;
    const closed = (
      port: number,
      body: string,
      isStream: boolean,
      concurrency: number,
    ): LoadSpec => ({
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
    const DIRECT = 'direct (one worker)';
    const NGX = NGINX_NAME;
    const PROXY = PROXY_NAME;

    // Run 5's targets: the direct two-hop path (the client calls both workers itself: the latency floor
    // the proxy adds to), the two relays and the proxy, all on the instant generation worker, streamed
    // requests too (it writes a stream's 32 tokens at once): the prompt's cost is measured, not the
    // 5 ms token pacing of run 2's worker (which sets a 160 ms floor and 5 ms steps on every stream).
    const longTargets: Target[] = [
      { name: DIRECT_TWO_HOP, port: ctxPort, pid: undefined, directGenPort: genPort },
      ...(nginx ? [{ name: NGX, port: nginx.a, pid: nginx.pid }] : []),
      { name: BARE, port: relayA.port, pid: relayA.pid },
      { name: PROXY, port: proxyA.port, pid: proxyA.pid },
      ...baseTarget(baseA),
    ];
    const runLong = (): Promise<LongPromptRow[]> =>
      runLongPrompts(
        longTargets,
        (port, isStream) =>
          closed(port, isStream ? streamed : plain, isStream, LONG_PROMPT_CLIENTS),
        runs,
        log,
      );
    if (isLongOnly) {
      const rows = await runLong();
      longPromptSummary(rows, log);
      writeResults(jsonOut, { runs, durationMs, longPrompts: longPromptJson(rows) });
      return 0;
    }

    // Run 1: non-streamed, 32 clients, instant workers.
    log('\nRun 1: non-streamed requests, closed loop, 32 clients, instant workers');
    log('path                 req/s   p50 ms  p99 ms  CPU us/req  loadgen core');
    const targets1: Target[] = [
      { name: DIRECT, port: genPort, pid: undefined },
      ...(nginx ? [{ name: NGX, port: nginx.a, pid: nginx.pid }] : []),
      { name: NODE_PIPE_NAME, port: pipeA.port, pid: pipeA.pid },
      { name: BARE, port: relayA.port, pid: relayA.pid },
      { name: PROXY, port: proxyA.port, pid: proxyA.pid },
    ];
    const sitting = { runs, durationS, log };
    const run1 = await measureRows(
      targets1,
      (t) => closed(t.port, plain, false, 32),
      sitting,
      (r) =>
        `${f0(r.rps).padStart(6)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(6)}  ${f1(r.cpuUsPerReq).padStart(10)}  ${f2(r.loadGenCore).padStart(12)}${r.non200 > 0 ? `  non-200: ${r.non200}` : ''}`,
    );

    // Run 1b: the same with 128 clients, so the relays saturate core 0 (on a VM, cross-core wakeups
    // dominate an unsaturated run and inflate CPU per request).
    log('\nRun 1b: non-streamed, closed loop, 128 clients (relays saturated)');
    log('path                 req/s   p50 ms  p99 ms  CPU us/req  proxy core');
    const targets1b = targets1.filter((t) => t.pid !== undefined);
    const run1b = await measureRows(
      targets1b,
      (t) => closed(t.port, plain, false, 128),
      sitting,
      (r) =>
        `${f0(r.rps).padStart(6)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(6)}  ${f1(r.cpuUsPerReq).padStart(10)}  ${f2(r.core).padStart(10)}`,
    );

    // Run 2: 256 concurrent streams of 32 tokens, 5 ms apart (each token its own write).
    const targets2: Target[] = [
      { name: DIRECT, port: streamPort, pid: undefined },
      ...(nginx ? [{ name: NGX, port: nginx.b, pid: nginx.pid }] : []),
      { name: NODE_PIPE_NAME, port: pipeB.port, pid: pipeB.pid },
      { name: BARE, port: relayB.port, pid: relayB.pid },
      { name: PROXY, port: proxyB.port, pid: proxyB.pid },
    ];
    const { medians: run2, tail: tail2 } = await runStreams(
      targets2,
      (t) => ({ ...closed(t.port, streamed, true, STREAMS), durationMs: streamMs }),
      { ...sitting, durationS: streamMs / 1000 },
    );

    // Open loop around the proxy's measured capacity (the better of its closed-loop rates).
    const capacity = Math.max(run1b[PROXY]?.rps ?? 0, run1[PROXY]?.rps ?? 0);
    log(
      `\nOpen loop (Poisson, latency from the scheduled time); proxy capacity (best of runs 1 and 1b): ${f0(capacity)} req/s`,
    );
    log(
      'case                           offered  goodput  shed(429/503)  p50 ms   p99 ms  transport errors',
    );
    const open = (port: number, rate: number): LoadSpec => ({
      ...closed(port, plain, false, 0),
      mode: 'open',
      rate: Math.max(1, Math.round(rate)),
    });
    const half = await measure(
      [
        { name: DIRECT, port: genPort, pid: undefined },
        { name: BARE, port: relayA.port, pid: relayA.pid },
        { name: PROXY, port: proxyA.port, pid: proxyA.pid },
      ],
      (t) => open(t.port, 0.5 * capacity),
      runs,
      durationS,
    );
    const over = await measure(
      [
        { name: BARE, port: relayA.port, pid: relayA.pid },
        { name: PROXY, port: proxyA.port, pid: proxyA.pid },
      ],
      (t) => open(t.port, 1.5 * capacity),
      runs,
      durationS,
    );
    const openRow = (label: string, offered: number, r: Measured | undefined): void => {
      if (!r) return;
      log(
        `${label.padEnd(30)} ${f0(offered).padStart(7)}  ${f0(r.rps).padStart(7)}  ${String(r.shed).padStart(13)}  ${f1(r.latP50).padStart(6)}  ${f1(r.latP99).padStart(7)}  ${String(r.transportErrors).padStart(16)}`,
      );
    };
    openRow('direct at 0.5x', 0.5 * capacity, half[DIRECT]);
    openRow('bare relay at 0.5x', 0.5 * capacity, half[BARE]);
    openRow('proxy at 0.5x', 0.5 * capacity, half[PROXY]);
    openRow('bare relay at 1.5x', 1.5 * capacity, over[BARE]);
    openRow('proxy at 1.5x', 1.5 * capacity, over[PROXY]);

    // Run 3: overload where the workers set capacity (the case a 2-core rig can show; see runOverload).
    const ov = isOverload ? await runOverload(tmp, runs, isQuick, log) : undefined;
    const longRows = isLong ? await runLong() : undefined;

    // Summary: ratios against floors measured in the same run (docs/performance.md), then the targets.
    const p1 = run1[PROXY];
    const p1b = run1b[PROXY];
    const p2 = run2[PROXY];
    log('\nSummary (medians; ratios against floors measured in this run)');
    log('                              proxy    /bare relay  /nginx   /direct');
    log(
      `  CPU us/request, 32 clients  ${f1(p1?.cpuUsPerReq ?? Number.NaN).padStart(7)}  ${ratio(p1?.cpuUsPerReq, run1[BARE]?.cpuUsPerReq).padStart(11)}  ${ratio(p1?.cpuUsPerReq, run1[NGX]?.cpuUsPerReq).padStart(7)}        -`,
    );
    log(
      `  CPU us/request, saturated   ${f1(p1b?.cpuUsPerReq ?? Number.NaN).padStart(7)}  ${ratio(p1b?.cpuUsPerReq, run1b[BARE]?.cpuUsPerReq).padStart(11)}  ${ratio(p1b?.cpuUsPerReq, run1b[NGX]?.cpuUsPerReq).padStart(7)}        -`,
    );
    log(
      `  req/s, saturated            ${f0(p1b?.rps ?? Number.NaN).padStart(7)}  ${ratio(p1b?.rps, run1b[BARE]?.rps).padStart(11)}  ${ratio(p1b?.rps, run1b[NGX]?.rps).padStart(7)}  ${ratio(p1?.rps, run1[DIRECT]?.rps).padStart(7)}`,
    );
    log(
      `  CPU us/streamed token       ${f1(p2?.cpuUsPerToken ?? Number.NaN).padStart(7)}  ${ratio(p2?.cpuUsPerToken, run2[BARE]?.cpuUsPerToken).padStart(11)}  ${ratio(p2?.cpuUsPerToken, run2[NGX]?.cpuUsPerToken).padStart(7)}        -`,
    );
    log(
      `  TTFT p50 ms, 256 streams    ${f1(p2?.ttftP50 ?? Number.NaN).padStart(7)}  ${ratio(p2?.ttftP50, run2[BARE]?.ttftP50).padStart(11)}  ${ratio(p2?.ttftP50, run2[NGX]?.ttftP50).padStart(7)}  ${ratio(p2?.ttftP50, run2[DIRECT]?.ttftP50).padStart(7)}`,
    );
    log(
      `  TTFT p99 ms, 256 streams    ${f1(p2?.ttftP99 ?? Number.NaN).padStart(7)}  ${ratio(p2?.ttftP99, run2[BARE]?.ttftP99).padStart(11)}  ${ratio(p2?.ttftP99, run2[NGX]?.ttftP99).padStart(7)}  ${ratio(p2?.ttftP99, run2[DIRECT]?.ttftP99).padStart(7)}`,
    );
    nodeFloorLines(run1b, run2, log);
    const o = over[PROXY];
    log(
      `  goodput at 1.5x, req/s      ${f0(o?.rps ?? Number.NaN).padStart(7)}  ${ratio(o?.rps, over[BARE]?.rps).padStart(11)}        -        -`,
    );
    const ol = ov?.open[LIMITED];
    const ob = ov?.open[BARE];
    if (ol) {
      log(
        `  run 3 goodput at 1.5x, req/s${f0(ol.rps).padStart(7)}  ${ratio(ol.rps, ob?.rps).padStart(11)}        -        -   (workers' capacity, ${LIMITED})`,
      );
      log(
        `  run 3 TTFT p99 ms at 1.5x   ${f1(ol.ttftP99).padStart(7)}  ${ratio(ol.ttftP99, ob?.ttftP99).padStart(11)}        -        -`,
      );
    }
    log('Targets (docs/performance.md)');
    log(
      `  CPU per request ${f1(p1b?.cpuUsPerReq ?? Number.NaN)} us saturated (<= 100, then <= 70; proxy/bare <= 1.2 on this box: ${ratio(p1b?.cpuUsPerReq, run1b[BARE]?.cpuUsPerReq)})`,
    );
    log(`  CPU per token ${f1(p2?.cpuUsPerToken ?? Number.NaN)} us (<= 20, then <= 10)`);
    log(
      `  TTFT p99 at 256 streams vs bare relay: ${ratio(p2?.ttftP99, run2[BARE]?.ttftP99)} (<= 1.2)`,
    );
    if (o) {
      log(
        `  goodput at 1.5x offered: ${f0(o.rps)} req/s = ${((100 * o.rps) / Math.max(1, capacity)).toFixed(0)}% of peak (>= 90%), shed ${o.shed}, p99 ${f1(o.latP99)} ms`,
      );
    }
    const hp = half[PROXY];
    const hd = half[DIRECT];
    if (hp && hd) {
      log(
        `  added latency at 0.5x capacity: p50 ${f1(hp.latP50 - hd.latP50)} ms, p99 ${f1(hp.latP99 - hd.latP99)} ms (< 1 / < 5)`,
      );
    }
    if (ov) overloadTargets(ov, log, warnings);
    if (longRows) longPromptSummary(longRows, log);

    // Sanity checks of docs/performance.md: otherwise the run measured the rig, not the proxy.
    const missing = Object.values(run2).reduce((a, r) => a + r.doneMissing, 0);
    if (missing > 0) warnings.push(`${missing} streams ended without [DONE]`);
    // The direct path and nginx drive the load generator at several times the proxy's rate; the check
    // is for the runs whose CPU per request is compared (bare relay and proxy).
    const lgPeak = Math.max(
      ...[run1, run1b, run2].flatMap((g) =>
        Object.entries(g)
          .filter(([k]) => k === BARE || k === PROXY)
          .map(([, r]) => r.loadGenCore),
      ),
    );
    if (lgPeak > 0.5) {
      warnings.push(
        `the load generator used ${lgPeak.toFixed(2)} of a core (> 0.5): it shares core 1 with the workers`,
      );
    }
    const d1 = run1[DIRECT];
    if (d1 && p1 && d1.rps < 3 * p1.rps) {
      warnings.push(
        `direct reached only ${(d1.rps / Math.max(1, p1.rps)).toFixed(1)}x the proxy's rate (< 3x): the rig limited this run`,
      );
    }
    if (!canPin) warnings.push('processes were not pinned (need 2 cores and taskset)');
    const bareOver = over[BARE];
    if (bareOver && bareOver.rps < 0.9 * capacity) {
      warnings.push(
        `at 1.5x the bare relay also delivered only ${f0(bareOver.rps)} req/s (< 90% of the proxy's peak): the rig (load generator and workers on core 1) limited the open-loop run`,
      );
    }
    const errors = [run1, run1b, run2]
      .flatMap((g) => Object.entries(g))
      .filter(([, r]) => r.transportErrors > 0 || r.non200 > 0);
    for (const [name, r] of errors) {
      warnings.push(
        `${name}: ${r.transportErrors} transport errors, ${r.non200} non-200 answers in a closed-loop run`,
      );
    }
    log(
      `Sanity: load generator peak ${lgPeak.toFixed(2)} core on the bare relay and proxy runs (<= 0.5), direct ${ratio(d1?.rps, p1?.rps)} the proxy's rate (>= 3x), [DONE] missing ${missing}`,
    );
    for (const w of warnings) log(`  WARNING: ${w}`);
    if (warnings.length === 0) log('  all checks passed');
    writeResults(jsonOut, {
      runs,
      durationMs,
      run1: strip(run1),
      run1b: strip(run1b),
      run2: strip(run2),
      run2Tail: tail2,
      openHalf: strip(half),
      openOver: strip(over),
      overload: ov ? overloadJson(ov) : undefined,
      longPrompts: longRows ? longPromptJson(longRows) : undefined,
      warnings,
    });
    return 0;
  } finally {
    for (const p of procs.reverse()) await stopChild(p.child);
  }
}
