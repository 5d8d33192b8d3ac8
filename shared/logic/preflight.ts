// Cross-file pre-flight of a topology before anything starts (feature K3), on top of each file's own
// validation: the same cache_transceiver_config.backend on both roles, disable_overlap_scheduler: true on
// context workers, max_tokens_in_buffer >= the longest expected input, TP x PP = the GPUs given, no GPU
// given twice (warning), no port used twice, workers and `urls` agreeing, the membership mode having its
// files, and (async) ports free. Facts: docs/trtllm-protocol.md 2.1, 2.2, 3.2, 7, 11. Layer: core.

import type { Document, LineCounter } from 'yaml';

import type { TopologyFiles } from '../model/topology';
import type { ConfigIssue } from './config-issues';
import { CONSOLE_FILE } from './console-file';
import {
  DISAGG_CONFIG_FILE,
  effectivePpSize,
  effectiveTpSize,
  type LoadedTopology,
  loadTopology,
  METADATA_CONFIG_FILE,
} from './load-topology';
import { type ConfigPath, formatPath, locatePath, parseYaml } from './yaml-locate';

/** Locates field paths in the topology's files (each file parsed once). */
class Locator {
  private readonly docs = new Map<
    string,
    { document: Document; lineCounter: LineCounter } | null
  >();
  constructor(private readonly files: TopologyFiles) {}

  issue(
    severity: 'error' | 'warning',
    file: string,
    path: ConfigPath,
    message: string,
    hint?: string,
  ): ConfigIssue {
    let entry = this.docs.get(file);
    if (entry === undefined) {
      const text = this.files[file];
      entry = text === undefined ? null : parseYaml(text, file);
      this.docs.set(file, entry);
    }
    const at = entry ? locatePath(entry.document, entry.lineCounter, path) : { line: 1, column: 1 };
    return {
      file,
      line: at.line,
      column: at.column,
      path: formatPath(path),
      message,
      severity,
      ...(hint ? { hint } : {}),
    };
  }
}

function isLocalHost(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '127.0.0.1' ||
    host === '0.0.0.0' ||
    host === '::1' ||
    host === '[::1]'
  );
}

/** host:port with loopback names folded together, so `localhost:8001` and `127.0.0.1:8001` collide. */
function endpointKey(host: string, port: number): string {
  return `${isLocalHost(host) ? 'local' : host.toLowerCase()}:${port}`;
}

