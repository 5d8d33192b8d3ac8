// proxy:cost: the running proxy's CPU counters (the thread's, from proxy-host) beside the floor of the
// last saved proxy benchmark: `npm run bench:proxy -- --json <dataDir>/proxy-bench.json` saves one
// (docs/performance.md, "The live cost meter"). The file is read on each call, so a new run shows at once.
// Layer: core.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { floorFromBenchJson } from '../../shared/logic/proxy-cost';
import type { ProxyCostFloor, ProxyCostReport } from '../../shared/model/proxy-cost';
import type { ProxyHost } from './proxy-host';

/** The saved benchmark's name in the data folder. */
export const PROXY_BENCH_FILE = 'proxy-bench.json';

/** The floor from `<dataDir>/proxy-bench.json`: null without one, an error text when it cannot be used. */
export async function readCostFloor(
  dataDir: string,
): Promise<{ floor: ProxyCostFloor | null; floorError: string | null }> {
  const file = join(dataDir, PROXY_BENCH_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { floor: null, floorError: null };
    return { floor: null, floorError: `${file}: ${(err as Error).message}` };
  }
  try {
    return { floor: floorFromBenchJson(JSON.parse(text), file), floorError: null };
  } catch (err) {
    const msg = (err as Error).message;
    return { floor: null, floorError: msg.startsWith(file) ? msg : `${file}: ${msg}` };
  }
}

export async function proxyCostReport(
  proxy: Pick<ProxyHost, 'cpuSample'>,
  dataDir: string,
): Promise<ProxyCostReport> {
  const [sample, floor] = await Promise.all([proxy.cpuSample(), readCostFloor(dataDir)]);
  return { sample, ...floor };
}
