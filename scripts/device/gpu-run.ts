// A run on a real NVIDIA machine (issues #4 and #7), with the project's own inventory and supervisor code:
// records nvidia-smi outputs for parser fixtures, starts workers pinned with CUDA_VISIBLE_DEVICES (one TP-2
// worker where there are two GPUs) and checks with a CUDA probe started under the same environment that each
// sees exactly its own GPUs, puts load on one GPU and checks the live samples show it there only, and kills a
// GPU-holding worker's process tree to check that its memory is released and the console reports the exit.
// Not part of the product or the test suite: bundled by scripts/device/build.sh and run through the device tool.
// Writes everything it saw to $OUT/report.json and the raw outputs to $OUT/fixtures/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createGpuInventory, GPU_QUERY_ARGS } from '../../electron/core/gpu/gpu-inventory';
import { createLogStore } from '../../electron/core/supervisor/log-store';
import {
  createNodeProcessLauncher,
  signalProcessTree,
} from '../../electron/core/supervisor/process-launcher';
import { createWorkerSupervisor } from '../../electron/core/supervisor/worker-supervisor';
import {
  parseComputeAppsCsv,
  parseGpuQueryCsv,
  parseNvidiaSmiXml,
  parseTopoMatrix,
} from '../../shared/logic/gpu-parse';
import { buildWorkerEnv } from '../../shared/logic/worker-command';
import type { GpuInventorySnapshot } from '../../shared/model/gpu';
import type { WorkerSpec } from '../../shared/model/worker';

const OUT = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'gpu-run-'));
const CLI_BUNDLE = process.env.CLI_BUNDLE ?? '';
const HOLD_WORKER = process.env.HOLD_WORKER ?? '';
const report: Record<string, unknown> = { startedAt: new Date().toISOString() };
const checks: { name: string; ok: boolean; detail: string }[] = [];

function check(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}\n`);
}

function smi(args: string[]): string {
  return execFileSync('nvidia-smi', args, { encoding: 'utf8', timeout: 30_000 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// What CUDA sees under a worker's environment: device count and UUIDs through torch.
const CUDA_PROBE = `
import json, os, torch
n = torch.cuda.device_count()
print(json.dumps({"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "count": n,
  "uuids": ["GPU-" + str(torch.cuda.get_device_properties(i).uuid) for i in range(n)],
  "names": [torch.cuda.get_device_name(i) for i in range(n)]}))
`;

// A matmul loop on the one GPU CUDA_VISIBLE_DEVICES leaves visible, for the given seconds.
const LOAD = `
import sys, time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(20): a = (a @ a).clamp_(-1, 1)
    torch.cuda.synchronize()
