// `npm run bench:fleet`: the proxy fleet (`disagg-console proxy --workers N`, issue #16) on a machine with
// cores to spare. The fleet runs pinned to cores 0..N-1 (its primary, which hands connections out, shares
// them); zero-delay bench workers and several load-generator processes run pinned one per core on the cores
// above the largest fleet, so the rig is the same for every N. It measures
//   1. scaling: closed-loop non-streamed rate with N = 1, 2, 4, 8 processes (medians of --runs windows), the
//      fleet's CPU per request (primary + processes, /proc/PID/stat) and rate(N) / (N x rate(1));
//   2. open loop (Poisson, latency from the scheduled send time) at 0.5x and 1.5x the fleet's measured
//      streamed capacity at N = --open-size: goodput, shed answers (429/503) and how many had Retry-After,
//      TTFT p99 of the admitted streams (merged over the generators' raw samples), with default limits and
//      with global admission limits (split between the processes), and with CPU-pressure shedding
//      (--max-loop-delay 0.02; off by default); with --loop-delay S, also with --max-loop-delay S.
// Every window also records the busiest rig process: a generator or worker near a full core means the rig,
// not the fleet, set that figure (flagged). Writes fleet-bench.json and fleet-bench.md to --out (default
// $OUT). With --bundles DIR it runs the esbuild bundles of scripts/device/build.sh instead of tsx (the device
// machine has no node_modules). A benchmark prints numbers; it is not a test.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cpuSeconds, startUntil, stopChild } from './child-procs';
import { runLoadGen } from './load-run';
import type { LoadGenResult, LoadSpec } from './load-spec';
import { proxyCliArgs, proxyConfigYaml } from './proxy-config';

// Under the device bundle (CommonJS) import.meta is empty: every path there comes from --bundles.
const ROOT = import.meta.dirname ? path.resolve(import.meta.dirname, '..') : process.cwd();

interface Options {
  sizes: number[];
  runs: number;
  warmupMs: number;
  durationMs: number;
  openSize: number;
  /** Closed-loop clients per fleet process. */
  clientsPerProcess: number;
  streamTokens: number;
  outDir: string;
  bundles: string | undefined;
  /** `--loop-delay S`: one more open-loop configuration with `--max-loop-delay S` (tuning the default). */
  loopDelayS: number | undefined;
}

/** Where everything runs: the fleet's cores, one rig core per worker and generator, and how many of each. */
export interface Layout {
  canPin: boolean;
  fleetCores: number[];
  rigCores: number[];
  ctxWorkers: number;
  genWorkers: number;
  generators: number;
}

/** Cores 0..maxN-1 for the fleet, the rest for the rig: half generators, a quarter each context and generation workers. */
export function planLayout(cores: number, maxN: number, hasTaskset: boolean): Layout {
  const fleetCount = Math.min(maxN, Math.max(1, cores - 1));
  const fleetCores = Array.from({ length: fleetCount }, (_, i) => i);
  const rigCores = Array.from({ length: Math.max(1, cores - fleetCount) }, (_, i) =>
    Math.min(cores - 1, fleetCount + i),
  );
  const rig = rigCores.length;
  const workersEach = Math.max(1, Math.floor(rig / 4));
  return {
    canPin: hasTaskset && cores >= 2,
    fleetCores,
    rigCores,
    ctxWorkers: workersEach,
    genWorkers: workersEach,
    generators: Math.max(1, rig - 2 * workersEach),
  };
}

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
}

const procs: Proc[] = [];

/** The command for one part: the bundle under --bundles, else the TypeScript source through tsx. */
function command(
  opts: Options,
  part: 'cli' | 'worker' | 'loadgen',
  args: string[],
): [string, string[]] {
  const bundle = { cli: 'fleet-cli.cjs', worker: 'bench-worker.cjs', loadgen: 'load-gen.cjs' }[
    part
  ];
  if (opts.bundles) return [process.execPath, [path.join(opts.bundles, bundle), ...args]];
  if (part === 'cli') {
    return [process.execPath, [path.join(ROOT, 'bin/disagg-console.mjs'), ...args]];
  }
  const file = part === 'worker' ? 'bench/bench-worker.ts' : 'bench/load-gen.ts';
  return [process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args]];
}

