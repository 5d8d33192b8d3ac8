// The proxy as the benchmarks start it: its disaggregated-serving config file (docs/trtllm-protocol.md)
// and its `proxy` command line, written once so every benchmark measures the same setup. Layer: bench.

export interface BenchProxyLayout {
  /** The proxy's port; 0 lets it pick (it prints the port it listens on). */
  port: number;
  /** Loopback ports of the context workers, then of the generation workers. */
  ctx: number[];
  gen: number[];
  /** The context servers' `router:` section (e.g. `{ type: 'kv_cache_aware' }`); absent: the default. */
  ctxRouter?: Record<string, string | number>;
}

/** The YAML of a config with one proxy and loopback workers. */
export function proxyConfigYaml(layout: BenchProxyLayout): string {
  const urls = (ports: number[]): string => ports.map((p) => `"127.0.0.1:${p}"`).join(', ');
  const router = layout.ctxRouter
    ? '  router:\n' +
      Object.entries(layout.ctxRouter)
        .map(([key, value]) => `    ${key}: ${value}\n`)
        .join('')
    : '';
  return (
    `hostname: 127.0.0.1\nport: ${layout.port}\n` +
    `context_servers:\n  num_instances: ${layout.ctx.length}\n  urls: [${urls(layout.ctx)}]\n${router}` +
    `generation_servers:\n  num_instances: ${layout.gen.length}\n  urls: [${urls(layout.gen)}]\n`
  );
}

/** `disagg-console proxy` arguments: `configFile`, warnings only, `workers` processes, then `extra`. */
export function proxyCliArgs(configFile: string, workers: number, extra: string[] = []): string[] {
  return ['proxy', '-c', configFile, '-l', 'warning', '--workers', String(workers), ...extra];
}
