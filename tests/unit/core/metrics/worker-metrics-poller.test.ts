// The worker poller reads Prometheus where the worker serves it and falls back to JSON /metrics; /version
// picks the dialect (docs/upstream-versions.md sections 4 and 8).
import { describe, expect, it } from 'vitest';

import {
  createWorkerMetricsPoller,
  fetchWorkerDialect,
} from '../../../../electron/core/metrics/worker-metrics-poller';

const PROM = `# TYPE trtllm_num_requests_running gauge
trtllm_num_requests_running{model_name="m",engine_type="trtllm"} 3
trtllm_num_requests_waiting{model_name="m",engine_type="trtllm"} 1
trtllm_kv_cache_utilization{model_name="m",engine_type="trtllm"} 0.25
`;
const JSON_STATS = [
  {
    numActiveRequests: 2,
    numQueuedRequests: 0,
    kvCacheStats: { maxNumBlocks: 100, usedNumBlocks: 50, cacheHitRate: 0.5 },
  },
];

function fakeFetch(routes: Record<string, () => Response>): {
  fetchImpl: typeof fetch;
  calls: string[];
} {
  const calls: string[] = [];
  const fetchImpl = ((input: string | URL) => {
    const path = new URL(input).pathname;
    calls.push(path);
    const route = routes[path];
    return Promise.resolve(route ? route() : new Response('Not Found', { status: 404 }));
  }) as typeof fetch;
  return { fetchImpl, calls };
}

async function pollOnceWith(
  routes: Record<string, () => Response>,
): Promise<{ sample: unknown; calls: string[] }> {
  const { fetchImpl, calls } = fakeFetch(routes);
  const poller = createWorkerMetricsPoller({
    workers: () => [{ id: 'w', url: 'http://w:1' }],
    fetchImpl,
    now: () => 1000,
    intervalMs: 60_000,
  });
  try {
    await poller.pollOnce();
    await poller.pollOnce();
    return { sample: poller.latest().w, calls };
  } finally {
    poller.stop();
  }
}

describe('worker metrics poller', () => {
  it('reads the trtllm_* gauges from /prometheus/metrics and leaves the draining JSON route alone', async () => {
    const { sample, calls } = await pollOnceWith({
      '/prometheus/metrics': () => new Response(PROM),
      '/metrics': () => Response.json(JSON_STATS),
    });
    expect(sample).toEqual({
      atMs: 1000,
      activeRequests: 3,
      queuedRequests: 1,
      kvCacheUsage: 0.25,
      kvCacheHitRate: null,
    });
    expect(calls).toEqual(['/prometheus/metrics', '/prometheus/metrics']);
  });

  it('falls back to JSON /metrics for a worker without the Prometheus route, and stops asking for it', async () => {
    const { sample, calls } = await pollOnceWith({ '/metrics': () => Response.json(JSON_STATS) });
    expect(sample).toEqual({
      atMs: 1000,
      activeRequests: 2,
      queuedRequests: 0,
      kvCacheUsage: 0.5,
      kvCacheHitRate: 0.5,
    });
    expect(calls).toEqual(['/prometheus/metrics', '/metrics', '/metrics']);
  });

  it('falls back to JSON when the Prometheus text has no scheduler gauges', async () => {
    const { sample } = await pollOnceWith({
      '/prometheus/metrics': () => new Response('trtllm_request_success_total 4\n'),
      '/metrics': () => Response.json(JSON_STATS),
    });
    expect(sample).toMatchObject({ activeRequests: 2 });
  });
});

describe('fetchWorkerDialect', () => {
  it.each([
    ['1.2.0rc6.post2', '1.2'],
    ['1.3.0rc0', '1.3'],
  ])('/version %s speaks %s', async (version, expected) => {
    const { fetchImpl } = fakeFetch({ '/version': () => Response.json({ version }) });
    expect((await fetchWorkerDialect('http://w:1', fetchImpl))?.version).toBe(expected);
  });

  it('undefined when the worker has no /version', async () => {
    const { fetchImpl } = fakeFetch({});
    expect(await fetchWorkerDialect('http://w:1', fetchImpl)).toBeUndefined();
  });
});
