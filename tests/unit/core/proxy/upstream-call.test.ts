// The retry policy, written once (upstream-call.ts): which failures go to another worker, how many
// attempts, what is charged to a worker, and that every lease is given back exactly once. Stub pools
// and calls, no sockets.
import { describe, expect, it } from 'vitest';

import { ProxyMetrics } from '../../../../electron/core/proxy/metrics';
import { Ending, ProxyRequest } from '../../../../electron/core/proxy/proxy-request';
import type { PhaseSpec, UpstreamCallDeps } from '../../../../electron/core/proxy/upstream-call';
import { callWithRetry, RetryPolicy } from '../../../../electron/core/proxy/upstream-call';
import type { UpstreamFailureKind } from '../../../../electron/core/proxy/upstream-error';
import { UpstreamError } from '../../../../electron/core/proxy/upstream-error';
import type { Upstreams } from '../../../../electron/core/proxy/upstreams';
import type { WorkerEndpoint, WorkerPool } from '../../../../electron/core/proxy/worker-pool';
import { RouterError } from '../../../../shared/logic/routers/types';

type Outcome = UpstreamFailureKind | 'ok';

/** A pool of named workers; each attempt's result is scripted per worker. */
function stubPool(script: Record<string, Outcome>) {
  const events: string[] = [];
  const pool = {
    role: 'generation',
    size: () => Object.keys(script).length,
    select(_route: unknown, excluded: ReadonlySet<string>) {
      const url = Object.keys(script).find((u) => !excluded.has(u));
      if (url === undefined) throw new RouterError('no server left');
      events.push(`select ${url}`);
      return { worker: { url } as WorkerEndpoint, selection: {} };
    },
    release: (w: WorkerEndpoint) => events.push(`release ${w.url}`),
    reportFailure: (w: WorkerEndpoint, kind: string) => events.push(`fail ${w.url} ${kind}`),
  };
  return { pool: pool as unknown as WorkerPool, events };
}

interface FakeCall {
  url: string;
  abort(): void;
}

function setup(script: Record<string, Outcome>, maxRetries: number) {
  const { pool, events } = stubPool(script);
  const metrics = new ProxyMetrics();
  const upstreams = { pool: () => pool, pinExclusion: () => undefined } as unknown as Upstreams;
  const deps: UpstreamCallDeps = {
    upstreams,
    metrics,
    policy: new RetryPolicy(maxRetries, metrics, () => 0),
    log: () => undefined,
  };
  const spec: PhaseSpec<FakeCall, string> = {
    role: 'generation',
    pinHeader: 'x-pin',
    requestType: 'generation_only',
    retryOn: new Set<UpstreamFailureKind>(['connect', 'reset']),
    open: (worker) => ({ url: worker.url, abort: () => undefined }),
    awaitReply: (call) => {
      const o = script[call.url];
      return o === 'ok'
        ? Promise.resolve(`answer from ${call.url}`)
        : Promise.reject(new UpstreamError(o ?? 'connect', 'scripted'));
    },
    markSent: () => undefined,
    timeoutMessage: 'timed out',
    failedMessage: 'failed',
    protocolMessage: 'sent an invalid HTTP response',
    unavailableMessage: 'none available',
  };
  const res = { headersSent: false, statusCode: 200 };
  const request = new ProxyRequest(
    { headers: {} } as never,
    res as never,
    'completions',
    {
      id: 1,
      endpoint: 'completions',
      isStream: false,
      receivedAt: 0,
      tokenTimes: [],
      doneAt: 0,
      outcome: 'ok',
      status: 0,
      retries: 0,
    },
    0,
  );
  const run = () =>
    callWithRetry(deps, {
      request,
      route: { endpoint: 'completions' },
      path: '/v1/completions',
      payload: '{}',
      timeoutMs: 1_000,
      spec,
    });
  return { run, events, metrics, request };
}

describe('callWithRetry', () => {
  it('retries a connection failure on another worker and returns the lease of the one that answered', async () => {
    const { run, events, metrics, request } = setup({ a: 'connect', b: 'ok' }, 1);
    const got = await run();
    if (got instanceof Ending) throw new Error('expected an answer');
    expect(got.value).toBe('answer from b');
    got.lease.release();
    got.lease.release();
    expect(events).toEqual(['select a', 'release a', 'fail a connect', 'select b', 'release b']);
    expect(metrics.retries).toBe(1);
    expect(request.rec.retries).toBe(1);
    expect(metrics.upstreamErrorsByClass.get('generation_connect')).toBe(1);
  });

  it('stops after maxRetries extra attempts with 503 and Retry-After', async () => {
    const { run, events } = setup({ a: 'connect', b: 'reset', c: 'ok' }, 1);
    const got = await run();
    expect(got).toBeInstanceOf(Ending);
    expect(got).toMatchObject({
      outcome: 'upstream_error',
      status: 503,
      reply: { kind: 'error', status: 503, headers: { 'retry-after': '1' } },
    });
    expect(events.filter((e) => e.startsWith('select'))).toEqual(['select a', 'select b']);
  });

  it('never retries a timeout (504) or a failure outside the policy (502), but charges the worker', async () => {
    const timedOut = setup({ a: 'timeout', b: 'ok' }, 3);
    expect(await timedOut.run()).toMatchObject({ outcome: 'timeout', status: 504 });
    expect(timedOut.events).toEqual(['select a', 'release a', 'fail a timeout']);
    const broken = setup({ a: 'truncated', b: 'ok' }, 3);
    expect(await broken.run()).toMatchObject({ outcome: 'upstream_error', status: 502 });
    expect(broken.events).toEqual(['select a', 'release a', 'fail a truncated']);
  });

  it('answers 503 with Retry-After when the router finds nobody left, after a failure or from the start', async () => {
    const allDown = setup({ a: 'connect' }, 3);
    expect(await allDown.run()).toMatchObject({ status: 503 });
    const noneAtAll = setup({}, 3);
    expect(await noneAtAll.run()).toMatchObject({ status: 503 });
  });

  it('ends a cancelled request as its cancel reason says, without blaming the worker', async () => {
    const { run, events, request } = setup({ a: 'aborted' }, 3);
    request.cancel('client_gone');
    expect(await run()).toMatchObject({ outcome: 'client_disconnected', status: 499 });
    expect(events).toEqual([]);
  });
});
