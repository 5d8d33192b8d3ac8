// The Recent requests slice and the playground's server timeline against a fake API: list with the filter's
// query, requests:recorded merged (filtered, deduplicated, bounded), a row's timeline opened, and a playground
// answer followed by requests:get with its x-disagg-request-id; column B sent to another base URL.
import { describe, expect, it } from 'vitest';

import type { StreamFetch } from '../../../../renderer/lib/openai-request';
import { createAppStore } from '../../../../renderer/store/create-app-store';
import { mergeRecent, RECENT_REQUESTS_MAX } from '../../../../renderer/store/requests-slice';
import type {
  RequestDetail,
  RequestQuery,
  RequestSummary,
} from '../../../../shared/model/requests';
import { AppError, createFakeApi, view } from './fake-api';

/** Records taken now: the playground ignores a record older than its request (a proxy restart reused the id). */
const T0 = Date.now();

function summary(id: number, patch: Partial<RequestSummary> = {}): RequestSummary {
  return {
    id,
    endpoint: 'chat',
    isStream: true,
    receivedAtMs: T0 + id,
    doneAtMs: T0 + 100 + id,
    outcome: 'ok',
    status: 200,
    ctxWorkerUrl: 'http://localhost:8001',
    genWorkerUrl: 'http://localhost:8002',
    ctxWorkerId: 'ctx0',
    genWorkerId: 'gen0',
    promptTokens: 10,
    completionTokens: 5,
    ttftMs: 40,
    tpotMs: 8,
    e2eMs: 100,
    retries: 0,
    errorMessage: null,
    ...patch,
  };
}

function detail(s: RequestSummary): RequestDetail {
  return {
    ...s,
    ctxSentAtMs: s.receivedAtMs + 1,
    ctxAnsweredAtMs: s.receivedAtMs + 20,
    genSentAtMs: s.receivedAtMs + 21,
    firstByteAtMs: s.receivedAtMs + 30,
    tokenTimesMs: [s.receivedAtMs + 40, s.receivedAtMs + 48],
    tokenEvents: 2,
  };
}

/** A streamed answer with the proxy's headers. */
function fakeFetch(headers: Record<string, string>, calls: string[]): StreamFetch {
  return (url) => {
    calls.push(url);
    const chunks = [
      'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n',
      'data: {"choices":[{"delta":{"content":" there"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n',
      'data: [DONE]\n\n',
    ].map((c) => new TextEncoder().encode(c));
    return Promise.resolve({
      status: 200,
      headers: { get: (name: string) => headers[name] ?? null },
      text: () => Promise.resolve(''),
      body: {
        getReader: () => ({
          read: () => {
            const value = chunks.shift();
            return Promise.resolve(value ? { done: false, value } : { done: true });
          },
          cancel: () => Promise.resolve(),
        }),
      },
    });
  };
}

function setup(
  opts: { rows?: RequestSummary[]; fetch?: StreamFetch | null; getMisses?: number } = {},
) {
  const rows = opts.rows ?? [
    summary(3),
    summary(2, { outcome: 'timeout', status: 504, ttftMs: null }),
    summary(1),
  ];
  const queries: (RequestQuery | undefined)[] = [];
  let misses = opts.getMisses ?? 0;
  const fake = createFakeApi({
    'workers:list': () =>
      Promise.resolve([view('ctx0', 'context', [0]), view('gen0', 'generation', [1])]),
    'proxy:info': () =>
      Promise.resolve({
        url: 'http://127.0.0.1:8000',
        host: '127.0.0.1',
        port: 8000,
        isRunning: true,
      }),
    'requests:list': (q) => {
      queries.push(q);
      return Promise.resolve(
        rows.filter((r) => q?.outcomes === undefined || q.outcomes.includes(r.outcome)),
      );
    },
    'requests:get': (id) => {
      const r = rows.find((x) => x.id === id);
      if (!r || misses-- > 0) {
        return Promise.reject(new AppError('NOT_FOUND', `request ${id} is not held`));
      }
      return Promise.resolve(detail(r));
    },
  });
  // A clock of our own, a millisecond per reading from just after the records' times: with the wall clock a
  // loaded machine could put more than a second between loading this file and sending, and the playground
  // would take the fake's records for ones from before a proxy restart.
  let clockMs = T0 + 100;
  const app = createAppStore({
    api: fake.client,
    now: () => (clockMs += 1),
    fetch: opts.fetch ?? null,
  });
  return { fake, app, store: app.store, queries };
}

