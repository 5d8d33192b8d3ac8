import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  COMPUTE_APPS_ARGS,
  createGpuInventory,
  GPU_QUERY_ARGS,
} from '../../../../electron/core/gpu/gpu-inventory';
import {
  CommandFailedError,
  type CommandRunner,
  execFileRunner,
} from '../../../../electron/core/gpu/nvidia-smi-runner';
import { simulatedSample, simulatedTopology } from '../../../../electron/core/gpu/simulated-gpus';

const FIX = join(__dirname, '../../../fixtures/nvidia-smi');
const read = (dir: string, file: string): string => readFileSync(join(FIX, dir, file), 'utf8');

/** A runner answering like nvidia-smi on the recorded machine; records every call. */
function fixtureRunner(dir: string, calls: string[][] = []): CommandRunner {
  return (file, args) => {
    calls.push([file, ...args]);
    const key = args.join(' ');
    if (key === GPU_QUERY_ARGS.join(' ')) return Promise.resolve(read(dir, 'query-gpu.csv'));
    if (key === COMPUTE_APPS_ARGS.join(' ')) return Promise.resolve('');
    if (key === 'topo -m') return Promise.resolve(read(dir, 'topo-m.txt'));
    if (key === '-q -x') return Promise.resolve(read('h100-x1', 'nvidia-smi-q.xml'));
    return Promise.reject(new CommandFailedError(`unexpected ${key}`, '2', ''));
  };
}

describe('GPU inventory from nvidia-smi', () => {
  it('reads the recorded H100: inventory, sample, topology, architecture, CUDA version', async () => {
    const calls: string[][] = [];
    const inv = createGpuInventory({
      run: fixtureRunner('h100-x1', calls),
      nvidiaSmiPath: '/usr/bin/nvidia-smi',
      now: () => 42,
    });
    const snap = await inv.start();
    inv.stop();
    expect(snap.simulated).toBe(false);
    expect(snap.gpus).toEqual([
      expect.objectContaining({
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalMiB: 81559,
        architecture: 'Hopper',
        simulated: false,
      }),
    ]);
    expect(snap.samples[0]).toMatchObject({ temperatureC: 39, powerDrawW: 131.98, atMs: 42 });
    expect(snap.driverVersion).toBe('580.159.04');
    expect(snap.cudaVersion).toBe('13.0');
    expect(snap.topology?.gpus[0]?.cpuAffinity).toBe('0-15');
    expect(calls[0]).toEqual(['/usr/bin/nvidia-smi', ...GPU_QUERY_ARGS]);
    expect(GPU_QUERY_ARGS[0]).toBe(
      '--query-gpu=index,uuid,name,pci.bus_id,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.max.sm,driver_version,compute_cap',
    );
  });

  it('reads the synthetic 4-GPU NVLink box and the holders of each GPU', async () => {
    const inv = createGpuInventory({
      run: fixtureRunner('synthetic-4gpu-nvlink'),
      holders: () => ({ '0': [{ workerId: 'ctx0', role: 'context' }] }),
    });
    const snap = await inv.start();
    inv.stop();
    expect(snap.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3]);
    expect(snap.topology?.links.GPU0?.GPU3?.nvlinkCount).toBe(18);
    expect(snap.holders).toEqual({ '0': [{ workerId: 'ctx0', role: 'context' }] });
  });

  it('keeps the last samples and reports the error when a poll fails', async () => {
    let isBroken = false;
    const good = fixtureRunner('h100-x1');
    const run: CommandRunner = (file, args, t) =>
      isBroken
        ? Promise.reject(
            new CommandFailedError('nvidia-smi: timed out after 5000 ms', 'ETIMEDOUT', ''),
          )
        : good(file, args, t);
    const inv = createGpuInventory({ run });
    await inv.start();
    inv.stop();
    isBroken = true;
    const snap = await inv.refresh();
    expect(snap.lastError).toMatch(/timed out/);
    expect(snap.samples).toHaveLength(1);
    expect(snap.simulated).toBe(false);
  });

  it('polls on its interval and tells listeners', async () => {
    const inv = createGpuInventory({ run: fixtureRunner('h100-x1'), pollIntervalMs: 30 });
    let count = 0;
    inv.onDidSample(() => count++);
    await inv.start();
    await new Promise((r) => setTimeout(r, 200));
    inv.stop();
    expect(count).toBeGreaterThanOrEqual(3);
  });
});