`;

async function runPython(
  code: string,
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  const proc = await createNodeProcessLauncher().launch({
    command: 'python3',
    args: ['-c', code, ...args],
    env,
  });
  const out: string[] = [];
  proc.onLine((stream, line) => (stream === 'stdout' ? out.push(line) : undefined));
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`python exited ${exit.code}/${exit.signal}`);
  return out.join('\n');
}

function sampleOf(
  snap: GpuInventorySnapshot,
  index: number,
): { util: number | null; memMiB: number | null } {
  const s = snap.samples.find((x) => x.index === index);
  return { util: s?.utilizationPct ?? null, memMiB: s?.memoryUsedMiB ?? null };
}

async function main(): Promise<void> {
  // 1. Raw outputs, kept as fixtures, and the parsers run on them.
  const fixtures = join(OUT, 'fixtures');
  mkdirSync(fixtures, { recursive: true });
  const raw = {
    'query-gpu.csv': smi(GPU_QUERY_ARGS),
    'query-gpu-header.csv': smi([GPU_QUERY_ARGS[0] ?? '', '--format=csv']),
    'query-apps.csv': smi([
      '--query-compute-apps=pid,process_name,gpu_uuid,used_memory',
      '--format=csv',
    ]),
    'topo-m.txt': smi(['topo', '-m']),
    'nvidia-smi-q.xml': smi(['-q', '-x']),
    'nvidia-smi-L.txt': smi(['-L']),
    'nvidia-smi.txt': smi([]),
  };
  for (const [name, text] of Object.entries(raw)) writeFileSync(join(fixtures, name), text);
  const parsedCsv = parseGpuQueryCsv(raw['query-gpu.csv'], Date.now());
  const topo = parseTopoMatrix(raw['topo-m.txt']);
  const xml = parseNvidiaSmiXml(raw['nvidia-smi-q.xml']);
  report.parsed = {
    gpus: parsedCsv.gpus,
    topology: topo,
    xml,
    apps: parseComputeAppsCsv(raw['query-apps.csv']),
  };
  const gpuCount = parsedCsv.gpus.length;
  check(
    'parse query CSV',
    gpuCount > 0,
    `${gpuCount} GPU(s): ${parsedCsv.gpus.map((g) => g.name).join(', ')}`,
  );
  check('parse topo -m', topo.gpus.length === gpuCount, JSON.stringify(topo.links));

  // 2. The inventory as the console runs it.
  const inventory = createGpuInventory({ pollIntervalMs: 1000 });
  const first = await inventory.start();
  report.inventory = first;
  check(
    'inventory is real',
    !first.simulated && first.gpus.length === gpuCount,
    `simulated=${first.simulated} gpus=${first.gpus.length}`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'gpu-run-data-'));
  const supervisor = createWorkerSupervisor({
    logStore: createLogStore({ dir: join(dataDir, 'logs') }),
    commandOptions: { baseEnv: process.env, nodeBinary: process.execPath, cliScript: CLI_BUNDLE },
    policy: { readyTimeoutMs: 120_000, maxRestarts: 0, killTimeoutMs: 5000 },
  });
  const spec = (
    id: string,
    gpus: number[],
    port: number,
    over: Partial<WorkerSpec> = {},
  ): WorkerSpec => ({
    id,
    role: 'context',
    gpus,
    host: '127.0.0.1',
    port,
    model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    engine: 'simulated',
    backend: 'pytorch',
    tpSize: gpus.length,
    ppSize: 1,
    optionsFile: null,
    extraEnv: { DISAGG_SIM_ZERO_DELAY: '1' },
    registration: { kind: 'static' },
    ...over,
  });

  // 3. Pinned workers and what CUDA sees under each one's environment.
  const layouts: number[][] = gpuCount >= 2 ? [[0], [1], [0, 1]] : [[0]];
  const seen: Record<string, unknown>[] = [];
  let port = 18100;
  for (const gpus of layouts) {
    const id = `w-${gpus.join('-')}`;
    const s = spec(id, gpus, port++);
    supervisor.add(s);
    await supervisor.start(id);
    const ready = await supervisor.waitFor(id, ['ready', 'errored'], 120_000);
    const probe = JSON.parse(await runPython(CUDA_PROBE, [], buildWorkerEnv(s, process.env))) as {
      count: number;
      uuids: string[];
    };
    const expected = gpus.map((g) => first.gpus.find((x) => x.index === g)?.uuid);
    seen.push({ id, gpus, state: ready.state, pid: ready.pid, probe, expectedUuids: expected });
    check(`worker ${id} ready`, ready.state === 'ready', `state=${ready.state} pid=${ready.pid}`);
    check(
      `CUDA under ${id} sees exactly its GPUs`,
      probe.count === gpus.length && JSON.stringify(probe.uuids) === JSON.stringify(expected),
      `count=${probe.count} uuids=${probe.uuids.join(',')} expected=${expected.join(',')}`,
    );
    if (gpus.length === 1 && gpuCount >= 2) continue; // keep the single-GPU ones while the TP-2 one starts
    for (const w of supervisor.list()) await supervisor.remove(w.id);
  }
  for (const w of supervisor.list()) await supervisor.remove(w.id);
  report.pinned = seen;

  // 4. Load on the last GPU only; the console's live samples must show it there and nowhere else.
  const target = gpuCount - 1;
  const loadEnv = { ...buildWorkerEnv(spec('load', [target], 0), process.env) };
  const loading = runPython(LOAD, ['12'], loadEnv);
  const samples: unknown[] = [];
  let peakTarget = 0;
  let peakOthers = 0;
  await sleep(4000);
  for (let i = 0; i < 6; i++) {
    const snap = await inventory.refresh();
    samples.push(snap.samples);
    for (const g of snap.gpus) {
      const u = sampleOf(snap, g.index).util ?? 0;
      if (g.index === target) peakTarget = Math.max(peakTarget, u);
      else peakOthers = Math.max(peakOthers, u);
    }
    await sleep(1000);
  }
  await loading;
  report.loadSamples = samples;
  check(
    `load shows on GPU ${target} only`,
    peakTarget >= 50 && peakOthers <= 10,
    `peak util GPU${target}=${peakTarget}% others=${peakOthers}%`,
  );

  // 5. A worker that holds GPU memory (a trtllm-serve stand-in allocating with torch), killed with its tree.
  if (HOLD_WORKER !== '') {
    const before = sampleOf(await inventory.refresh(), 0).memMiB ?? 0;
    const hold = spec('holder', [0], port++, {
      engine: 'trtllm-serve',
      binaryPath: HOLD_WORKER,
      extraEnv: { HOLD_GIB: '8' },
    });
    supervisor.add(hold);
    await supervisor.start('holder');
    const ready = await supervisor.waitFor('holder', ['ready', 'errored'], 120_000);
    await sleep(1500);
    const during = await inventory.refresh();
    const held = sampleOf(during, 0).memMiB ?? 0;
    const app = during.apps.find((a) => a.pid === ready.pid);
    const killed = ready.pid !== null && signalProcessTree(ready.pid, 'SIGKILL');
    const exited = await supervisor.waitFor(
      'holder',
      (st) => st.state !== 'ready' && st.state !== 'starting',
      30_000,
    );
    await sleep(2000);
    const after = sampleOf(await inventory.refresh(), 0).memMiB ?? 0;
    report.holder = {
      before,
      held,
      after,
      app,
      readyState: ready.state,
      killed,
      afterKill: exited,
    };
    check('holder ready', ready.state === 'ready', `state=${ready.state}`);
    check('holder memory visible', held - before >= 7000, `before=${before} MiB held=${held} MiB`);
    check(
      'memory released after kill',
      after - before < 500,
      `after=${after} MiB (before=${before})`,
    );
    check(
      'console reports the kill',
      exited.lastExit?.signal === 'SIGKILL',
      `state=${exited.state} lastExit=${JSON.stringify(exited.lastExit)}`,
    );
  }

  await supervisor.dispose();
  inventory.stop();
  report.checks = checks;
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(`${checks.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `gpu-run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  report.checks = checks;
  report.error = String(err);
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
  process.exitCode = 1;
});
