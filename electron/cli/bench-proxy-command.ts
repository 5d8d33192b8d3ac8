// `disagg-console bench-proxy` (npm run bench:proxy): runs bench/proxy-bench.ts. Layer: core (cli).
import { runProxyBench } from '../../bench/proxy-bench';

export function runBenchProxyCommand(args: string[]): Promise<number> {
  return runProxyBench(args);
}
