import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  cellNumber,
  cellText,
  parseComputeAppsCsv,
  parseGpuQueryCsv,
  parseNvidiaSmiXml,
  parseTopoLink,
  parseTopoMatrix,
} from '../../../../shared/logic/gpu-parse';

const FIX = join(__dirname, '../../../fixtures/nvidia-smi');
const read = (dir: string, file: string): string => readFileSync(join(FIX, dir, file), 'utf8');

describe('cells', () => {
  it.each<[string, string | null, number | null]>([
    ['81559 MiB', '81559 MiB', 81559],
    ['131.98 W', '131.98 W', 131.98],
    ['0 %', '0 %', 0],
    ['39', '39', 39],
    ['[N/A]', null, null],
    ['N/A', null, null],
    ['[Not Supported]', null, null],
    ['  ', null, null],
    ['-8 C', '-8 C', -8],
    ['9.0', '9.0', 9],
  ])('%j', (raw, text, num) => {
    expect(cellText(raw)).toBe(text);
    expect(cellNumber(raw)).toBe(num);
  });
});

const H100 = {
  index: 0,
  uuid: 'GPU-70431999-2302-5d30-e742-174aa217640c',
  name: 'NVIDIA H100 80GB HBM3',
  pciBusId: '00000000:00:06.0',
  memoryTotalMiB: 81559,
  powerLimitW: 700,
  maxSmClockMHz: 1980,
  driverVersion: '580.159.04',
  computeCap: '9.0',
  architecture: null,
  simulated: false,
};
const H100_SAMPLE = {
  index: 0,
  atMs: 5,
  memoryUsedMiB: 0,
  memoryTotalMiB: 81559,
  utilizationPct: 0,
  memoryUtilizationPct: 0,
  temperatureC: 39,
  powerDrawW: 131.98,
  powerLimitW: 700,
  smClockMHz: 1980,
};

describe('parseGpuQueryCsv on the real H100 capture', () => {
  it.each(['query-gpu.csv', 'query-gpu-header.csv'])('%s', (file) => {
    const r = parseGpuQueryCsv(read('h100-x1', file), 5);
    expect(r.gpus).toEqual([H100]);
    expect(r.samples).toEqual([H100_SAMPLE]);
  });

  it('maps header columns by name when no field list matches (clocks.current.sm alias)', () => {
    const r = parseGpuQueryCsv(read('h100-x1', 'query-gpu-header.csv'), 5, ['index', 'name']);
    expect(r.samples[0]?.smClockMHz).toBe(1980);
    expect(r.gpus[0]?.memoryTotalMiB).toBe(81559);
  });

  it('returns nothing for empty output', () => {
    expect(parseGpuQueryCsv('\n', 1)).toEqual({ gpus: [], samples: [] });
  });
});

describe('parseGpuQueryCsv on the synthetic 4-GPU box', () => {
  it.each(['query-gpu.csv', 'query-gpu-header.csv'])('%s field by field, [N/A] as null', (file) => {
    const r = parseGpuQueryCsv(read('synthetic-4gpu-nvlink', file), 9);
    expect(r.gpus.map((g) => [g.index, g.uuid.slice(0, 12), g.pciBusId, g.powerLimitW])).toEqual([
      [0, 'GPU-00000000', '00000000:18:00.0', 700],
      [1, 'GPU-11111111', '00000000:2A:00.0', 700],
      [2, 'GPU-22222222', '00000000:9A:00.0', 700],
      [3, 'GPU-33333333', '00000000:DB:00.0', null],
    ]);
    expect(
      r.samples.map((s) => [
        s.memoryUsedMiB,
        s.utilizationPct,
        s.memoryUtilizationPct,
        s.temperatureC,
        s.powerDrawW,
        s.smClockMHz,
      ]),
    ).toEqual([
      [73210, 97, 61, 64, 612.4, 1980],
      [70112, 42, 30, 51, 389.07, 1755],
      [0, 0, 0, 33, null, 345],
      [512, null, null, 35, 72.15, 1980],
    ]);
  });
});

describe('parseComputeAppsCsv', () => {
  it('reads no process from the header-only H100 capture', () => {
    expect(parseComputeAppsCsv(read('h100-x1', 'query-apps.csv'))).toEqual([]);
  });

  it('reads the synthetic processes with units and [N/A]', () => {
    expect(parseComputeAppsCsv(read('synthetic-4gpu-nvlink', 'query-apps.csv'))).toEqual([
      {
        pid: 41235,
        processName: '/usr/bin/python3',
        gpuUuid: 'GPU-00000000-0000-4000-8000-000000000000',
        usedMemoryMiB: 72680,
      },
      {
        pid: 41236,
        processName: '/usr/bin/python3',
        gpuUuid: 'GPU-11111111-1111-4111-8111-111111111111',
        usedMemoryMiB: 69582,
      },
      {
        pid: 41300,
        processName: 'trtllm-serve',
        gpuUuid: 'GPU-33333333-3333-4333-8333-333333333333',
        usedMemoryMiB: null,
      },
    ]);
  });

  it('reads noheader output with the default field order', () => {
    expect(parseComputeAppsCsv('123, python, GPU-abc, 100\n')).toEqual([
      { pid: 123, processName: 'python', gpuUuid: 'GPU-abc', usedMemoryMiB: 100 },
    ]);
  });
});