/** The synchronous cross-file checks on a topology whose files all parsed. */
export function crossFileChecks(t: LoadedTopology): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const loc = new Locator(t.files);
  const workers = t.console.workers;
  const wPath = (i: number, key?: string): ConfigPath =>
    key === undefined ? ['workers', i] : ['workers', i, key];
  const optFile = (i: number): string => workers[i]?.optionsFile ?? CONSOLE_FILE;

  // Same KV transfer backend everywhere: a context worker sends KV over it and a generation worker receives
  // it, and a missing backend silently disables disaggregation on that worker (protocol 2.1, 11).
  const backends = workers.map((w) => t.options[w.name]?.cache_transceiver_config?.backend);
  const reference = workers.findIndex((w, i) => w.role === 'context' && backends[i] !== undefined);
  workers.forEach((w, i) => {
    const b = backends[i];
    const path = ['cache_transceiver_config', 'backend'];
    if (b === undefined) {
      out.push(
        w.optionsFile === null
          ? loc.issue(
              'error',
              CONSOLE_FILE,
              wPath(i, 'name'),
              `worker ${w.name} has no options file, so no cache_transceiver_config.backend: disaggregation is disabled on it`,
              'add an options file with cache_transceiver_config: {backend: UCX}',
            )
          : loc.issue(
              'error',
              optFile(i),
              path,
              `worker ${w.name}: cache_transceiver_config.backend is not set, which disables disaggregation on the worker`,
              'set backend: UCX (or NIXL), the same on every worker',
            ),
      );
      return;
    }
    const ref = reference >= 0 ? backends[reference] : undefined;
    const refWorker = reference >= 0 ? workers[reference] : undefined;
    if (ref !== undefined && refWorker && b !== ref) {
      out.push(
        loc.issue(
          'error',
          optFile(i),
          path,
          `worker ${w.name} uses backend ${b} but context worker ${refWorker.name} uses ${ref}; KV transfer needs the same backend on both roles`,
        ),
      );
    }
  });

  workers.forEach((w, i) => {
    const o = t.options[w.name] ?? {};
    // Oct 2025 context workers fail every context-only request with the overlap scheduler on (protocol 2.2).
    if (w.role === 'context' && w.backend === 'pytorch' && o.disable_overlap_scheduler !== true) {
      out.push(
        w.optionsFile === null
          ? loc.issue(
              'error',
              CONSOLE_FILE,
              wPath(i, 'name'),
              `context worker ${w.name} needs disable_overlap_scheduler: true, but has no options file`,
            )
          : loc.issue(
              'error',
              optFile(i),
              o.disable_overlap_scheduler === undefined ? [] : ['disable_overlap_scheduler'],
              `context worker ${w.name} needs disable_overlap_scheduler: true (context-only requests fail with the overlap scheduler on)`,
              'add disable_overlap_scheduler: true',
            ),
      );
    }
    const expected = t.console.expectedMaxInputTokens;
    if (expected !== null && w.optionsFile !== null) {
      const buffer = o.cache_transceiver_config?.max_tokens_in_buffer;
      if (buffer === undefined) {
        out.push(
          loc.issue(
            'warning',
            optFile(i),
            ['cache_transceiver_config'],
            `worker ${w.name}: max_tokens_in_buffer is not set; the upstream README sets it to at least the longest input (${expected} tokens)`,
          ),
        );
      } else if (buffer < expected) {
        out.push(
          loc.issue(
            'error',
            optFile(i),
            ['cache_transceiver_config', 'max_tokens_in_buffer'],
            `worker ${w.name}: max_tokens_in_buffer ${buffer} is less than the longest expected input (${expected} tokens)`,
            `set it to at least ${expected}`,
          ),
        );
      }
    }
    // TP x PP ranks each need one GPU; CUDA_VISIBLE_DEVICES gets exactly the GPUs listed.
    const tp = effectiveTpSize(t, w.name);
    const pp = effectivePpSize(t, w.name);
    if (tp * pp !== w.gpus.length) {
      out.push(
        loc.issue(
          'error',
          CONSOLE_FILE,
          wPath(i, 'gpus'),
          `worker ${w.name} runs TP ${tp} x PP ${pp} = ${tp * pp} GPU${tp * pp === 1 ? '' : 's'} but is given ${w.gpus.length}`,
          `give it ${tp * pp} GPU${tp * pp === 1 ? '' : 's'} or change tensor/pipeline_parallel_size`,
        ),
      );
    }
    const fileTp = o.tensor_parallel_size;
    if (w.tpSize !== null && fileTp !== undefined && fileTp !== w.tpSize) {
      out.push(
        loc.issue(
          'warning',
          CONSOLE_FILE,
          wPath(i, 'tp_size'),
          `worker ${w.name}: tp_size ${w.tpSize} is overridden by tensor_parallel_size ${fileTp} in ${w.optionsFile ?? ''} (the options file wins)`,
        ),
      );
    }
    const filePp = o.pipeline_parallel_size;
    if (w.ppSize !== null && filePp !== undefined && filePp !== w.ppSize) {
      out.push(
        loc.issue(
          'warning',
          CONSOLE_FILE,
          wPath(i, 'pp_size'),
          `worker ${w.name}: pp_size ${w.ppSize} is overridden by pipeline_parallel_size ${filePp} in ${w.optionsFile ?? ''} (the options file wins)`,
        ),
      );
    }
  });

  // A GPU given to two workers is allowed (small models can share) but usually a mistake: warn.
  const gpuOwner = new Map<string, string>();
  workers.forEach((w, i) => {
    w.gpus.forEach((g, j) => {
      const key = `${isLocalHost(w.host) ? 'local' : w.host}#${g}`;
      const owner = gpuOwner.get(key);
      if (owner !== undefined) {
        out.push(
          loc.issue(
            'warning',
            CONSOLE_FILE,
            ['workers', i, 'gpus', j],
            `GPU ${g} is given to both ${owner} and ${w.name}; they will share its memory`,
          ),
        );
      } else gpuOwner.set(key, w.name);
    });
  });

  const portOwner = new Map<string, string>([
    [endpointKey(t.disagg.hostname, t.disagg.port), 'the proxy'],
  ]);
  workers.forEach((w, i) => {
    const key = endpointKey(w.host, w.port);
    const owner = portOwner.get(key);
    if (owner !== undefined) {
      out.push(
        loc.issue(
          'error',
          CONSOLE_FILE,
          wPath(i, 'port'),
          `port ${w.port} is used by both ${owner} and ${w.name}`,
        ),
      );
    } else portOwner.set(key, w.name);
  });

  const models = new Set(workers.map((w) => w.model));
  if (models.size > 1) {
    out.push(
      loc.issue(
        'warning',
        CONSOLE_FILE,
        ['workers'],
        `workers serve different models (${[...models].join(', ')}); context and generation must run the same model`,
      ),
    );
  }

  out.push(...membershipChecks(t, loc));
  return out;
}

