// `--emulate-version`: each release's /version, Prometheus route and iteration stats (docs/upstream-versions.md 7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parsePrometheusText, sampleValue } from '../../../shared/logic/prometheus-text';
import { type SimProcess, startSimWorker, tempFile } from './sim-process';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const OPTIONS = 'return_perf_metrics: true\nenable_iter_perf_stats: true\n';

describe.each([
  ['1.0', '1.0.0', false],
  ['1.3', '1.3.0rc0', true],
] as const)('sim worker emulating %s', (version, versionString, hasPrometheus) => {
  let sim: SimProcess | undefined;
  beforeAll(async () => {
    sim = await startSimWorker(
      [MODEL, '--extra_llm_api_options', tempFile('w.yaml', OPTIONS), '--emulate-version', version],
      { DISAGG_SIM_ZERO_DELAY: '1' },
    );
  }, 30_000);
  afterAll(() => sim?.stop());

  it('reports the release on /version and answers a request', async () => {
    if (!sim) throw new Error('not started');
    expect(await (await fetch(`${sim.url}/version`)).json()).toEqual({ version: versionString });
    const r = await fetch(`${sim.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'hello', max_tokens: 3 }),
    });
    expect(r.status).toBe(200);
  });

  it('iteration stats carry staticBatchingStats', async () => {
    if (!sim) throw new Error('not started');
    const stats = (await (await fetch(`${sim.url}/metrics`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(stats.length).toBeGreaterThan(0);
    expect(stats[0]?.staticBatchingStats).toEqual({
      numScheduledRequests: 0,
      numContextRequests: 0,
      numCtxTokens: 0,
      numGenTokens: 0,
      emptyGenSlots: 0,
    });
  });

  it(hasPrometheus ? 'serves trtllm_* Prometheus text' : 'has no Prometheus route', async () => {
    if (!sim) throw new Error('not started');
    const r = await fetch(`${sim.url}/prometheus/metrics`);
    if (!hasPrometheus) {
      expect(r.status).toBe(404);
      return;
    }
    const text = parsePrometheusText(await r.text());
    expect(sampleValue(text, 'trtllm_request_success_total')).toBe(1);
    expect(sampleValue(text, 'trtllm_num_requests_running')).toBe(0);
    expect(text.types['trtllm_e2e_request_latency_seconds']).toBe('histogram');
  });
});
