// The dashboard's live proxy-cost tile (issue #16): CPU µs per request and per streamed token of the running
// proxy (its thread's CPU over the requests and tokens it finished since the last poll, or since it started
// when that span was idle), beside the bare relay floor and the proxy's own figure from the last saved
// `bench:proxy --json` run. Polls proxy:cost every 5 s while shown. Layer: renderer.
import { useEffect } from 'react';

import type { ProxyCostFloor } from '../../../shared/model/proxy-cost';
import { useAppStore } from '../../store/app-store-context';

const POLL_MS = 5_000;

const us = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} µs`;

function FloorLine({ floor, error }: { floor: ProxyCostFloor | null; error: string | null }) {
  if (error) return <div className="sub state-errored">{error}</div>;
  if (!floor) {
    return (
      <div className="sub" title="npm run bench:proxy -- --json <data folder>/proxy-bench.json">
        no saved benchmark (bench:proxy --json into the data folder)
      </div>
    );
  }
  return (
    <div
      className="sub"
      data-testid="proxy-cost-floor"
      title={`${floor.file}: ${floor.machine}, ${floor.date}; that run's proxy ${us(floor.proxyUsPerRequest)} / request, ${us(floor.proxyUsPerToken)} / token`}
    >
      bare relay {us(floor.relayUsPerRequest)} / req, {us(floor.relayUsPerToken)} / token (bench{' '}
      {floor.date.slice(0, 10)})
    </div>
  );
}

export function ProxyCostMeter() {
  const cost = useAppStore((s) => s.proxyCost);
  const load = useAppStore((s) => s.loadProxyCost);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(t);
  }, [load]);
  const c = cost.reading?.cost;
  const scope = cost.sample?.scope === 'process' ? 'the console process' : 'the proxy thread';
  return (
    <div
      className="stat"
      data-testid="proxy-cost"
      title={`CPU of ${scope} divided by the requests (and, separately, the tokens) it finished ${cost.reading?.span === 'recent' ? 'in the last few seconds' : 'since it started'}; each figure carries all of the CPU`}
    >
      <div className="label">Proxy CPU</div>
      <div className="value" data-testid="proxy-cost-request">
        {cost.error ? '—' : `${us(c?.cpuUsPerRequest)} / req`}
      </div>
      <div className="sub" data-testid="proxy-cost-token">
        {us(c?.cpuUsPerToken)} / token · {cost.reading?.span ?? 'no proxy'}
      </div>
      <FloorLine floor={cost.floor} error={cost.error ?? cost.floorError} />
    </div>
  );
}
