// The recent-requests log: bounded ring, lookup by the proxy's id (ids repeat after a proxy restart), filters,
// summaries computed like the dashboard's buckets, and throttled `requests:recorded` batches.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RequestLog, toRequestDetail } from '../../../../electron/core/metrics/request-log';
import type { ProxyRequestRecord } from '../../../../electron/core/proxy/types';
import { AppError } from '../../../../shared/api/envelope';
import type { RequestsRecordedEvent } from '../../../../shared/model/requests';
import { REQUEST_TOKEN_TIMES_MAX } from '../../../../shared/model/requests';

function rec(id: number, patch: Partial<ProxyRequestRecord> = {}): ProxyRequestRecord {
  return {
    id,
    endpoint: 'chat',
    isStream: true,
    receivedAt: 1000,
    ctxSentAt: 1001,
    ctxAnsweredAt: 1050,
    genSentAt: 1052,
    firstByteAt: 1070,
    tokenTimes: [1080, 1090, 1100, 1110],
    doneAt: 1115,
    ctxWorker: 'http://127.0.0.1:8001',
    genWorker: 'http://127.0.0.1:8002',
    promptTokens: 12,
    completionTokens: 4,
    outcome: 'ok',
    status: 200,
    retries: 0,
    ...patch,
  };
}

const ids = {
  'http://127.0.0.1:8001': 'ctx0',
  'http://127.0.0.1:8002': 'gen0',
  'http://127.0.0.1:8003': 'gen1',
} as Record<string, string>;
const workerIdOf = (url: string): string | null => ids[url] ?? null;

afterEach(() => {
  vi.useRealTimers();
});

describe('toRequestDetail', () => {
  it('computes TTFT, TPOT and e2e from the record and resolves worker ids', () => {
    const d = toRequestDetail(rec(1), workerIdOf);
    expect(d).toMatchObject({
      id: 1,
      ttftMs: 80,
      tpotMs: 10,
      e2eMs: 115,
      ctxWorkerId: 'ctx0',
      genWorkerId: 'gen0',
      tokenEvents: 4,
      completionTokens: 4,
    });
    expect(d.tokenTimesMs).toEqual([1080, 1090, 1100, 1110]);
  });

  it.each([
    {
      name: 'failed request: no TTFT',
      patch: { outcome: 'upstream_error' as const, tokenTimes: [], status: 502 },
      ttft: null,
      tpot: null,
    },
    {
      name: 'whole answer: TTFT is end to end',
      patch: { isStream: false, tokenTimes: [], completionTokens: undefined },
      ttft: 115,
      tpot: null,
    },
    { name: 'one token: no TPOT', patch: { tokenTimes: [1080] }, ttft: 80, tpot: null },
  ])('$name', ({ patch, ttft, tpot }) => {
    const d = toRequestDetail(rec(1, patch));
    expect([d.ttftMs, d.tpotMs]).toEqual([ttft, tpot]);
  });

  it('keeps at most REQUEST_TOKEN_TIMES_MAX token times but counts all', () => {
    const n = REQUEST_TOKEN_TIMES_MAX + 10;
    const d = toRequestDetail(
      rec(1, { tokenTimes: Array.from({ length: n }, (_, i) => 1080 + i) }),
    );
    expect([d.tokenTimesMs.length, d.tokenEvents]).toEqual([REQUEST_TOKEN_TIMES_MAX, n]);
  });
});

describe('RequestLog', () => {
  it('keeps only the last `capacity` requests, newest first, and forgets evicted ids', () => {
    const log = new RequestLog({ capacity: 3 });
    log.add([rec(1), rec(2), rec(3)]);
    log.add([rec(4), rec(5)]);
    expect(log.size()).toBe(3);
    expect(log.list().map((r) => r.id)).toEqual([5, 4, 3]);
    expect(log.get(2)).toBeUndefined();
    expect(log.get(3)?.id).toBe(3);
  });

  it('holds 2,000 by default', () => {
    const log = new RequestLog();
    log.add(Array.from({ length: 2500 }, (_, i) => rec(i + 1)));
    expect(log.size()).toBe(2000);
    expect(log.list({ limit: 2000 }).at(-1)?.id).toBe(501);
    expect(log.list().length).toBe(200);
  });

  it('replaces an older request with the same id (the proxy restarted) and lists it once', () => {
    const log = new RequestLog({ capacity: 5 });
    log.add([rec(1, { receivedAt: 10, doneAt: 20 }), rec(2)]);
    log.add([rec(1, { receivedAt: 5000, doneAt: 5100 })]);
    expect(log.get(1)?.receivedAtMs).toBe(5000);
    expect(log.list().map((r) => [r.id, r.receivedAtMs])).toEqual([
      [1, 5000],
      [2, 1000],
    ]);
    expect(log.size()).toBe(2);
  });

  it.each([
    { query: { outcomes: ['timeout' as const] }, want: [3] },
    { query: { outcomes: ['ok' as const, 'timeout' as const] }, want: [3, 2, 1] },
    { query: { worker: 'gen1' }, want: [2] },
    { query: { worker: '127.0.0.1:8003' }, want: [2] },
    { query: { worker: 'ctx0' }, want: [3, 2, 1] },
    { query: { worker: 'ctx0', outcomes: ['ok' as const], limit: 1 }, want: [2] },
    { query: { worker: 'nobody' }, want: [] },
  ])('filters $query', ({ query, want }) => {
    const log = new RequestLog({ workerIdOf });
    log.add([
      rec(1),
      rec(2, { genWorker: 'http://127.0.0.1:8003' }),
      rec(3, { outcome: 'timeout', status: 504 }),
    ]);
    expect(log.list(query).map((r) => r.id)).toEqual(want);
  });

  it('summaries carry no timeline; details do', () => {
    const log = new RequestLog();
    log.add([rec(7)]);
    expect(log.list()[0]).not.toHaveProperty('tokenTimesMs');
    expect(log.get(7)).toHaveProperty('ctxAnsweredAtMs', 1050);
  });

  it('answers requests:get with NOT_FOUND for an unknown id', async () => {
    const h = new RequestLog().handlers();
    const err = await h['requests:get'](42).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('NOT_FOUND');
  });

  it('batches requests:recorded: at most one event per interval, newest first, capped with a count of the rest', () => {
    vi.useFakeTimers();
    const events: RequestsRecordedEvent[] = [];
    const log = new RequestLog({
      onRecorded: (e) => events.push(e),
      eventIntervalMs: 500,
      eventMaxItems: 2,
    });
    log.add([rec(1)]);
    log.add([rec(2), rec(3)]);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(events.map((e) => [e.requests.map((r) => r.id), e.omitted])).toEqual([[[3, 2], 1]]);
    log.add([rec(4)]);
    vi.advanceTimersByTime(499);
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(events.map((e) => e.requests.map((r) => r.id))).toEqual([[3, 2], [4]]);
    log.dispose();
    log.add([rec(5)]);
    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(2);
  });
});