describe('requests slice', () => {
  it('loads the newest requests on start and reloads with the filter as a query', async () => {
    const { app, store, queries } = setup();
    await app.start();
    expect(store.getState().recentRequests.map((r) => r.id)).toEqual([3, 2, 1]);
    await store.getState().setRequestsFilter({ outcome: 'errors' });
    expect(queries.at(-1)?.outcomes).toEqual([
      'client_error',
      'upstream_error',
      'timeout',
      'client_disconnected',
      'rejected',
      'not_ready',
    ]);
    expect(store.getState().recentRequests.map((r) => r.id)).toEqual([2]);
    await store.getState().setRequestsFilter({ outcome: 'all', worker: 'gen0' });
    expect(queries.at(-1)).toEqual({ limit: RECENT_REQUESTS_MAX, worker: 'gen0' });
    app.dispose();
  });

  it('merges requests:recorded events that pass the filter, newest first, once each', async () => {
    const { app, store, fake } = setup();
    await app.start();
    fake.emit('requests:recorded', { requests: [summary(5), summary(4), summary(3)], omitted: 0 });
    expect(store.getState().recentRequests.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    await store.getState().setRequestsFilter({ outcome: 'errors' });
    fake.emit('requests:recorded', {
      requests: [summary(7), summary(6, { outcome: 'upstream_error' })],
      omitted: 0,
    });
    expect(store.getState().recentRequests.map((r) => r.id)).toEqual([6, 2]);
    app.dispose();
  });

  it('bounds the rows it keeps and tells apart equal ids from before a proxy restart', () => {
    const many = Array.from({ length: RECENT_REQUESTS_MAX + 20 }, (_, i) => summary(i + 1));
    expect(mergeRecent([], many)).toHaveLength(RECENT_REQUESTS_MAX);
    const restarted = summary(1, { receivedAtMs: T0 + 9000, doneAtMs: T0 + 9100 });
    expect(mergeRecent([summary(1)], [restarted]).map((r) => r.receivedAtMs)).toEqual([
      T0 + 9000,
      T0 + 1,
    ]);
  });

  it('opens a row timeline and says so when the request is no longer held', async () => {
    const { app, store } = setup();
    await app.start();
    await store.getState().openRequestTimeline(summary(2, { outcome: 'timeout' }));
    expect(store.getState().openRequest?.detail?.ctxAnsweredAtMs).toBe(T0 + 22);
    await store.getState().openRequestTimeline(summary(99));
    expect(store.getState().openRequest).toMatchObject({ id: 99, detail: null });
    expect(store.getState().openRequest?.error).toMatch(/no longer held/);
    await store.getState().openRequestTimeline(null);
    expect(store.getState().openRequest).toBeNull();
    app.dispose();
  });
});

describe('playground server timeline', () => {
  it('fetches the proxy record by x-disagg-request-id after the answer, retrying until it arrived', async () => {
    const calls: string[] = [];
    const { app, store, fake } = setup({
      fetch: fakeFetch({ 'x-disagg-request-id': '3' }, calls),
      getMisses: 2,
    });
    await app.start();
    store.getState().setPlayground({ pgPrompt: 'Hello' });
    await store.getState().sendPrompt();
    const run = store.getState().pgRuns[0]!;
    expect(calls).toEqual(['http://127.0.0.1:8000/v1/chat/completions']);
    expect([run.status, run.text, run.isConsoleProxy]).toEqual(['done', 'Hi there', true]);
    expect(run.server).toMatchObject({ status: 'ok', detail: { id: 3, genWorkerId: 'gen0' } });
    expect(fake.calls.filter((c) => c.channel === 'requests:get')).toHaveLength(3);
    app.dispose();
  });

  it('falls back to the browser view when the proxy sends no request id', async () => {
    const { app, store, fake } = setup({ fetch: fakeFetch({}, []) });
    await app.start();
    store.getState().setPlayground({ pgPrompt: 'Hello' });
    await store.getState().sendPrompt();
    expect(store.getState().pgRuns[0]?.server).toEqual({
      status: 'absent',
      detail: null,
      message: null,
    });
    expect(fake.calls.some((c) => c.channel === 'requests:get')).toBe(false);
    app.dispose();
  });

  it('sends column B to its own base URL without worker pins and asks the console nothing about it', async () => {
    const calls: string[] = [];
    const { app, store, fake } = setup({ fetch: fakeFetch({ 'x-disagg-request-id': '1' }, calls) });
    await app.start();
    store
      .getState()
      .setPlayground({ pgPrompt: 'Hello', pgCompare: true, pgTargetB: 'http://127.0.0.1:9000/' });
    store.getState().setRoute(1, { contextWorker: '127.0.0.1:8001' });
    await store.getState().sendPrompt();
    const [a, b] = store.getState().pgRuns;
    expect(calls.sort()).toEqual([
      'http://127.0.0.1:8000/v1/chat/completions',
      'http://127.0.0.1:9000/v1/chat/completions',
    ]);
    expect([a?.isConsoleProxy, b?.isConsoleProxy, b?.targetUrl]).toEqual([
      true,
      false,
      'http://127.0.0.1:9000',
    ]);
    expect(b?.request.route).toEqual({});
    expect(b?.server).toBeNull();
    expect(a?.server?.status).toBe('ok');
    expect(fake.calls.filter((c) => c.channel === 'requests:get')).toHaveLength(1);
    app.dispose();
  });
});
