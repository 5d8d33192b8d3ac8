// The topology channels with the real topology store behind them, over the in-memory transport and over
// HTTP + SSE: same plans, versions, diffs, CONFIG_INVALID details and topology:applied events.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { TopologyService } from '../../electron/core/topology/topology-service';
import { TopologyStore } from '../../electron/core/topology/topology-store';
import { type ApiClient } from '../../shared/api/client';
import type { ApiBackend, TopologyAppliedEvent } from '../../shared/api/contract';
import { AppError } from '../../shared/api/envelope';
import { validTopology, withEdit } from '../unit/core/topology/fixture-topology';
import { CONTRACT_TRANSPORTS, type TransportHarness } from './contract-transports';

function topologyBackend(dataDir: string): ApiBackend {
  const listeners = new Set<(e: TopologyAppliedEvent) => void>();
  const service = new TopologyService({
    store: new TopologyStore({ dataDir, now: () => 1234 }),
    applier: { apply: () => Promise.resolve() },
    isPortFree: () => Promise.resolve(true),
    emit: (e) => {
      for (const l of listeners) l(e);
    },
    now: () => 1234,
  });
  return {
    // In the backend, apply, rollback and import are cluster commands over these same service methods.
    api: {
      ...service.handlers(),
      'topology:apply': (f) => service.apply(f),
      'topology:rollback': (v) => service.rollback(v),
      'topology:import': (f) => service.import(f),
    },
    onEvent: (name, listener) => {
      if (name !== 'topology:applied') return () => undefined;
      const l = listener as (e: TopologyAppliedEvent) => void;
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

const transports = CONTRACT_TRANSPORTS.map(({ name, connect }) => ({
  name,
  make: (backend: ApiBackend): Promise<TransportHarness> => connect(backend),
}));

describe.each(transports)('topology channels over $name', ({ make }) => {
  let dataDir: string | undefined;
  let h: TransportHarness | undefined;
  const client = async (): Promise<ApiClient> => {
    dataDir = mkdtempSync(join(tmpdir(), 'topo-contract-'));
    h = await make(topologyBackend(dataDir));
    return h.client;
  };
  afterEach(async () => {
    await h?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies, lists history, diffs and rolls back, with an event per apply', async () => {
    const c = await client();
    const events: number[] = [];
    const off = c.on('topology:applied', (e) => events.push(e.version));
    await c.whenConnected();
    expect(await c.invoke('topology:get')).toEqual({
      name: 'default',
      files: {},
      console: null,
      appliedVersion: null,
    });
    const first = await c.invoke('topology:apply', validTopology());
    expect(first.plan).toEqual({
      start: ['ctx0', 'gen0'],
      restart: [],
      stop: [],
      unchanged: [],
      proxyChanged: true,
    });
    await c.invoke('topology:apply', withEdit('gen.yaml', '2048', '4096'));
    expect(
      (await c.invoke('topology:history')).map((v) => [v.version, v.note, v.appliedAtMs]),
    ).toEqual([
      [2, 'apply', 1234],
      [1, 'apply', 1234],
    ]);
    expect(
      (await c.invoke('topology:diff', 1, 2))
        .filter((d) => d.status === 'changed')
        .map((d) => d.file),
    ).toEqual(['gen.yaml']);
    expect((await c.invoke('topology:rollback', 1)).version).toBe(3);
    await expect.poll(() => events, { timeout: 5000 }).toEqual([1, 2, 3]);
    off();
  });

  it('answers CONFIG_INVALID with every issue in details', async () => {
    const c = await client();
    const err = await c
      .invoke('topology:apply', withEdit('gen.yaml', 'backend: UCX', 'backend: NIXL'))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFIG_INVALID');
    expect((err as AppError).details).toEqual({
      issues: [
        {
          file: 'gen.yaml',
          line: 2,
          column: 3,
          path: 'cache_transceiver_config.backend',
          message:
            'worker gen0 uses backend NIXL but context worker ctx0 uses UCX; KV transfer needs the same backend on both roles',
          severity: 'error',
        },
      ],
    });
  });

  it('validates, imports and exports', async () => {
    const c = await client();
    const report = await c.invoke(
      'topology:validate',
      withEdit('console.yaml', 'gpus: [1]', 'gpus: [0]'),
    );
    expect([report.ok, report.issues.map((i) => i.severity)]).toEqual([true, ['warning']]);
    const imported = await c.invoke('topology:import', {
      'proxy.yaml': validTopology()['disagg_config.yaml']!,
      'ctx.yaml': validTopology()['ctx.yaml']!,
      'gen.yaml': validTopology()['gen.yaml']!,
    });
    expect(Object.keys(imported.files).sort()).toEqual([
      'console.yaml',
      'ctx.yaml',
      'disagg_config.yaml',
      'gen.yaml',
    ]);
    await expect(c.invoke('topology:export', { format: 'launch-script' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await c.invoke('topology:apply', imported.files);
    const [script] = await c.invoke('topology:export', { format: 'slurm-script' });
    expect(script?.name).toBe('slurm.sh');
    expect(script?.text).toContain('trtllm-llmapi-launch trtllm-serve');
  });
});
