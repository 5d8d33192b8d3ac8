// The recent-requests channels with the real request log behind them, over the in-memory transport and over
// HTTP + SSE: same lists, filters, details, NOT_FOUND and INVALID_ARGUMENT errors, and requests:recorded events.

import { afterEach, describe, expect, it } from 'vitest';

import { RequestLog } from '../../electron/core/metrics/request-log';
import type { ProxyRequestRecord } from '../../electron/core/proxy/types';
import { type ApiClient } from '../../shared/api/client';
import type { ApiBackend } from '../../shared/api/contract';
import type { RequestsRecordedEvent } from '../../shared/model/requests';
import { CONTRACT_TRANSPORTS, expectAppError, type TransportHarness } from './contract-transports';

interface Harness extends TransportHarness {
  log: RequestLog;
}

function rec(id: number, patch: Partial<ProxyRequestRecord> = {}): ProxyRequestRecord {
  return {
    id,
    endpoint: 'completions',
    isStream: true,
    receivedAt: 1_700_000_000_000 + id,
    ctxSentAt: 1_700_000_000_001 + id,
    ctxAnsweredAt: 1_700_000_000_020 + id,
    genSentAt: 1_700_000_000_021 + id,
    firstByteAt: 1_700_000_000_030 + id,
    tokenTimes: [1_700_000_000_040 + id, 1_700_000_000_050.5 + id],
    doneAt: 1_700_000_000_055 + id,
    ctxWorker: 'http://127.0.0.1:8001',
    genWorker: 'http://127.0.0.1:8002',
    promptTokens: 7,
    completionTokens: 2,
    outcome: 'ok',
    status: 200,
    retries: 0,
    ...patch,
  };
}

function requestsBackend(): { backend: ApiBackend; log: RequestLog } {
  const listeners = new Set<(e: RequestsRecordedEvent) => void>();
  const log = new RequestLog({
    workerIdOf: (url) =>
      ({ 'http://127.0.0.1:8001': 'ctx0', 'http://127.0.0.1:8002': 'gen0' })[url] ?? null,
    onRecorded: (e) => {
      for (const l of listeners) l(e);
    },
    eventIntervalMs: 50,
  });
  return {
    log,
    backend: {
      api: log.handlers(),
      onEvent: (name, listener) => {
        if (name !== 'requests:recorded') return () => undefined;
        const l = listener as (e: RequestsRecordedEvent) => void;
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
  };
}

const transports = CONTRACT_TRANSPORTS.map(({ name, connect }) => ({
  name,
  make: async (): Promise<Harness> => {
    const { backend, log } = requestsBackend();
    return { ...(await connect(backend)), log };
  },
}));

describe.each(transports)('requests channels over $name', ({ make }) => {
  let h: Harness | undefined;
  afterEach(async () => {
    h?.log.dispose();
    await h?.close();
    h = undefined;
  });

  it('lists newest first with filters and returns one request with its whole timeline', async () => {
    h = await make();
    h.log.add([
      rec(1),
      rec(2, { outcome: 'upstream_error', status: 502, tokenTimes: [], errorMessage: 'ctx 500' }),
      rec(3),
    ]);
    expect((await h.client.invoke('requests:list')).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(
      (await h.client.invoke('requests:list', { outcomes: ['upstream_error'] })).map((r) => [
        r.id,
        r.errorMessage,
      ]),
    ).toEqual([[2, 'ctx 500']]);
    expect(
      (await h.client.invoke('requests:list', { worker: 'gen0', limit: 2 })).map((r) => r.id),
    ).toEqual([3, 2]);
    const d = await h.client.invoke('requests:get', 3);
    expect(d).toMatchObject({
      id: 3,
      ctxWorkerId: 'ctx0',
      genWorkerId: 'gen0',
      ttftMs: 40,
      tpotMs: 10.5,
      e2eMs: 55,
      tokenEvents: 2,
    });
    expect(d.tokenTimesMs).toEqual([1_700_000_000_043, 1_700_000_000_053.5]);
    expect(d.firstByteAtMs).toBe(1_700_000_000_033);
  });

  it.each([
    { call: (c: ApiClient) => c.invoke('requests:get', 404), code: 'NOT_FOUND' },
    { call: (c: ApiClient) => c.invoke('requests:get', 1.5), code: 'INVALID_ARGUMENT' },
    // Deliberately wrong shape, as a renderer bug would send it.
    {
      call: (c: ApiClient) => c.invoke('requests:list', { outcomes: ['fine'] } as never),
      code: 'INVALID_ARGUMENT',
    },
    { call: (c: ApiClient) => c.invoke('requests:list', { limit: 0 }), code: 'INVALID_ARGUMENT' },
  ])('answers $code', async ({ call, code }) => {
    h = await make();
    expect((await expectAppError(call(h.client))).code).toBe(code);
  });

  it('pushes requests:recorded batches of summaries', async () => {
    h = await make();
    const events: RequestsRecordedEvent[] = [];
    const off = h.client.on('requests:recorded', (e) => events.push(e));
    await h.client.whenConnected();
    h.log.add([rec(10), rec(11)]);
    await expect
      .poll(() => events.flatMap((e) => e.requests.map((r) => r.id)), { timeout: 5000 })
      .toEqual([11, 10]);
    expect(events[0]?.requests[0]).not.toHaveProperty('tokenTimesMs');
    expect(events[0]?.omitted).toBe(0);
    off();
  });
});
