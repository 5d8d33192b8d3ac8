// With `--metrics-log-interval S`, the CLI proxy also logs what it costs: CPU µs per request and per token
// over each interval (shared/logic/proxy-cost.ts). A single process counts itself; with `--workers N` each
// process sends its counters to the primary over the cluster channel and the primary logs the fleet's sum
// (its own CPU, which only hands connections out, is not in it). Layer: cli.
import cluster from 'node:cluster';

import { costBetween, sumSamples } from '../../shared/logic/proxy-cost';
import type { ProxyCost, ProxyCpuSample } from '../../shared/model/proxy-cost';
import { ProxyCpuMeter, readProcessCpu } from '../core/proxy/cpu-meter';
import type { ProxyServer } from '../core/proxy/proxy-server';
import type { LogLevel } from '../core/proxy/types';

const COST_MESSAGE = 'disagg-proxy-cpu-sample';

interface CostMessage {
  type: typeof COST_MESSAGE;
  index: number;
  sample: ProxyCpuSample;
}

function isCostMessage(msg: unknown): msg is CostMessage {
  return typeof msg === 'object' && msg !== null && (msg as CostMessage).type === COST_MESSAGE;
}

const us = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

export function costLine(c: ProxyCost, processes: number): string {
  return (
    `[Cost] proxy CPU ${us(c.cpuUsPerRequest)} us/request, ${us(c.cpuUsPerToken)} us/token ` +
    `(${c.requests} requests, ${c.tokens} tokens, ${(c.cpuUs / 1e6).toFixed(2)} CPU s, ${processes} process${processes === 1 ? '' : 'es'})`
  );
}

/** In a serving process: counts its records and CPU; logs (alone) or reports to the primary (in a fleet). */
export function startCostReporting(
  proxy: Pick<ProxyServer, 'onRecords'>,
  intervalS: number,
  fleetIndex: number | undefined,
  log: (lv: LogLevel, m: string) => void,
): NodeJS.Timeout {
  const meter = new ProxyCpuMeter(readProcessCpu);
  proxy.onRecords((records) => meter.count(records));
  let prev: ProxyCpuSample | null = null;
  const t = setInterval(() => {
    const sample = meter.sample();
    if (fleetIndex !== undefined) {
      const msg: CostMessage = { type: COST_MESSAGE, index: fleetIndex, sample };
      process.send?.(msg);
      return;
    }
    log('info', costLine(costBetween(prev, sample), 1));
    prev = sample;
  }, intervalS * 1000);
  t.unref();
  return t;
}

/** In the fleet's primary: the processes' latest counters summed, logged every interval. */
export function startFleetCostLog(
  intervalS: number,
  log: (lv: LogLevel, m: string) => void,
): () => void {
  const latest = new Map<number, ProxyCpuSample>();
  const onMessage = (_w: unknown, msg: unknown): void => {
    if (isCostMessage(msg)) latest.set(msg.index, msg.sample);
  };
  cluster.on('message', onMessage);
  let prev: ProxyCpuSample | null = null;
  const t = setInterval(() => {
    const sum = sumSamples([...latest.values()]);
    if (!sum) return;
    log('info', costLine(costBetween(prev, sum), sum.processes));
    prev = sum;
  }, intervalS * 1000);
  t.unref();
  return () => {
    clearInterval(t);
    cluster.off('message', onMessage);
  };
}
