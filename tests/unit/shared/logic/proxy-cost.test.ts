import { describe, expect, it } from 'vitest';

import {
  costBetween,
  floorFromBenchJson,
  meterReading,
  sumSamples,
} from '../../../../shared/logic/proxy-cost';
import type { ProxyCpuSample } from '../../../../shared/model/proxy-cost';

const sample = (
  cpuUs: number,
  requests: number,
  tokens: number,
  processes = 1,
): ProxyCpuSample => ({
  cpuUs,
  requests,
  tokens,
  scope: 'thread',
  processes,
});

describe('costBetween', () => {
  it('divides the CPU of the span by its requests and by its tokens', () => {
    const c = costBetween(sample(1_000_000, 100, 3_200), sample(1_900_000, 110, 3_520));
    expect(c).toEqual({
      cpuUs: 900_000,
      requests: 10,
      tokens: 320,
      cpuUsPerRequest: 90_000,
      cpuUsPerToken: 900_000 / 320,
    });
  });

  it('without a previous sample, covers everything since the proxy started', () => {
    expect(costBetween(null, sample(80_000, 1_000, 4_000))).toMatchObject({
      cpuUsPerRequest: 80,
      cpuUsPerToken: 20,
    });
  });

  it('has no per-request or per-token figure where nothing was counted', () => {
    const idle = costBetween(sample(500, 7, 0), sample(900, 7, 0));
    expect(idle.cpuUs).toBe(400);
    expect(idle.cpuUsPerRequest).toBeNull();
    expect(idle.cpuUsPerToken).toBeNull();
  });

  it('after a restart (counters went down), counts from the new start only', () => {
    const c = costBetween(sample(5_000_000, 900, 100), sample(30_000, 3, 12));
    expect(c).toMatchObject({ cpuUs: 30_000, requests: 3, cpuUsPerRequest: 10_000, tokens: 12 });
  });

  it('a fleet that changed size counts from the new samples alone', () => {
    const c = costBetween(sample(100, 10, 0, 2), sample(150, 12, 0, 4));
    expect(c).toMatchObject({ cpuUs: 150, requests: 12 });
  });
});

describe('sumSamples', () => {
  it('adds a fleet’s processes', () => {
    const a = sample(100, 2, 10);
    const b = { ...sample(300, 4, 30), scope: 'process' as const };
    expect(sumSamples([a, b])).toEqual({
      cpuUs: 400,
      requests: 6,
      tokens: 40,
      scope: 'process',
      processes: 2,
    });
    expect(sumSamples([a, a])?.scope).toBe('thread');
    expect(sumSamples([])).toBeNull();
  });
});

describe('floorFromBenchJson', () => {
  const bench = {
    date: '2026-12-07T10:00:00.000Z',
    machine: '2 x Xeon',
    run1: {
      'disagg-console proxy': { cpuUsPerReq: 76.8, cpuUsPerToken: null },
      'bare two-hop relay': { cpuUsPerReq: 108.6 },
    },
    run2: {
      'disagg-console proxy': { cpuUsPerToken: 14.8 },
      'bare two-hop relay': { cpuUsPerToken: 19.0 },
    },
  };

  it('takes per request from run 1 and per token from run 2, proxy and bare relay', () => {
    expect(floorFromBenchJson(bench, '/d/proxy-bench.json')).toEqual({
      file: '/d/proxy-bench.json',
      date: '2026-12-07T10:00:00.000Z',
      machine: '2 x Xeon',
      relayUsPerRequest: 108.6,
      relayUsPerToken: 19.0,
      proxyUsPerRequest: 76.8,
      proxyUsPerToken: 14.8,
    });
  });

  it('a run without streams keeps the per-request floor only', () => {
    const f = floorFromBenchJson({ ...bench, run2: undefined }, 'f.json');
    expect(f.relayUsPerRequest).toBe(108.6);
    expect(f.relayUsPerToken).toBeNull();
  });

  it('names the file when it is not a full bench:proxy result', () => {
    expect(() => floorFromBenchJson([1, 2], 'x.json')).toThrow(/x\.json: .*no bare relay/);
    expect(() => floorFromBenchJson('text', 'y.json')).toThrow(/y\.json: not a bench:proxy/);
    expect(() => floorFromBenchJson({ longPrompts: [] }, 'z.json')).toThrow(/z\.json/);
  });
});

describe('meterReading', () => {
  it('shows the span since the previous sample when it served requests', () => {
    const r = meterReading(sample(1_000, 10, 0), sample(3_000, 30, 0));
    expect(r).toMatchObject({ span: 'recent', cost: { requests: 20, cpuUsPerRequest: 100 } });
  });

  it('falls back to since start when the span was idle, first, or after a restart', () => {
    expect(meterReading(sample(1_000, 10, 0), sample(1_200, 10, 0))).toMatchObject({
      span: 'since start',
      cost: { cpuUsPerRequest: 120 },
    });
    expect(meterReading(null, sample(500, 5, 0)).span).toBe('since start');
    expect(meterReading(sample(9_000, 90, 0), sample(400, 4, 0))).toMatchObject({
      span: 'since start',
      cost: { cpuUsPerRequest: 100 },
    });
  });
});