/** The membership mode's own rules: static `urls` agreeing with the workers, metadata and disagg_cluster files. */
function membershipChecks(t: LoadedTopology, loc: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const workers = t.console.workers;
  const wPath = (i: number, key?: string): ConfigPath =>
    key === undefined ? ['workers', i] : ['workers', i, key];
  const optFile = (i: number): string => workers[i]?.optionsFile ?? CONSOLE_FILE;
  const roles = new Set(workers.map((w) => w.role));
  const mode = t.console.clusterMode;
  if (mode === 'static') {
    // Static mode: the proxy routes only to `urls` and waits for every one of them at startup (protocol 3.2).
    for (const role of ['context', 'generation'] as const) {
      const section = role === 'context' ? 'context_servers' : 'generation_servers';
      const other = role === 'context' ? 'generation_servers' : 'context_servers';
      const urls = t.disagg[section].urls;
      const listed = new Set(urls.map((u) => endpointKeyFromUrl(u)));
      const otherListed = new Set(t.disagg[other].urls.map((u) => endpointKeyFromUrl(u)));
      workers.forEach((w) => {
        if (w.role !== role) return;
        const key = endpointKey(w.host, w.port);
        if (listed.has(key)) return;
        if (otherListed.has(key)) {
          out.push(
            loc.issue(
              'error',
              DISAGG_CONFIG_FILE,
              [other, 'urls'],
              `${w.host}:${w.port} is ${role} worker ${w.name} but is listed in ${other}.urls`,
            ),
          );
        } else {
          out.push(
            loc.issue(
              'warning',
              DISAGG_CONFIG_FILE,
              [section, 'urls'],
              `${role} worker ${w.name} (${w.host}:${w.port}) is not in ${section}.urls, so the proxy will not route to it`,
              `add "${w.host}:${w.port}"`,
            ),
          );
        }
      });
      const ours = new Set(
        workers.filter((w) => w.role === role).map((w) => endpointKey(w.host, w.port)),
      );
      urls.forEach((u, j) => {
        const key = endpointKeyFromUrl(u);
        if (!ours.has(key) && !workers.some((w) => endpointKey(w.host, w.port) === key)) {
          out.push(
            loc.issue(
              'warning',
              DISAGG_CONFIG_FILE,
              [section, 'urls', j],
              `${u} is not a worker of this topology; the console will not start it and the proxy waits for it at startup`,
            ),
          );
        }
      });
    }
    if (t.metadata) {
      out.push(
        loc.issue(
          'warning',
          METADATA_CONFIG_FILE,
          [],
          'metadata_config.yaml is ignored in static mode',
          'set cluster_mode: metadata in console.yaml to use it',
        ),
      );
    }
  } else if (mode === 'metadata') {
    if (!t.metadata) {
      out.push(
        loc.issue(
          'error',
          CONSOLE_FILE,
          ['cluster_mode'],
          'cluster_mode metadata needs metadata_config.yaml (server_type: etcd, hostname, port)',
        ),
      );
    }
    if (t.disagg.disagg_cluster) {
      out.push(
        loc.issue(
          'error',
          DISAGG_CONFIG_FILE,
          ['disagg_cluster'],
          'disagg_cluster cannot be used with the metadata server (cluster_mode metadata)',
        ),
      );
    }
  } else {
    const cluster = t.disagg.disagg_cluster;
    if (!cluster) {
      out.push(
        loc.issue(
          'error',
          CONSOLE_FILE,
          ['cluster_mode'],
          'cluster_mode disagg_cluster needs a disagg_cluster section (cluster_uri, cluster_name) in disagg_config.yaml',
        ),
      );
    } else {
      // Workers register under /trtllm-disagg/<cluster_name>/workers; with only --disagg_cluster_uri the name is ''
      // (protocol 7.2), so a named cluster needs the section in each worker's options. Timeouts should match.
      workers.forEach((w, i) => {
        const own = t.options[w.name]?.disagg_cluster;
        if (!own) {
          if (cluster.cluster_name !== '') {
            out.push(
              w.optionsFile === null
                ? loc.issue(
                    'error',
                    CONSOLE_FILE,
                    wPath(i, 'name'),
                    `worker ${w.name} would register in cluster '' but the proxy watches cluster_name '${cluster.cluster_name}'`,
                    'give it an options file with a disagg_cluster section',
                  )
                : loc.issue(
                    'error',
                    optFile(i),
                    [],
                    `worker ${w.name} would register in cluster '' (only --disagg_cluster_uri) but the proxy watches cluster_name '${cluster.cluster_name}'`,
                    `add disagg_cluster: {cluster_uri: ${cluster.cluster_uri}, cluster_name: ${cluster.cluster_name}}`,
                  ),
            );
          }
          return;
        }
        if (own.cluster_name !== cluster.cluster_name) {
          out.push(
            loc.issue(
              'error',
              optFile(i),
              ['disagg_cluster', 'cluster_name'],
              `worker ${w.name} registers in cluster '${own.cluster_name}' but the proxy watches '${cluster.cluster_name}'`,
            ),
          );
        }
        if (
          own.inactive_timeout_sec !== cluster.inactive_timeout_sec ||
          own.heartbeat_interval_sec !== cluster.heartbeat_interval_sec
        ) {
          out.push(
            loc.issue(
              'warning',
              optFile(i),
              ['disagg_cluster'],
              `worker ${w.name}: heartbeat_interval_sec/inactive_timeout_sec differ from the proxy's; upstream expects identical values`,
            ),
          );
        }
      });
    }
  }
  if (mode !== 'disagg_cluster') {
    for (const role of ['context', 'generation'] as const) {
      if (
        !roles.has(role) &&
        (role === 'context' ? t.disagg.context_servers : t.disagg.generation_servers).urls
          .length === 0
      ) {
        out.push(
          loc.issue(
            'warning',
            CONSOLE_FILE,
            ['workers'],
            `no ${role} worker in this topology: the proxy answers 503 to every request until one is added`,
          ),
        );
      }
    }
  }
  return out;
}

