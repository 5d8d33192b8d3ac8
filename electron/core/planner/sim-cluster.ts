// Starts the pieces of a simulated cluster as real child processes for the planner (and tests): simulated
// `trtllm-serve` workers (`disagg-console sim-worker`, one simulated GPU each, timing from a GPU profile
// passed through DISAGG_SIM_GPU / DISAGG_SIM_GPU_PROFILE) and the real proxy (`disagg-console proxy -c`)
// over a chosen subset of them. Every process is stopped by its own pid. Layer: core.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CustomGpuSpec, GpuProfile } from '../../../shared/logic/gpu-profiles';
import { freeLoopbackPort } from '../supervisor/port-allocator';

const BIN = fileURLToPath(new URL('../../../bin/disagg-console.mjs', import.meta.url));
const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** One running child process. */
export interface RunningProcess {
  pid: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT (the form disagg_config.yaml's urls use). */
  hostPort: string;
  output(): string;
  /** SIGTERM, SIGKILL after a grace period; resolves once it exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Settings of the simulated workers' engine, passed as upstream's options file. */
export interface SimWorkerSettings {
  maxBatchSize?: number;
  maxNumTokens?: number;
  freeGpuMemoryFraction?: number;
}

/** The env that makes a simulated worker run on `gpu` (a named profile, or `custom` with its numbers). */
export function simGpuEnv(gpu: GpuProfile): Record<string, string> {
  if (gpu.id !== 'custom') return { DISAGG_SIM_GPU: gpu.id };
  const spec: CustomGpuSpec = {
    name: gpu.name,
    memoryGiB: gpu.memoryBytes / 1024 ** 3,
    memoryBandwidthGBps: gpu.memoryBandwidthGBps,
    denseBf16Tflops: gpu.denseBf16Tflops,
    prefillTokensPerSec8B: gpu.prefillTokensPerSec8B,
    interconnect: gpu.interconnect,
    kvLinkGBps: gpu.kvLinkGBps,
  };
  return { DISAGG_SIM_GPU: 'custom', DISAGG_SIM_GPU_PROFILE: JSON.stringify(spec) };
}

/**
 * The options file of a planner worker: able to serve context, generation and aggregated requests
 * (trtllm-protocol.md 2.1-2.2: a transceiver backend, overlap off for context-only requests), and without
 * block reuse so repeated runs do not get faster from cached prefixes.
 */
export function simWorkerOptionsYaml(s: SimWorkerSettings): string {
  const lines = [
    'disable_overlap_scheduler: true',
    'cache_transceiver_config:',
    '  backend: UCX',
    'kv_cache_config:',
    '  enable_block_reuse: false',
  ];
  if (s.freeGpuMemoryFraction !== undefined) {
    lines.push(`  free_gpu_memory_fraction: ${s.freeGpuMemoryFraction}`);
  }
  if (s.maxBatchSize !== undefined) lines.push(`max_batch_size: ${s.maxBatchSize}`);
  if (s.maxNumTokens !== undefined) lines.push(`max_num_tokens: ${s.maxNumTokens}`);
  return lines.join('\n') + '\n';
}

function track(
  child: ChildProcess,
  readyPattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<{ match: RegExpExecArray; output: () => string; exited: Promise<void> }> {
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) child.kill('SIGKILL');
      reject(new Error(`${what} not ready within ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (c: Buffer): void => {
      // Bounded: only the start matters for the pattern, the tail for error messages.
      output = (output + c.toString()).slice(-20_000);
      const m = readyPattern.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ match: m, output: () => output, exited });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          `${what} exited before it was ready (code ${String(child.exitCode)}):\n${output.slice(-2000)}`,
        ),
      );
    });
  });
}

function stopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
}

export interface StartSimWorkerOptions {
  model: string;
  gpu: GpuProfile;
  settings?: SimWorkerSettings;
  /** Extra env (tests: DISAGG_SIM_ZERO_DELAY, DISAGG_SIM_FAULTS). */
  env?: Record<string, string>;
  /** A directory for the options file (a temp dir by default). */
  dir?: string;
  startTimeoutMs?: number;
}

/** Starts one simulated worker on 127.0.0.1 and an OS-chosen port; resolves once it serves. */
export async function startSimWorker(o: StartSimWorkerOptions): Promise<RunningProcess> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'planner-')));
  const optionsFile = join(
    dir,
    `worker-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`,
  );
  await writeFile(optionsFile, simWorkerOptionsYaml(o.settings ?? {}));
  const child = spawn(
    process.execPath,
    [
      BIN,
      'sim-worker',
      o.model,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--extra_llm_api_options',
      optionsFile,
    ],
    {
      env: {
        ...process.env,
        // Inside the desktop app process.execPath is Electron; this makes it run the CLI as plain Node.
        ELECTRON_RUN_AS_NODE: '1',
        CUDA_VISIBLE_DEVICES: '0',
        DISAGG_SIM_LOAD_MS: '0',
        ...simGpuEnv(o.gpu),
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const t = await track(
    child,
    /Uvicorn running on http:\/\/[^:\s]+:(\d+)/,
    o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    'simulated worker',
  );
  const port = Number(t.match[1]);
  return {
    pid: child.pid ?? -1,
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    output: t.output,
    stop: stopper(child, t.exited),
  };
}

async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet: retry until the deadline.
    }
    if (performance.now() > deadline) {
      throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface StartProxyOptions {
  contextUrls: string[];
  generationUrls: string[];
  startTimeoutMs?: number;
}

/** Writes a disagg_config.yaml for the given workers and runs the real proxy on it. */
export async function startProxyProcess(o: StartProxyOptions): Promise<RunningProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'planner-proxy-'));
  const port = await freeLoopbackPort();
  const yaml = [
    'hostname: 127.0.0.1',
    `port: ${port}`,
    'backend: pytorch',
    'context_servers:',
    `  num_instances: ${o.contextUrls.length}`,
    '  urls:',
    ...o.contextUrls.map((u) => `    - "${u}"`),
    'generation_servers:',
    `  num_instances: ${o.generationUrls.length}`,
    '  urls:',
    ...o.generationUrls.map((u) => `    - "${u}"`),
  ].join('\n');
  const file = join(dir, 'disagg_config.yaml');
  await writeFile(file, yaml + '\n');
  const child = spawn(process.execPath, [BIN, 'proxy', '-c', file, '-l', 'warning'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timeoutMs = o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const t = await track(child, /listening on http:\/\/[^\s]+/, timeoutMs, 'proxy');
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, t.exited);
  try {
    await waitHealthy(url, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid ?? -1,
    url,
    hostPort: `127.0.0.1:${port}`,
    output: t.output,
    stop: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
