// One behaviour suite for the console API, run over the in-memory transport and over HTTP + SSE against a
// real api-server: both must give the same values, the same error codes and messages, and the same events.

import { afterEach, describe, expect, it } from 'vitest';

import type { WorkerView } from '../../shared/model/worker-view';
import { CONTRACT_TRANSPORTS, expectAppError, type TransportHarness } from './contract-transports';
import { createFakeBackend, type FakeBackend } from './fake-backend';

interface Harness extends TransportHarness {
  backend: FakeBackend;
  unexpected: unknown[];
}

const transports = CONTRACT_TRANSPORTS.map(({ name, connect }) => ({
  name,
  make: async (): Promise<Harness> => {
    const backend = createFakeBackend();
    const unexpected: unknown[] = [];
    const h = await connect(backend, (err) => unexpected.push(err));
    return { ...h, backend, unexpected };
  },
}));

describe.each(transports)('console API contract over $name', ({ make }) => {
  let h: Harness | undefined;
  const harness = async (): Promise<Harness> => (h = await make());
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('returns handler values unchanged', async () => {
    const { client } = await harness();
    const workers = await client.invoke('workers:list');
    expect(workers.map((w) => [w.id, w.role, w.status.state])).toEqual([
      ['ctx0', 'context', 'ready'],
    ]);
    expect(await client.invoke('proxy:info')).toEqual({
      url: 'http://127.0.0.1:8000',
      host: '127.0.0.1',
      port: 8000,
      isRunning: true,
    });
    expect(await client.invoke('metrics:csv')).toBe('atMs,requests\n1000,3\n');
  });

  it('passes validated arguments, optional ones included', async () => {
    const { client, backend } = await harness();
    const lines = await client.invoke('workers:logs', 'ctx0', { search: 'LOAD', tail: 1 });
    expect(lines.map((l) => l.text)).toEqual(['Loading weights 50%']);
    expect(backend.calls.at(-1)).toEqual({
      channel: 'workers:logs',
      args: ['ctx0', { search: 'LOAD', tail: 1 }],
    });
  });

  it('answers null for a void channel', async () => {
    const { client } = await harness();
    await expect(client.invoke('workers:remove', 'ctx0')).resolves.toBeNull();
  });

  it.each([
    {
      name: 'wrong type',
      channel: 'workers:restart',
      args: [42],
      message: 'argument 1: must be a string, got 42',
    },
    {
      name: 'too many arguments',
      channel: 'workers:list',
      args: ['x'],
      message: 'arguments: expected at most 0, got 1',
    },
    {
      name: 'missing required field',
      channel: 'workers:add',
      args: [{ role: 'context', gpus: [0], engine: 'simulated' }],
      message: 'argument 1.model: must be a string, got undefined',
    },
    {
      name: 'unknown field',
      channel: 'workers:add',
      args: [{ role: 'context', gpus: [0], model: 'm', engine: 'simulated', evil: true }],
      message: 'argument 1.evil: is not a known field',
    },
    {
      name: 'bad enum',
      channel: 'workers:add',
      args: [{ role: 'prefill', gpus: [0], model: 'm', engine: 'simulated' }],
      message: "argument 1.role: must be one of 'context', 'generation', got \"prefill\"",
    },
    {
      name: 'bad nested item',
      channel: 'workers:add',
      args: [{ role: 'context', gpus: [0, -1], model: 'm', engine: 'simulated' }],
      message: 'argument 1.gpus[1]: must be between 0 and 1023, got -1',
    },
    {
      name: 'file name with a directory',
      channel: 'topology:validate',
      args: [{ '../x.yaml': '' }],
      message: 'argument 1 key: must match /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/',
    },
  ])(
    'rejects invalid arguments ($name) with INVALID_ARGUMENT before the handler runs',
    async ({ channel, args, message }) => {
      const { transport, backend } = await harness();
      const env = await transport.invoke(channel, args);
      expect(env).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', message } });
      expect(backend.calls).toEqual([]);
    },
  );

  it('re-throws AppError with code, message and details', async () => {
    const { client } = await harness();
    const err = await expectAppError(client.invoke('workers:remove', 'nope'));
    expect([err.code, err.message, err.details]).toEqual([
      'WORKER_NOT_FOUND',
      "no worker 'nope'",
      { id: 'nope' },
    ]);
  });

  it('maps an unexpected error to INTERNAL with its message only, and reports it', async () => {
    const { client, unexpected } = await harness();
    const err = await expectAppError(client.invoke('workers:stop', 'ctx0'));
    expect([err.code, err.message, err.details]).toEqual([
      'INTERNAL',
      'disk on fire while stopping ctx0',
      undefined,
    ]);
    expect(unexpected).toHaveLength(1);
    expect((unexpected[0] as Error).stack).toContain('disk on fire');
  });

  it('answers NOT_SUPPORTED for a channel the backend does not implement', async () => {
    const { client } = await harness();
    const err = await expectAppError(client.invoke('settings:set', { proxyPort: 8000 }));
    expect(err.code).toBe('NOT_SUPPORTED');
  });

  it('answers UNKNOWN_CHANNEL for a name outside the contract', async () => {
    const { transport } = await harness();
    expect(await transport.invoke('shell:exec', ['rm -rf /'])).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_CHANNEL', message: "unknown channel 'shell:exec'" },
    });
  });

  it('delivers events after whenConnected, and none after unsubscribing', async () => {
    const { client, backend } = await harness();
    const seen: WorkerView[] = [];
    const off = client.on('workers:statusChanged', (v) => seen.push(v));
    await client.whenConnected();
    const added = await client.invoke('workers:add', {
      role: 'generation',
      gpus: [1],
      model: 'm',
      engine: 'simulated',
      id: 'gen0',
      port: 8002,
    });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(1);
    expect(seen[0]).toEqual(added);
    off();
    await expect.poll(() => backend.listenerCount(), { timeout: 5000 }).toBe(0);
    backend.emit('topology:applied', {
      version: 1,
      plan: { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false },
      atMs: 1,
    });
    expect(seen).toHaveLength(1);
  });

  it('delivers each event to every subscriber of its name only', async () => {
    const { client, backend } = await harness();
    const a: number[] = [];
    const b: number[] = [];
    const offA = client.on('topology:applied', (e) => a.push(e.version));
    const offB = client.on('gpus:sampled', (e) => b.push(e.atMs));
    await client.whenConnected();
    backend.emit('topology:applied', {
      version: 7,
      plan: { start: ['ctx0'], restart: [], stop: [], unchanged: [], proxyChanged: true },
      atMs: 5,
    });
    backend.emit('gpus:sampled', { atMs: 99, samples: [] });
    await expect.poll(() => [a, b], { timeout: 5000 }).toEqual([[7], [99]]);
    offA();
    offB();
  });
});