function pinned(
  layout: Layout,
  cores: number[],
  [cmd, args]: [string, string[]],
): [string, string[]] {
  return layout.canPin ? ['taskset', ['-c', cores.join(','), cmd, ...args]] : [cmd, args];
}

/** Starts a process and resolves once its output matches `ready` (60 s at most: tsx on a busy machine is slow). */
async function start(
  name: string,
  command: [string, string[]],
  ready: RegExp,
): Promise<{ proc: Proc; match: RegExpExecArray }> {
  const { child, started } = startUntil(name, command, ready, { cwd: ROOT, timeoutMs: 60_000 });
  const proc: Proc = { name, child, pid: child.pid ?? 0 };
  procs.push(proc);
  return { proc, match: await started };
}

async function stop(proc: Proc): Promise<void> {
  const i = procs.indexOf(proc);
  if (i >= 0) procs.splice(i, 1);
  await stopChild(proc.child);
}

/**
 * The fleet processes under the primary `ppid`: its children whose command line names the CLI `entry`
 * (under tsx the primary also has an esbuild child, which is no fleet process).
 */
function fleetPids(ppid: number, entry: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(entry)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function startWorkers(
  opts: Options,
  layout: Layout,
  role: string,
  count: number,
  firstCore: number,
  extra: string[],
): Promise<Array<{ port: number; pid: number }>> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const core = layout.rigCores[(firstCore + i) % layout.rigCores.length] as number;
      const cmd = command(opts, 'worker', ['--port', '0', ...extra]);
      const { proc, match } = await start(
        `${role}${i}`,
        pinned(layout, [core], cmd),
        /listening on (\d+)/,
      );
      return { port: Number(match[1]), pid: proc.pid };
    }),
  );
}

interface Rig {
  ctx: Array<{ port: number; pid: number }>;
  gen: Array<{ port: number; pid: number }>;
}

async function startRig(opts: Options, layout: Layout, streamTokens: number): Promise<Rig> {
  const extra = ['--tokens', String(streamTokens)];
  const ctx = await startWorkers(opts, layout, 'ctx', layout.ctxWorkers, 0, extra);
  const gen = await startWorkers(opts, layout, 'gen', layout.genWorkers, layout.ctxWorkers, extra);
  return { ctx, gen };
}

interface Fleet {
  proc: Proc;
  port: number;
  /** The primary and its processes. */
  pids: number[];
}

async function startFleet(
  opts: Options,
  layout: Layout,
  rig: Rig,
  n: number,
  flags: string[],
): Promise<Fleet> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-'));
  const cfg = path.join(tmp, 'disagg.yaml');
  const ports = (ws: Array<{ port: number }>): number[] => ws.map((w) => w.port);
  writeFileSync(cfg, proxyConfigYaml({ port: 0, ctx: ports(rig.ctx), gen: ports(rig.gen) }));
  const cores = layout.fleetCores.slice(0, Math.min(n, layout.fleetCores.length));
  const cmd = command(opts, 'cli', proxyCliArgs(cfg, n, flags));
  const { proc, match } = await start(
    `fleet${n}`,
    pinned(layout, cores, cmd),
    /listening on http:\/\/[^:]+:(\d+)/,
  );
  const entry = path.basename(cmd[1][0] ?? '');
  const pids = [proc.pid, ...(n > 1 ? fleetPids(proc.pid, entry) : [])];
  if (pids.length !== (n > 1 ? n + 1 : 1)) {
    throw new Error(`fleet of ${n}: found ${pids.length - 1} processes under pid ${proc.pid}`);
  }
  return { proc, port: Number(match[1]), pids };
}

