import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ProxyCpuMeter, readThreadCpu } from '../../../../electron/core/proxy/cpu-meter';
import {
  PROXY_BENCH_FILE,
  proxyCostReport,
  readCostFloor,
} from '../../../../electron/core/proxy-cost-report';

describe('ProxyCpuMeter', () => {
  it('counts finished requests and their completion tokens beside the CPU reading', () => {
    let us = 1_000;
    const meter = new ProxyCpuMeter(() => ({ us, scope: 'thread' }));
    meter.count([
      { completionTokens: 32 },
      { completionTokens: undefined },
      { completionTokens: 4 },
    ]);
    us = 2_500;
    meter.count([{ completionTokens: 1 }]);
    expect(meter.sample()).toEqual({
      cpuUs: 2_500,
      requests: 4,
      tokens: 37,
      scope: 'thread',
      processes: 1,
    });
  });

  it('reads the thread’s ns on CPU from schedstat as µs, and nothing when the file is missing', () => {
    expect(readThreadCpu(() => '123456789 5000 42\n')).toEqual({
      us: 123_456.789,
      scope: 'thread',
    });
    expect(
      readThreadCpu(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
    expect(readThreadCpu(() => 'garbage')).toBeUndefined();
  });

  it('forThread reads a real, growing counter on this machine', () => {
    const meter = ProxyCpuMeter.forThread();
    const a = meter.sample().cpuUs;
    let x = 0;
    for (let i = 0; i < 2_000_000; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    expect(meter.sample().cpuUs).toBeGreaterThan(a);
  });
});

describe('proxy:cost floor file', () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), 'proxy-cost-'));

  it('no saved benchmark: no floor and no error', async () => {
    expect(await readCostFloor(dir())).toEqual({ floor: null, floorError: null });
  });

  it('a file that is not JSON: the error names it', async () => {
    const d = dir();
    writeFileSync(join(d, PROXY_BENCH_FILE), '{ not json');
    const r = await readCostFloor(d);
    expect(r.floor).toBeNull();
    expect(r.floorError).toContain(join(d, PROXY_BENCH_FILE));
  });

  it('the report joins the proxy’s sample and the saved floor', async () => {
    const d = dir();
    writeFileSync(
      join(d, PROXY_BENCH_FILE),
      JSON.stringify({
        date: 'd',
        machine: 'm',
        run1: { 'bare two-hop relay': { cpuUsPerReq: 100 } },
      }),
    );
    const sample = { cpuUs: 10, requests: 1, tokens: 0, scope: 'thread' as const, processes: 1 };
    const r = await proxyCostReport({ cpuSample: () => Promise.resolve(sample) }, d);
    expect(r.sample).toBe(sample);
    expect(r.floor?.relayUsPerRequest).toBe(100);
    expect(r.floorError).toBeNull();
  });
});
