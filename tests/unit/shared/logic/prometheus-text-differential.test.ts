// Our Prometheus text reader held to prom-client (docs/dependencies.md, "Prometheus text"): registries with
// counters, gauges, histograms and summaries, labels with escapes and odd values, rendered by prom-client and
// read back by parsePrometheusText, must give the samples and types of prom-client's own getMetricsAsJSON().
import fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { parsePrometheusText, type PromSample } from '../../../../shared/logic/prometheus-text';

/** A sample as comparable text: name, sorted labels (values as prom-client renders them), value. */
function key(s: PromSample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(',');
  return `${s.name}{${labels}} ${Number.isNaN(s.value) ? 'NaN' : String(s.value)}`;
}

/** What prom-client says its registry holds: every sample (buckets, sums, counts included) and each type. */
async function expected(
  reg: Registry,
): Promise<{ samples: string[]; types: Record<string, string> }> {
  const samples: string[] = [];
  const types: Record<string, string> = {};
  for (const metric of await reg.getMetricsAsJSON()) {
    types[metric.name] = String(metric.type);
    for (const v of metric.values) {
      const labels: Record<string, string> = {};
      for (const [k, lv] of Object.entries(v.labels)) {
        // `le` of +Inf is the number Infinity in the JSON and "+Inf" on the wire.
        labels[k] = lv === Infinity ? '+Inf' : String(lv);
      }
      const name = (v as { metricName?: string }).metricName ?? metric.name;
      samples.push(key({ name, labels, value: v.value }));
    }
  }
  return { samples: samples.sort(), types };
}

async function actual(
  reg: Registry,
): Promise<{ samples: string[]; types: Record<string, string> }> {
  const parsed = parsePrometheusText(await reg.metrics());
  return { samples: parsed.samples.map(key).sort(), types: parsed.types };
}

/** A registry like a worker's: every metric type, several label sets, values of every kind. */
function workerLikeRegistry(labelValues: readonly string[]): Registry {
  const reg = new Registry();
  const requests = new Counter({
    name: 'trtllm_request_success_total',
    help: 'Requests that finished.\nSecond help line with a \\ backslash',
    labelNames: ['model_name', 'finished_reason'],
    registers: [reg],
  });
  const running = new Gauge({
    name: 'trtllm_num_requests_running',
    help: 'Requests running',
    labelNames: ['model_name'],
    registers: [reg],
  });
  const latency = new Histogram({
    name: 'trtllm_e2e_request_latency_seconds',
    help: 'End-to-end latency',
    labelNames: ['model_name'],
    buckets: [0.001, 0.5, 1, 2.5, 60],
    registers: [reg],
  });
  const ttft = new Summary({
    name: 'trtllm_time_to_first_token_seconds',
    help: 'TTFT',
    labelNames: ['model_name'],
    percentiles: [0.01, 0.5, 0.99],
    registers: [reg],
  });
  labelValues.forEach((model, i) => {
    requests.inc({ model_name: model, finished_reason: i % 2 === 0 ? 'stop' : 'length' }, i + 1);
    running.set({ model_name: model }, i === 1 ? -3.25e-7 : i * 1e21);
    for (const s of [0.0005, 0.75, 3, 120].slice(0, i + 1)) {
      latency.observe({ model_name: model }, s);
    }
    for (const s of [0.1, 0.2, 0.4].slice(0, i + 1)) ttft.observe({ model_name: model }, s);
  });
  return reg;
}

describe('parsePrometheusText against prom-client', () => {
  it('reads a worker-like registry with escaped label values as prom-client describes it', async () => {
    const reg = workerLikeRegistry([
      'TinyLlama/TinyLlama-1.1B',
      'quote " and backslash \\ and newline \n end',
      'ünïcødé ✓ {braces}, commas=and equals',
      '',
    ]);
    expect(await actual(reg)).toEqual(await expected(reg));
  });

  it('reads special values: NaN, infinities, zero and a metric without samples', async () => {
    const reg = new Registry();
    const g = new Gauge({ name: 'g', help: 'h', labelNames: ['k'], registers: [reg] });
    g.set({ k: 'nan' }, Number.NaN);
    g.set({ k: 'inf' }, Infinity);
    g.set({ k: 'ninf' }, -Infinity);
    g.set({ k: 'zero' }, 0);
    new Counter({
      name: 'never_incremented_total',
      help: 'h',
      labelNames: ['x'],
      registers: [reg],
    });
    expect(await actual(reg)).toEqual(await expected(reg));
  });

  it('agrees for any label values and gauge values (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 12 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity)), {
          minLength: 1,
          maxLength: 4,
        }),
        async (labelValues, values) => {
          const reg = new Registry();
          const g = new Gauge({ name: 'p', help: 'h', labelNames: ['v'], registers: [reg] });
          labelValues.forEach((v, i) => g.set({ v }, values[i % values.length] ?? 0));
          expect(await actual(reg)).toEqual(await expected(reg));
        },
      ),
      { numRuns: 200 },
    );
  });
});
