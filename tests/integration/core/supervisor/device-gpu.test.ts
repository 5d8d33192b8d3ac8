// On a machine with NVIDIA GPUs only (skipped elsewhere): the real inventory, a supervised sim worker pinned
// with CUDA_VISIBLE_DEVICES=0, and a Python process that reports what CUDA sees under the same env builder.
// Run it on the device machine with `OUT=<dir> npx vitest run tests/integration/core/supervisor/device-gpu.test.ts`;
// it writes device-gpu-report.json to $OUT (or the temp dir) for the notes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { createGpuInventory } from '../../../../electron/core/gpu/gpu-inventory';
import { createLogStore } from '../../../../electron/core/supervisor/log-store';
import { createNodeProcessLauncher } from '../../../../electron/core/supervisor/process-launcher';
import { createWorkerSupervisor } from '../../../../electron/core/supervisor/worker-supervisor';
import { buildWorkerEnv } from '../../../../shared/logic/worker-command';
import type { WorkerSpec } from '../../../../shared/model/worker';
import { getFreePort } from '../../../helpers/free-port';
import { workerSpec } from '../../../helpers/worker-spec';

const hasNvidiaSmi = ((): boolean => {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

// Asks the driver API directly (ctypes + libcuda), so neither torch nor the CUDA toolkit is needed.
const CUDA_PROBE = `
import ctypes, json, os
out = {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES")}
try:
    cuda = ctypes.CDLL("libcuda.so.1")
    rc = cuda.cuInit(0)
    n = ctypes.c_int(0)
    if rc == 0:
        cuda.cuDeviceGetCount(ctypes.byref(n))
    names = []
    for i in range(n.value):
        dev = ctypes.c_int(0); cuda.cuDeviceGet(ctypes.byref(dev), i)
        buf = ctypes.create_string_buffer(256); cuda.cuDeviceGetName(buf, 256, dev)
        names.append(buf.value.decode())
    out.update({"cuInit": rc, "count": n.value, "names": names})
except OSError as e:
    out["error"] = str(e)
print(json.dumps(out))
`;

const report: Record<string, unknown> = {};
const outDir = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'dc-device-'));

afterAll(() => {
  if (hasNvidiaSmi) {
    writeFileSync(join(outDir, 'device-gpu-report.json'), JSON.stringify(report, null, 2));
  }
});

async function cudaSees(gpus: number[]): Promise<Record<string, unknown>> {
  const spec = { gpus, extraEnv: {} } as unknown as WorkerSpec;
  const proc = await createNodeProcessLauncher().launch({
    command: 'python3',
    args: ['-c', CUDA_PROBE],
    env: buildWorkerEnv(spec, process.env),
  });
  const lines: string[] = [];
  proc.onLine((_s, l) => lines.push(l));
  await proc.exited;
  return JSON.parse(lines.find((l) => l.startsWith('{')) ?? '{}') as Record<string, unknown>;
}

describe.skipIf(!hasNvidiaSmi)('on a real NVIDIA machine', () => {
  it('reads the inventory from nvidia-smi', async () => {
    const inv = createGpuInventory();
    const snap = await inv.start();
    inv.stop();
    report.inventory = snap;
    expect(snap.simulated).toBe(false);
    expect(snap.gpus.length).toBeGreaterThanOrEqual(1);
    expect(snap.samples[0]?.memoryTotalMiB).toBeGreaterThan(0);
    expect(snap.topology?.devices).toContain('GPU0');
  });

  it('CUDA sees exactly the GPUs CUDA_VISIBLE_DEVICES gives it', async () => {
    const one = await cudaSees([0]);
    const none = await cudaSees([]);
    report.cuda = { gpu0: one, empty: none };
    expect(one.count).toBe(1);
    expect(none.count ?? 0).toBe(0);
  });

  it('supervises a sim worker pinned to GPU 0 and shows it as the holder of GPU 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-dev-sup-'));
    const logs = createLogStore({ dir: join(dir, 'logs') });
    const sup = createWorkerSupervisor({
      logStore: logs,
      policy: { readyTimeoutMs: 60_000, probeIntervalMs: 200 },
      commandOptions: {
        baseEnv: process.env,
        nodeBinary: process.execPath,
        cliScript: resolve(__dirname, '../../../../bin/disagg-console.mjs'),
      },
    });
    try {
      sup.add(
        workerSpec({
          id: 'gen0',
          role: 'generation',
          port: await getFreePort(),
          model: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
          engine: 'simulated',
        }),
      );
      await sup.start('gen0');
      const ready = await sup.waitFor('gen0', ['ready'], 60_000);
      const inv = createGpuInventory({ holders: () => sup.gpuHolders() });
      const snap = await inv.start();
      inv.stop();
      report.supervisor = {
        ready,
        readyAfterMs: (ready.readyAtMs ?? 0) - (ready.startedAtMs ?? 0),
        holders: snap.holders,
        log: logs.tail('gen0', 30),
      };
      expect(snap.holders['0']).toEqual([{ workerId: 'gen0', role: 'generation' }]);
      expect(
        logs.search('gen0', { text: '(CUDA_VISIBLE_DEVICES=0)' }).length,
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await sup.dispose();
      logs.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
