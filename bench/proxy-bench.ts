// Proxy benchmark (docs/performance.md). Filled in below.
export function runProxyBench(_args: string[]): Promise<number> {
  process.stderr.write('bench-proxy: not built yet\n');
  return Promise.resolve(1);
}
