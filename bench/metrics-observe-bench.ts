// CPU per histogram observation: the proxy's own Histogram (shared/logic/histogram.ts) against
// prom-client's, no labels, the latency buckets of /metrics. The proxy observes one inter-token gap
// per streamed token, so this cost is paid per token. Same process, alternating rounds, medians.
//   node --import tsx bench/metrics-observe-bench.ts
// It prints numbers; it is not a test.
import { Histogram as PromHistogram, Registry } from 'prom-client';

import type { ProxyRequestRecord } from '../electron/core/proxy/types';
import {
  feedUpstreamMetrics,
  type UpstreamMetricSink,
  UpstreamNamedMetrics,
} from '../electron/core/proxy/upstream-metrics';
import { Histogram, LATENCY_BUCKETS_SECONDS } from '../shared/logic/histogram';
import { promClientUpstreamSink } from './prom-client-upstream-sink';

const N = 2_000_000;
const values = Float64Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 4096) / 40_000);

function timeNsPerObserve(observe: (v: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) observe(values[i & 4095] as number);
  return Number(process.hrtime.bigint() - t0) / N;
}

const ours = new Histogram(LATENCY_BUCKETS_SECONDS);
const registry = new Registry();
const prom = new PromHistogram({
  name: 'x_seconds',
  help: 'x',
  buckets: [...LATENCY_BUCKETS_SECONDS],
  registers: [registry],
});
const rounds: { ours: number[]; prom: number[] } = { ours: [], prom: [] };
for (let r = 0; r < 7; r++) {
  rounds.ours.push(timeNsPerObserve((v) => ours.observe(v)));
  rounds.prom.push(timeNsPerObserve((v) => prom.observe(v)));
}
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(
  `ns per observe (median of 7 x ${N}): ours ${median(rounds.ours).toFixed(1)}, prom-client ${median(rounds.prom).toFixed(1)} (${(median(rounds.prom) / median(rounds.ours)).toFixed(1)}x)`,
);
const t0 = process.hrtime.bigint();
void registry.metrics().then(() => {
  console.log(
    `prom-client render of one histogram: ${(Number(process.hrtime.bigint() - t0) / 1000).toFixed(0)} us (async)`,
  );
  upstreamSection();
});

// The upstream-named metrics (electron/core/proxy/upstream-metrics.ts) per finished request: a 32-token
// stream through both phases fed into ours and into prom-client's metrics of the same definitions.
const RECORDS = 20_000;
const record: ProxyRequestRecord = {
  id: 1,
  endpoint: 'chat',
  isStream: true,
  receivedAt: 1000,
  ctxSentAt: 1000.2,
  ctxAnsweredAt: 1040,
  genSentAt: 1040.1,
  tokenTimes: Array.from({ length: 32 }, (_, i) => 1060 + i * 8.5),
  doneAt: 1330,
  outcome: 'ok',
  status: 200,
  retries: 0,
};
function usPerRecord(sink: UpstreamMetricSink): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) feedUpstreamMetrics(record, sink);
  return Number(process.hrtime.bigint() - t0) / RECORDS / 1000;
}
/** Runs after the render above (its timer spans the await). */
function upstreamSection(): void {
  const upstreamOurs = new UpstreamNamedMetrics();
  const upstreamProm = promClientUpstreamSink().sink;
  const perRecord: { ours: number[]; prom: number[] } = { ours: [], prom: [] };
  for (let r = 0; r < 7; r++) {
    perRecord.ours.push(usPerRecord(upstreamOurs));
    perRecord.prom.push(usPerRecord(upstreamProm));
  }
  console.log(
    `upstream-named metrics per 32-token streamed request (median of 7 x ${RECORDS}): ours ${median(perRecord.ours).toFixed(2)} us, prom-client ${median(perRecord.prom).toFixed(2)} us (${(median(perRecord.prom) / median(perRecord.ours)).toFixed(1)}x)`,
  );
}
