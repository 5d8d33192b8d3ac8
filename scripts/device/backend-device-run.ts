// A run on a real NVIDIA machine for the console backend's parts (issue #4): the GPU inventory from
// nvidia-smi, the supervisor starting a simulated worker pinned with CUDA_VISIBLE_DEVICES=0, a Python process
// under the worker's exact environment reporting what CUDA sees, the worker /metrics poller and the metrics
// service's GPU samples, a crash restart, and dispose leaving nothing behind. Not part of the product or the
// test suite: bundled with esbuild and run through the device tool; writes $OUT/report.json.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createGpuInventory } from '../../electron/core/gpu/gpu-inventory';
import { createMetricsService } from '../../electron/core/metrics/metrics-service';
import { createLogStore } from '../../electron/core/supervisor/log-store';
import { isProcessAlive } from '../../electron/core/supervisor/pid-file';
import { createNodeProcessLauncher } from '../../electron/core/supervisor/process-launcher';
import { createWorkerSupervisor } from '../../electron/core/supervisor/worker-supervisor';
import { buildWorkerEnv } from '../../shared/logic/worker-command';
import type { WorkerSpec } from '../../shared/model/worker';

const OUT = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'backend-run-'));
const CLI_BUNDLE = process.env.CLI_BUNDLE ?? '';
const report: Record<string, unknown> = { startedAt: new Date().toISOString() };
const checks: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, ok: boolean, detail: string): void => {
  checks.push({ name, ok, detail });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CUDA_PROBE = `
import json, os
out = {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES")}
try:
    import torch
    n = torch.cuda.device_count()
    out.update({"count": n, "names": [torch.cuda.get_device_name(i) for i in range(n)],
                "uuids": ["GPU-" + str(torch.cuda.get_device_properties(i).uuid) for i in range(n)]})
except Exception as e:
    out["error"] = repr(e)
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backend-run-data-'));
  const inventory = createGpuInventory({ pollIntervalMs: 1000 });
  const first = await inventory.start();
  report.inventory = first;
  check(
    'inventory is real',
    !first.simulated && first.gpus.length > 0,
    `${first.gpus.length} GPU(s): ${first.gpus.map((g) => `${g.index} ${g.name} ${g.memoryTotalMiB} MiB ${g.uuid}`).join('; ')}; driver ${first.driverVersion}, CUDA ${first.cudaVersion}; reason ${first.simulatedReason}`,
  );

  const logs = createLogStore({ dir: join(dir, 'logs') });
  const sup = createWorkerSupervisor({
    logStore: logs,
    policy: {
      readyTimeoutMs: 60_000,
      probeIntervalMs: 200,
      killTimeoutMs: 5000,
      backoffBaseMs: 300,
    },
    commandOptions: { baseEnv: process.env, nodeBinary: process.execPath, cliScript: CLI_BUNDLE },
  });
  const optionsFile = join(dir, 'gen0.yaml');
  writeFileSync(
    optionsFile,
    'cache_transceiver_config:\n  backend: UCX\n  max_tokens_in_buffer: 8192\nenable_iter_perf_stats: true\n',
  );
  const spec: WorkerSpec = {
    id: 'gen0',
    role: 'generation',
    gpus: [0],
    host: '127.0.0.1',
    port: 18702,
    model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    engine: 'simulated',
    backend: 'pytorch',
    tpSize: 1,
    ppSize: 1,
    optionsFile,
    extraEnv: {},
    registration: { kind: 'static' },
  };
  const metrics = createMetricsService({
    historyDir: join(dir, 'metrics'),
    workerIdOf: () => 'gen0',
    pollWorkers: () => [{ id: 'gen0', url: `http://127.0.0.1:${spec.port}` }],
    pollIntervalMs: 500,
  });
  inventory.onDidSample((s) => metrics.addGpuSamples(s.samples));
  sup.add(spec);
  const t0 = Date.now();
  const started = await sup.start('gen0');
  const ready = await sup.waitFor('gen0', ['ready'], 60_000);
  check(
    'sim worker ready',
    ready.state === 'ready',
    `pid ${started.pid}, ready after ${Date.now() - t0} ms`,
  );
  const cmdLine = logs.search('gen0', { text: 'CUDA_VISIBLE_DEVICES=' })[0]?.text ?? '';
  check('pinned to GPU 0', cmdLine.includes('CUDA_VISIBLE_DEVICES=0 '), cmdLine);
  report.holders = sup.gpuHolders();

  // What CUDA sees under the worker's exact environment.
  const probe = await createNodeProcessLauncher().launch({
    command: 'python3',
    args: ['-c', CUDA_PROBE],
    env: buildWorkerEnv(spec, process.env),
  });
  const lines: string[] = [];
  probe.onLine((_s, l) => lines.push(l));
  await probe.exited;
  const seen = JSON.parse(lines.filter((l) => l.startsWith('{')).pop() ?? '{}') as {
    cvd?: string;
    count?: number;
    names?: string[];
    uuids?: string[];
    error?: string;
  };
  report.cudaProbe = seen;
  check(
    'CUDA sees exactly GPU 0',
    seen.cvd === '0' && seen.count === 1 && seen.uuids?.[0] === first.gpus[0]?.uuid,
    JSON.stringify(seen),
  );

  // Traffic straight to the worker; its /metrics iteration stats reach the poller.
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`http://127.0.0.1:${spec.port}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: spec.model, prompt: `hello ${i}`, max_tokens: 32 }),
    });
    await res.arrayBuffer();
  }
  await sleep(1500);
  const snap = metrics.snapshot({ fromMs: t0 - 1000 });
  report.iteration = snap.iteration;
  report.gpuSamples = snap.gpus.slice(-4);
  const it = snap.iteration.gen0 ?? [];
  check('iteration stats polled', it.length > 0, JSON.stringify(it.slice(-2)));
  check(
    'real GPU samples',
    snap.gpus.length > 0 && snap.gpus.every((g) => g.memoryTotalMiB !== null),
    JSON.stringify(snap.gpus.slice(-1)),
  );

  // A crash: SIGKILL from outside, restarted with the reason kept.
  const pid = sup.status('gen0').pid ?? -1;
  process.kill(pid, 'SIGKILL');
  const back = await sup.waitFor('gen0', (s) => s.state === 'ready' && s.restarts === 1, 60_000);
  check(
    'restarted after SIGKILL',
    back.lastExit?.signal === 'SIGKILL',
    JSON.stringify(back.lastExit),
  );

  const last = back.pid ?? -1;
  await sup.dispose();
  metrics.dispose();
  inventory.stop();
  check(
    'dispose leaves no worker',
    !isProcessAlive(last) && !isProcessAlive(pid),
    `pids ${pid}, ${last}`,
  );
  report.checks = checks;
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
}

main().then(
  () => process.exit(checks.every((c) => c.ok) ? 0 : 1),
  (err: unknown) => {
    process.stderr.write(
      `run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    report.error = String(err);
    report.checks = checks;
    writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
    process.exit(1);
  },
);
