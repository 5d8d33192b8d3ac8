// prom-client's side of the upstream-named metrics (electron/core/proxy/upstream-metrics.ts): the same
// definitions as prom-client Counters (named `<name>_total`, as prometheus_client writes counters) and
// Histograms, behind the mapping's sink. The reference for the test that holds our text to prom-client's
// (tests/unit/core/proxy/upstream-metrics.test.ts) and the other side of bench/metrics-observe-bench.ts.
import { Counter, Histogram, Registry } from 'prom-client';

import { UPSTREAM_METRICS, type UpstreamMetricSink } from '../electron/core/proxy/upstream-metrics';

export function promClientUpstreamSink(): { sink: UpstreamMetricSink; registry: Registry } {
  const registry = new Registry();
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  for (const d of UPSTREAM_METRICS) {
    if (d.type === 'counter') {
      counters.set(
        d.name,
        new Counter({ name: `${d.name}_total`, help: d.help, registers: [registry] }),
      );
    } else {
      const buckets = [...(d.buckets ?? [])];
      histograms.set(
        d.name,
        new Histogram({ name: d.name, help: d.help, buckets, registers: [registry] }),
      );
    }
  }
  return {
    registry,
    sink: {
      inc: (name) => counters.get(name)?.inc(),
      observe: (name, seconds) => histograms.get(name)?.observe(seconds),
    },
  };
}
