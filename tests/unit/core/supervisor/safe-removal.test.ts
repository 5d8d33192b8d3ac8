import { describe, expect, it, vi } from 'vitest';

import {
  removeWorkerSafely,
  type SafeRemovalPorts,
} from '../../../../electron/core/supervisor/safe-removal';

function fakePorts(over: Partial<SafeRemovalPorts> = {}): {
  ports: SafeRemovalPorts;
  calls: string[];
} {
  const calls: string[] = [];
  const ports: SafeRemovalPorts = {
    stopRouting: (id) => {
      calls.push(`stopRouting ${id}`);
      return Promise.resolve();
    },
    inFlight: () => Promise.resolve(0),
    deregister: (id) => {
      calls.push(`deregister ${id}`);
      return Promise.resolve();
    },
    isKnownToProxy: () => Promise.resolve(false),
    stopProcess: (id) => {
      calls.push(`stopProcess ${id}`);
      return Promise.resolve();
    },
    ...over,
  };
  return { ports, calls };
}

describe('removeWorkerSafely', () => {
  it('runs the steps in upstream order: stop routing, drain, deregister, wait for the proxy, stop', async () => {
    let inFlight = 2;
    let known = true;
    const { ports, calls } = fakePorts({
      inFlight: () => {
        calls.push(`inFlight ${inFlight}`);
        return Promise.resolve(inFlight--);
      },
      isKnownToProxy: () => {
        calls.push(`known ${known}`);
        const k = known;
        known = false;
        return Promise.resolve(k);
      },
    });
    const report = await removeWorkerSafely('gen1', ports, { pollIntervalMs: 5 });
    expect(calls).toEqual([
      'stopRouting gen1',
      'inFlight 2',
      'inFlight 1',
      'inFlight 0',
      'deregister gen1',
      'known true',
      'known false',
      'stopProcess gen1',
    ]);
    expect(report.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['stopRouting', 'done'],
      ['drain', 'done'],
      ['deregister', 'done'],
      ['proxyDropped', 'done'],
      ['stopProcess', 'done'],
    ]);
    expect(report.cutOffRequests).toBe(0);
  });

  it('bounds the drain and the wait for the proxy, and still stops the process', async () => {
    const { ports, calls } = fakePorts({
      inFlight: () => Promise.resolve(3),
      isKnownToProxy: () => Promise.resolve(true),
    });
    // A fake clock: both 100 ms bounds together must end the removal within 250 ms of (fake) time.
    vi.useFakeTimers();
    let isSettled = false;
    const removal = removeWorkerSafely('ctx0', ports, {
      drainTimeoutMs: 100,
      proxyDropTimeoutMs: 100,
      pollIntervalMs: 10,
    }).finally(() => {
      isSettled = true;
    });
    try {
      await vi.advanceTimersByTimeAsync(250);
    } finally {
      vi.useRealTimers();
    }
    expect(isSettled).toBe(true);
    const report = await removal;
    expect(report.cutOffRequests).toBe(3);
    expect(report.steps.find((s) => s.name === 'drain')).toMatchObject({
      outcome: 'timeout',
      detail: '3 request(s) still in flight after 100 ms',
    });
    expect(report.steps.find((s) => s.name === 'proxyDropped')?.outcome).toBe('timeout');
    expect(calls.at(-1)).toBe('stopProcess ctx0');
  });

  it('reports a failing step and goes on (e.g. etcd down: the worker deletes its own key on a clean shutdown)', async () => {
    const steps: string[] = [];
    const { ports, calls } = fakePorts({
      deregister: () => Promise.reject(new Error('etcd unavailable')),
    });
    const report = await removeWorkerSafely('gen0', ports, {
      onStep: (s) => steps.push(`${s.name}:${s.outcome}`),
    });
    expect(report.steps.find((s) => s.name === 'deregister')).toMatchObject({
      outcome: 'failed',
      detail: 'etcd unavailable',
    });
    expect(steps).toEqual([
      'stopRouting:done',
      'drain:done',
      'deregister:failed',
      'proxyDropped:done',
      'stopProcess:done',
    ]);
    expect(calls.at(-1)).toBe('stopProcess gen0');
  });
});