describe('simulated inventory', () => {
  it('is used when nvidia-smi is missing: default 4 x H100 80GB HBM3, flagged simulated', async () => {
    const inv = createGpuInventory({ nvidiaSmiPath: '/nonexistent/nvidia-smi' });
    const snap = await inv.start();
    inv.stop();
    expect(snap.simulated).toBe(true);
    expect(snap.simulatedReason).toBe('/nonexistent/nvidia-smi not found');
    expect(snap.gpus).toHaveLength(4);
    expect(
      snap.gpus.every(
        (g) => g.simulated && g.name === 'NVIDIA H100 80GB HBM3' && g.memoryTotalMiB === 81559,
      ),
    ).toBe(true);
    expect(snap.samples).toHaveLength(4);
    expect(snap.topology?.links.GPU0?.GPU1?.raw).toBe('NV18');
  });

  it('is used when nvidia-smi fails (no driver), sized by the user', async () => {
    const run: CommandRunner = () =>
      Promise.reject(
        new CommandFailedError(
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver",
          '9',
          '',
        ),
      );
    const snap = await createGpuInventory({
      run,
      simulatedCount: 8,
      simulatedModel: 'NVIDIA H200',
    }).start();
    expect(snap.simulated).toBe(true);
    expect(snap.simulatedReason).toMatch(/couldn't communicate/);
    expect(snap.gpus).toHaveLength(8);
    expect(snap.gpus[7]?.memoryTotalMiB).toBe(143771);
  });

  it('can be forced even where nvidia-smi works', async () => {
    const calls: string[][] = [];
    const snap = await createGpuInventory({
      run: fixtureRunner('h100-x1', calls),
      isSimulationForced: true,
      simulatedCount: 2,
    }).start();
    expect(snap.simulated).toBe(true);
    expect(calls).toEqual([]);
  });

  it('samples reflect who holds a GPU and the load of its simulated worker', async () => {
    let load = 0;
    const inv = createGpuInventory({
      isSimulationForced: true,
      holders: () => ({ '1': [{ workerId: 'gen0', role: 'generation' }] }),
      loadOf: (i) => (i === 1 ? load : 0),
      now: () => 1000,
    });
    const idle = await inv.start();
    inv.stop();
    expect(idle.samples[0]).toMatchObject({ memoryUsedMiB: 0, utilizationPct: 0 });
    expect(idle.samples[1]?.memoryUsedMiB).toBeGreaterThan(0.85 * 81559);
    expect(idle.samples[1]?.utilizationPct).toBe(0);
    load = 0.8;
    const busy = await inv.refresh();
    expect(busy.samples[1]?.utilizationPct).toBeGreaterThan(70);
    expect(busy.samples[1]?.powerDrawW).toBeGreaterThan(idle.samples[1]?.powerDrawW ?? Infinity);
    expect(busy.samples[0]?.utilizationPct).toBe(0);
  });

  it('moves over time but stays within the board limits', () => {
    const gpu = {
      index: 0,
      uuid: 'u',
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: '',
      memoryTotalMiB: 81559,
      powerLimitW: 700,
      maxSmClockMHz: 1980,
      driverVersion: null,
      computeCap: '9.0',
      architecture: 'Hopper',
      simulated: true,
    };
    const holders = [{ workerId: 'w', role: 'context' as const }];
    const a = simulatedSample(gpu, holders, 0.5, 0);
    const b = simulatedSample(gpu, holders, 0.5, 2500);
    expect(a.powerDrawW).not.toBe(b.powerDrawW);
    for (const s of [a, b, simulatedSample(gpu, holders, 1, 777)]) {
      expect(s.memoryUsedMiB).toBeLessThanOrEqual(81559);
      expect(s.utilizationPct).toBeLessThanOrEqual(100);
      expect(s.powerDrawW).toBeLessThanOrEqual(700);
    }
  });

  it('PCIe cards get NODE within a NUMA half and SYS across', () => {
    const t = simulatedTopology(4, 'NVIDIA L40S');
    expect(t.links.GPU0?.GPU1?.raw).toBe('NODE');
    expect(t.links.GPU0?.GPU2?.raw).toBe('SYS');
  });
});

describe('execFileRunner', () => {
  it('returns stdout, and ENOENT / time-out as coded errors', async () => {
    await expect(
      execFileRunner(process.execPath, ['-e', 'process.stdout.write("a, b")'], 5000),
    ).resolves.toBe('a, b');
    await expect(execFileRunner('/nonexistent/nvidia-smi', [], 5000)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(
      execFileRunner(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], 300),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });
});