/** What all generators of one window measured together. */
export interface WindowResult {
  ok: number;
  rps: number;
  statuses: Record<string, number>;
  shedRetryAfter: number;
  unfinished: number;
  transportErrors: number;
  doneMissing: number;
  p50: number;
  p99: number;
  /** Fleet CPU seconds in the window (every process summed). */
  fleetCpuS: number;
  /** The busiest generator's and the busiest worker's share of a core in the window. */
  maxGeneratorCore: number;
  maxWorkerCore: number;
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Adds up the generators' counts and merges their raw samples into one set of percentiles. */
export function mergeGenerators(
  results: LoadGenResult[],
  durationS: number,
): Omit<WindowResult, 'fleetCpuS' | 'maxWorkerCore'> {
  const statuses: Record<string, number> = {};
  const samples: number[] = [];
  let ok = 0;
  for (const r of results) {
    ok += r.ok;
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    if (r.samples) samples.push(...r.samples);
  }
  samples.sort((a, b) => a - b);
  const sum = (f: (r: LoadGenResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  return {
    ok,
    rps: ok / durationS,
    statuses,
    shedRetryAfter: sum((r) => r.shedRetryAfter),
    unfinished: sum((r) => r.unfinished),
    transportErrors: sum((r) => r.transportErrors),
    doneMissing: sum((r) => r.doneMissing),
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    maxGeneratorCore: Math.max(...results.map((r) => r.loadGenCoreFraction)),
  };
}

/** One window: every generator (one per rig generator core) starts at the same instant; CPU is sampled at its edges. */
async function runWindow(
  opts: Options,
  layout: Layout,
  rig: Rig,
  fleet: Fleet,
  spec: Omit<LoadSpec, 'port' | 'startAtMs'>,
): Promise<WindowResult> {
  const g = layout.generators;
  const firstGenCore = layout.ctxWorkers + layout.genWorkers;
  const startAtMs = Date.now() + 1_500; // past the generators' own start-up
  const workerPids = [...rig.ctx, ...rig.gen].map((w) => w.pid);
  const cpuAt = (pids: number[]): number[] => pids.map(cpuSeconds);
  let fleet0: number[] = [];
  let fleet1: number[] = [];
  let work0: number[] = [];
  let work1: number[] = [];
  let started = 0;
  let ended = 0;
  const runs = Array.from({ length: g }, (_, i) => {
    const part: LoadSpec = {
      ...spec,
      port: fleet.port,
      startAtMs,
      concurrency: Math.max(1, Math.round(spec.concurrency / g)),
      rate: spec.rate / g,
    };
    const core = layout.rigCores[(firstGenCore + i) % layout.rigCores.length] as number;
    return runLoadGen(pinned(layout, [core], command(opts, 'loadgen', [])), part, ROOT, {
      onWindowStart: () => {
        if (started++ > 0) return;
        fleet0 = cpuAt(fleet.pids);
        work0 = cpuAt(workerPids);
      },
      onWindowEnd: () => {
        if (++ended < g) return;
        fleet1 = cpuAt(fleet.pids);
        work1 = cpuAt(workerPids);
      },
    });
  });
  const results = await Promise.all(runs);
  const durationS = spec.durationMs / 1000;
  const delta = (a: number[], b: number[]): number[] => b.map((v, i) => v - (a[i] ?? 0));
  return {
    ...mergeGenerators(results, durationS),
    fleetCpuS: delta(fleet0, fleet1).reduce((a, v) => a + v, 0),
    maxWorkerCore: Math.max(...delta(work0, work1)) / durationS,
  };
}

const PLAIN_BODY = '{"model":"m","prompt":"x","max_tokens":32}';
const streamBody = (tokens: number): string =>
  JSON.stringify({ model: 'm', prompt: 'x', max_tokens: tokens, stream: true });
/** A rig process above this share of a core may have set the figure instead of the fleet. */
const RIG_BUSY = 0.85;

interface ScalingRow {
  n: number;
  rps: number;
  cpuUsPerRequest: number;
  /** rate(N) / (N x rate(1)). */
  efficiency: number;
  maxGeneratorCore: number;
  maxWorkerCore: number;
  isRigLimited: boolean;
  runs: WindowResult[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] as number);
}

async function runScaling(
  opts: Options,
  layout: Layout,
  rig: Rig,
  log: (s: string) => void,
): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  for (const n of opts.sizes) {
    const fleet = await startFleet(opts, layout, rig, n, []);
    const runs: WindowResult[] = [];
    for (let r = 0; r < opts.runs; r++) {
      runs.push(
        await runWindow(opts, layout, rig, fleet, {
          path: '/v1/completions',
          body: PLAIN_BODY,
          mode: 'closed',
          concurrency: opts.clientsPerProcess * n,
          rate: 0,
          warmupMs: opts.warmupMs,
          durationMs: opts.durationMs,
          isStream: false,
        }),
      );
    }
    await stop(fleet.proc);
    const rps = median(runs.map((w) => w.rps));
    const one = n === 1 ? rps : (rows.find((r) => r.n === 1)?.rps ?? Number.NaN);
    const row: ScalingRow = {
      n,
      rps,
      cpuUsPerRequest: median(runs.map((w) => (w.fleetCpuS / Math.max(1, w.ok)) * 1e6)),
      efficiency: rps / (n * one),
      maxGeneratorCore: Math.max(...runs.map((w) => w.maxGeneratorCore)),
      maxWorkerCore: Math.max(...runs.map((w) => w.maxWorkerCore)),
      isRigLimited: runs.some((w) => w.maxGeneratorCore > RIG_BUSY || w.maxWorkerCore > RIG_BUSY),
      runs,
    };
    rows.push(row);
    log(
      `N=${n}: ${row.rps.toFixed(0)} req/s, ${row.cpuUsPerRequest.toFixed(1)} us CPU/request, ` +
        `${row.efficiency.toFixed(2)} of N x one process${row.isRigLimited ? ' (RIG-LIMITED)' : ''}`,
    );
  }
  return rows;
}

interface OpenLoopRow {
  target: string;
  capacityRps: number;
  load: number;
  offeredRps: number;
  goodputRps: number;
  goodputOfCapacity: number;
  shed: number;
  shedWithRetryAfter: number;
  otherErrors: number;
  unfinished: number;
  ttftP50: number;
  ttftP99: number;
  maxGeneratorCore: number;
  maxWorkerCore: number;
}

/** Streamed closed-loop capacity of a fleet, then Poisson load at 0.5x and 1.5x of it. */
async function runOpenLoop(
  opts: Options,
  layout: Layout,
  rig: Rig,
  target: string,
  flags: string[],
  log: (s: string) => void,
): Promise<OpenLoopRow[]> {
  const n = opts.openSize;
  const fleet = await startFleet(opts, layout, rig, n, flags);
  const base = {
    path: '/v1/completions',
    body: streamBody(opts.streamTokens),
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    isStream: true,
  };
  const peak = await runWindow(opts, layout, rig, fleet, {
    ...base,
    mode: 'closed',
    concurrency: opts.clientsPerProcess * n,
    rate: 0,
  });
  const rows: OpenLoopRow[] = [];
  for (const load of [0.5, 1.5]) {
    const w = await runWindow(opts, layout, rig, fleet, {
      ...base,
      mode: 'open',
      concurrency: 0,
      rate: peak.rps * load,
      isBySend: true,
      drainMs: 5_000,
      isWithSamples: true,
    });
    const shed = (w.statuses['429'] ?? 0) + (w.statuses['503'] ?? 0);
    const answered = Object.values(w.statuses).reduce((a, v) => a + v, 0);
    rows.push({
      target,
      capacityRps: peak.rps,
      load,
      offeredRps: peak.rps * load,
      goodputRps: w.rps,
      goodputOfCapacity: w.rps / peak.rps,
      shed,
      shedWithRetryAfter: w.shedRetryAfter,
      otherErrors: answered - shed - (w.statuses['200'] ?? 0) + w.transportErrors,
      unfinished: w.unfinished,
      ttftP50: w.p50,
      ttftP99: w.p99,
      maxGeneratorCore: w.maxGeneratorCore,
      maxWorkerCore: w.maxWorkerCore,
    });
    log(
      `${target} at ${load}x of ${peak.rps.toFixed(0)} req/s: goodput ${w.rps.toFixed(0)}, shed ${shed} ` +
        `(${w.shedRetryAfter} with Retry-After), admitted TTFT p99 ${w.p99.toFixed(1)} ms`,
    );
  }
  await stop(fleet.proc);
  return rows;
}

const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function markdown(
  machine: string,
  layout: Layout,
  scaling: ScalingRow[],
  open: OpenLoopRow[],
): string {
  const lines = [
    `Machine: ${machine}. Fleet on cores ${layout.fleetCores.join(',')}; rig on ${layout.rigCores.join(',')} ` +
      `(${layout.ctxWorkers} context + ${layout.genWorkers} generation workers, ${layout.generators} generators)` +
      `${layout.canPin ? '' : ', NOT pinned'}.`,
    '',
    '| processes | req/s | CPU us/request | rate / (N x one) | busiest generator, worker (cores) |',
    '| --- | --- | --- | --- | --- |',
    ...scaling.map(
      (r) =>
        `| ${r.n} | ${f(r.rps, 0)} | ${f(r.cpuUsPerRequest)} | ${f(r.efficiency, 2)} | ` +
        `${f(r.maxGeneratorCore, 2)}, ${f(r.maxWorkerCore, 2)}${r.isRigLimited ? ' rig-limited' : ''} |`,
    ),
    '',
    '| target | load | offered / goodput req/s | goodput / capacity | shed (with Retry-After) | other errors, unfinished | admitted TTFT p50 / p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...open.map(
      (r) =>
        `| ${r.target} | ${r.load}x | ${f(r.offeredRps, 0)} / ${f(r.goodputRps, 0)} | ${f(r.goodputOfCapacity, 2)} | ` +
        `${r.shed} (${r.shedWithRetryAfter}) | ${r.otherErrors}, ${r.unfinished} | ${f(r.ttftP50)} / ${f(r.ttftP99)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function parseOptions(args: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const num = (name: string, fallback: number): number => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`--${name}: expected a positive number, got '${v}'`);
    }
    return n;
  };
  const sizes = (value('sizes') ?? '1,2,4,8').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(
      `--sizes: expected positive integers separated by commas, got '${value('sizes') ?? ''}'`,
    );
  }
  return {
    sizes,
    runs: num('runs', 3),
    warmupMs: num('warmup-ms', 1_000),
    durationMs: num('duration-ms', 4_000),
    openSize: num('open-size', Math.max(...sizes)),
    clientsPerProcess: num('clients', 32),
    streamTokens: num('tokens', 4),
    outDir: value('out') ?? process.env.OUT ?? mkdtempSync(path.join(os.tmpdir(), 'fleet-out-')),
    bundles: value('bundles'),
    loopDelayS: value('loop-delay') === undefined ? undefined : num('loop-delay', 0),
  };
}

function machineName(): string {
  const model =
    /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${os.availableParallelism()} x ${model.trim()}, Node ${process.version}, load average ${os.loadavg()[0]?.toFixed(1)}`;
}

export async function runFleetBench(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  let hasTaskset = true;
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
  } catch {
    hasTaskset = false;
  }
  const layout = planLayout(os.availableParallelism(), Math.max(...opts.sizes), hasTaskset);
  const machine = machineName();
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  log(`fleet bench on ${machine}`);
  try {
    const rig = await startRig(opts, layout, opts.streamTokens);
    const scaling = await runScaling(opts, layout, rig, log);
    const c = opts.clientsPerProcess * opts.openSize;
    const limits = [
      '--max-concurrency',
      String(c),
      '--max-queue',
      String(c),
      '--queue-timeout',
      '0.5',
    ];
    const open = [
      ...(await runOpenLoop(
        opts,
        layout,
        rig,
        `${opts.openSize} processes, default limits`,
        [],
        log,
      )),
      ...(opts.loopDelayS === undefined
        ? []
        : await runOpenLoop(
            opts,
            layout,
            rig,
            `${opts.openSize} processes, --max-loop-delay ${opts.loopDelayS}`,
            ['--max-loop-delay', String(opts.loopDelayS)],
            log,
          )),
      // CPU-pressure shedding at its suggested start (it is off by default, so "default limits" is without it).
      ...(await runOpenLoop(
        opts,
        layout,
        rig,
        `${opts.openSize} processes, --max-loop-delay 0.02 (CPU-pressure shedding)`,
        ['--max-loop-delay', '0.02'],
        log,
      )),
      ...(await runOpenLoop(
        opts,
        layout,
        rig,
        `${opts.openSize} processes, --max-concurrency ${c}`,
        limits,
        log,
      )),
    ];
    mkdirSync(opts.outDir, { recursive: true });
    const md = markdown(machine, layout, scaling, open);
    writeFileSync(path.join(opts.outDir, 'fleet-bench.md'), md);
    writeFileSync(
      path.join(opts.outDir, 'fleet-bench.json'),
      JSON.stringify(
        { machine, date: new Date().toISOString(), options: opts, layout, scaling, open },
        null,
        2,
      ),
    );
    log(`\n${md}\nwritten to ${opts.outDir}`);
    return 0;
  } finally {
    for (const p of [...procs].reverse()) await stop(p);
  }
}

if (process.argv[1] && /fleet-bench\.(ts|cjs|js)$/.test(process.argv[1])) {
  runFleetBench(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      for (const p of procs) p.child.kill('SIGKILL');
      process.exit(1);
    },
  );
}