describe('parseTopoLink', () => {
  it.each<[string, string, number | null]>([
    [' X ', 'self', null],
    ['NV18', 'nvlink', 18],
    ['NV4', 'nvlink', 4],
    ['PIX', 'pix', null],
    ['PXB', 'pxb', null],
    ['PHB', 'phb', null],
    ['NODE', 'node', null],
    ['SYS', 'sys', null],
    ['??', 'unknown', null],
  ])('%j -> %s', (raw, kind, count) => {
    expect(parseTopoLink(raw)).toEqual({ kind, nvlinkCount: count, raw: raw.trim() });
  });
});

describe('parseTopoMatrix', () => {
  it('reads the real single-H100 matrix with its ANSI header and double tab', () => {
    const t = parseTopoMatrix(read('h100-x1', 'topo-m.txt'));
    expect(t.devices).toEqual(['GPU0']);
    expect(t.links).toEqual({ GPU0: { GPU0: { kind: 'self', nvlinkCount: null, raw: 'X' } } });
    expect(t.gpus).toEqual([
      { device: 'GPU0', index: 0, cpuAffinity: '0-15', numaAffinity: '0', gpuNumaId: null },
    ]);
    expect(t.nicNames).toEqual({});
  });

  it('reads the synthetic NVLink matrix with NICs', () => {
    const t = parseTopoMatrix(read('synthetic-4gpu-nvlink', 'topo-m.txt'));
    expect(t.devices).toEqual(['GPU0', 'GPU1', 'GPU2', 'GPU3', 'NIC0', 'NIC1']);
    const raw = (row: string): string[] => t.devices.map((d) => t.links[row]?.[d]?.raw ?? '?');
    expect(raw('GPU0')).toEqual(['X', 'NV18', 'NV18', 'NV18', 'PIX', 'SYS']);
    expect(raw('GPU2')).toEqual(['NV18', 'NV18', 'X', 'NV12', 'SYS', 'NODE']);
    expect(raw('NIC1')).toEqual(['SYS', 'SYS', 'NODE', 'PHB', 'SYS', 'X']);
    expect(t.links.GPU3?.GPU2).toEqual({ kind: 'nvlink', nvlinkCount: 12, raw: 'NV12' });
    expect(t.gpus.map((g) => [g.index, g.cpuAffinity, g.numaAffinity, g.gpuNumaId])).toEqual([
      [0, '0-55,112-167', '0', null],
      [1, '0-55,112-167', '0', null],
      [2, '56-111,168-223', '1', null],
      [3, '56-111,168-223', '1', null],
    ]);
    expect(t.nicNames).toEqual({ NIC0: 'mlx5_0', NIC1: 'mlx5_1' });
  });

  it('returns an empty topology for output without a matrix', () => {
    expect(parseTopoMatrix('NVIDIA-SMI has failed').devices).toEqual([]);
  });
});

describe('parseNvidiaSmiXml', () => {
  it('reads what the CSV lacks from the real H100 capture', () => {
    const x = parseNvidiaSmiXml(read('h100-x1', 'nvidia-smi-q.xml'));
    expect(x.driverVersion).toBe('580.159.04');
    expect(x.cudaVersion).toBe('13.0');
    expect(x.gpus).toEqual([
      {
        pciBusId: '00000000:00:06.0',
        productName: 'NVIDIA H100 80GB HBM3',
        architecture: 'Hopper',
        uuid: 'GPU-70431999-2302-5d30-e742-174aa217640c',
        minorNumber: 0,
        memoryTotalMiB: 81559,
        memoryReservedMiB: 480,
        memoryUsedMiB: 0,
        migMode: 'Disabled',
        computeMode: 'Default',
        persistenceMode: 'Enabled',
        temperatureC: 39,
        memoryTemperatureC: 45,
        powerDrawW: 132.1,
        powerLimitW: 700,
        maxPowerLimitW: 700,
        processes: [],
      },
    ]);
  });

  it('reads processes, entities and N/A values', () => {
    const xml = `<?xml version="1.0" ?><nvidia_smi_log><driver_version>N/A</driver_version>
      <gpu id="00000000:18:00.0"><product_name>A &amp; B</product_name><uuid>GPU-1</uuid>
      <processes><process_info><pid>77</pid><type>C</type><process_name>python3</process_name><used_memory>1024 MiB</used_memory></process_info></processes>
      </gpu></nvidia_smi_log>`;
    const x = parseNvidiaSmiXml(xml);
    expect(x.driverVersion).toBeNull();
    expect(x.gpus[0]?.productName).toBe('A & B');
    expect(x.gpus[0]?.pciBusId).toBe('00000000:18:00.0');
    expect(x.gpus[0]?.processes).toEqual([
      { pid: 77, processName: 'python3', gpuUuid: 'GPU-1', usedMemoryMiB: 1024 },
    ]);
  });
});