function endpointKeyFromUrl(url: string): string {
  const i = url.lastIndexOf(':');
  return i < 0 ? url : endpointKey(url.slice(0, i), Number(url.slice(i + 1)));
}

/** Says whether a TCP port can be bound on a host (see port-probe.ts). */
export type PortProbe = (host: string, port: number) => Promise<boolean>;

/** Options of the async port check. */
export interface PortCheckOptions {
  isPortFree: PortProbe;
  /** Ports the console itself holds now (its running workers and proxy), which an apply frees or keeps. */
  ownedPorts?: ReadonlySet<number>;
}

/** Errors for each local worker (and the proxy) port that another process holds. */
export async function checkPortsFree(
  t: LoadedTopology,
  opts: PortCheckOptions,
): Promise<ConfigIssue[]> {
  const loc = new Locator(t.files);
  const owned = opts.ownedPorts ?? new Set<number>();
  const targets: { host: string; port: number; issue: (m: string) => ConfigIssue }[] = [
    {
      host: t.disagg.hostname,
      port: t.disagg.port,
      issue: (m) => loc.issue('error', DISAGG_CONFIG_FILE, ['port'], m),
    },
    ...t.console.workers.map((w, i) => ({
      host: w.host,
      port: w.port,
      issue: (m: string) => loc.issue('error', CONSOLE_FILE, ['workers', i, 'port'], m),
    })),
  ];
  const out: ConfigIssue[] = [];
  for (const target of targets) {
    if (!isLocalHost(target.host) || owned.has(target.port)) continue;
    if (!(await opts.isPortFree(target.host, target.port))) {
      out.push(target.issue(`port ${target.port} is already in use by another process`));
    }
  }
  return out;
}

/** Full pre-flight: per-file parsing, cross-file checks and, with a probe, free ports. */
export async function preflightTopology(
  files: TopologyFiles,
  ports?: PortCheckOptions,
): Promise<{ topology: LoadedTopology | null; issues: ConfigIssue[] }> {
  const loaded = loadTopology(files);
  if (!loaded.topology) return loaded;
  const issues = [...loaded.issues, ...crossFileChecks(loaded.topology)];
  if (ports) issues.push(...(await checkPortsFree(loaded.topology, ports)));
  return { topology: loaded.topology, issues };
}
