// Cross-file pre-flight of a topology before anything starts (feature K3), on top of each file's own
// validation: the same cache_transceiver_config.backend on both roles, disable_overlap_scheduler: true on
// context workers, max_tokens_in_buffer >= the longest expected input, TP x PP = the GPUs given, no GPU
// given twice (warning), no port used twice, workers and `urls` agreeing, the membership mode having its
// files, and (async) ports free. Facts: docs/trtllm-protocol.md 2.1, 2.2, 3.2, 7, 11. Layer: core.

import type { Document, LineCounter } from 'yaml';

import type { TopologyFiles } from '../model/topology';
import { locatedIssue } from './config-checks';
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
import { type ConfigPath, locatePath, parseYaml } from './yaml-locate';

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
    return locatedIssue({ file, at, path, severity, message, hint });
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

/** What every cross-file check reads: the topology, the locator, and where a worker's keys live. */
interface CheckContext {
  t: LoadedTopology;
  loc: Locator;
  workers: LoadedTopology['console']['workers'];
  out: ConfigIssue[];
}

type Worker = CheckContext['workers'][number];

function workerPath(i: number, key?: string): ConfigPath {
  return key === undefined ? ['workers', i] : ['workers', i, key];
}

function optionsFileOf(ctx: CheckContext, i: number): string {
  return ctx.workers[i]?.optionsFile ?? CONSOLE_FILE;
}

/**
 * An error about a key a worker's options file must carry: at the key in that file, or, for a worker with no
 * options file, at its name in console.yaml with words of its own.
 */
function optionsKeyError(
  ctx: CheckContext,
  w: Worker,
  i: number,
  inFile: { path: ConfigPath; message: string; hint?: string },
  noFile: { message: string; hint?: string },
): ConfigIssue {
  return w.optionsFile === null
    ? ctx.loc.issue('error', CONSOLE_FILE, workerPath(i, 'name'), noFile.message, noFile.hint)
    : ctx.loc.issue('error', optionsFileOf(ctx, i), inFile.path, inFile.message, inFile.hint);
}

/** The synchronous cross-file checks on a topology whose files all parsed. */
export function crossFileChecks(t: LoadedTopology): ConfigIssue[] {
  const ctx: CheckContext = { t, loc: new Locator(t.files), workers: t.console.workers, out: [] };
  checkTransferBackends(ctx);
  ctx.workers.forEach((w, i) => {
    checkOverlapScheduler(ctx, w, i);
    checkTransferBuffer(ctx, w, i);
    checkParallelism(ctx, w, i);
  });
  checkSharedGpus(ctx);
  checkPortsUnique(ctx);
  checkOneModel(ctx);
  checkMembership(ctx);
  return ctx.out;
}

// Same KV transfer backend everywhere: a context worker sends KV over it and a generation worker receives
// it, and a missing backend silently disables disaggregation on that worker (protocol 2.1, 11).
function checkTransferBackends(ctx: CheckContext): void {
  const { t, loc, workers, out } = ctx;
  const backends = workers.map((w) => t.options[w.name]?.cache_transceiver_config?.backend);
  const reference = workers.findIndex((w, i) => w.role === 'context' && backends[i] !== undefined);
  const path = ['cache_transceiver_config', 'backend'];
  workers.forEach((w, i) => {
    const b = backends[i];
    if (b === undefined) {
      out.push(
        optionsKeyError(
          ctx,
          w,
          i,
          {
            path,
            message: `worker ${w.name}: cache_transceiver_config.backend is not set, which disables disaggregation on the worker`,
            hint: 'set backend: UCX (or NIXL), the same on every worker',
          },
          {
            message: `worker ${w.name} has no options file, so no cache_transceiver_config.backend: disaggregation is disabled on it`,
            hint: 'add an options file with cache_transceiver_config: {backend: UCX}',
          },
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
          optionsFileOf(ctx, i),
          path,
          `worker ${w.name} uses backend ${b} but context worker ${refWorker.name} uses ${ref}; KV transfer needs the same backend on both roles`,
        ),
      );
    }
  });
}

// Oct 2025 context workers fail every context-only request with the overlap scheduler on (protocol 2.2).
function checkOverlapScheduler(ctx: CheckContext, w: Worker, i: number): void {
  const o = ctx.t.options[w.name] ?? {};
  if (w.role !== 'context' || w.backend !== 'pytorch' || o.disable_overlap_scheduler === true) {
    return;
  }
  ctx.out.push(
    optionsKeyError(
      ctx,
      w,
      i,
      {
        path: o.disable_overlap_scheduler === undefined ? [] : ['disable_overlap_scheduler'],
        message: `context worker ${w.name} needs disable_overlap_scheduler: true (context-only requests fail with the overlap scheduler on)`,
        hint: 'add disable_overlap_scheduler: true',
      },
      {
        message: `context worker ${w.name} needs disable_overlap_scheduler: true, but has no options file`,
      },
    ),
  );
}

/** max_tokens_in_buffer must hold the longest expected input (the upstream README's rule). */
function checkTransferBuffer(ctx: CheckContext, w: Worker, i: number): void {
  const expected = ctx.t.console.expectedMaxInputTokens;
  if (expected === null || w.optionsFile === null) return;
  const buffer = ctx.t.options[w.name]?.cache_transceiver_config?.max_tokens_in_buffer;
  if (buffer === undefined) {
    ctx.out.push(
      ctx.loc.issue(
        'warning',
        optionsFileOf(ctx, i),
        ['cache_transceiver_config'],
        `worker ${w.name}: max_tokens_in_buffer is not set; the upstream README sets it to at least the longest input (${expected} tokens)`,
      ),
    );
  } else if (buffer < expected) {
    ctx.out.push(
      ctx.loc.issue(
        'error',
        optionsFileOf(ctx, i),
        ['cache_transceiver_config', 'max_tokens_in_buffer'],
        `worker ${w.name}: max_tokens_in_buffer ${buffer} is less than the longest expected input (${expected} tokens)`,
        `set it to at least ${expected}`,
      ),
    );
  }
}

// TP x PP ranks each need one GPU; CUDA_VISIBLE_DEVICES gets exactly the GPUs listed.
function checkParallelism(ctx: CheckContext, w: Worker, i: number): void {
  const { t, loc, out } = ctx;
  const tp = effectiveTpSize(t, w.name);
  const pp = effectivePpSize(t, w.name);
  const ranks = tp * pp;
  const plural = ranks === 1 ? '' : 's';
  if (ranks !== w.gpus.length) {
    out.push(
      loc.issue(
        'error',
        CONSOLE_FILE,
        workerPath(i, 'gpus'),
        `worker ${w.name} runs TP ${tp} x PP ${pp} = ${ranks} GPU${plural} but is given ${w.gpus.length}`,
        `give it ${ranks} GPU${plural} or change tensor/pipeline_parallel_size`,
      ),
    );
  }
  const o = t.options[w.name] ?? {};
  const overrides = [
    {
      key: 'tp_size',
      own: w.tpSize,
      fileKey: 'tensor_parallel_size',
      file: o.tensor_parallel_size,
    },
    {
      key: 'pp_size',
      own: w.ppSize,
      fileKey: 'pipeline_parallel_size',
      file: o.pipeline_parallel_size,
    },
  ];
  for (const { key, own, fileKey, file } of overrides) {
    if (own === null || file === undefined || file === own) continue;
    out.push(
      loc.issue(
        'warning',
        CONSOLE_FILE,
        workerPath(i, key),
        `worker ${w.name}: ${key} ${own} is overridden by ${fileKey} ${file} in ${w.optionsFile ?? ''} (the options file wins)`,
      ),
    );
  }
}

// A GPU given to two workers is allowed (small models can share) but usually a mistake: warn.
function checkSharedGpus(ctx: CheckContext): void {
  const gpuOwner = new Map<string, string>();
  ctx.workers.forEach((w, i) => {
    w.gpus.forEach((g, j) => {
      const owner = claim(gpuOwner, `${isLocalHost(w.host) ? 'local' : w.host}#${g}`, w.name);
      if (owner === undefined) return;
      ctx.out.push(
        ctx.loc.issue(
          'warning',
          CONSOLE_FILE,
          ['workers', i, 'gpus', j],
          `GPU ${g} is given to both ${owner} and ${w.name}; they will share its memory`,
        ),
      );
    });
  });
}

/** Gives `key` to `name` unless someone has it already; returns that earlier owner, if any. */
function claim(owners: Map<string, string>, key: string, name: string): string | undefined {
  const owner = owners.get(key);
  if (owner === undefined) owners.set(key, name);
  return owner;
}

function checkPortsUnique(ctx: CheckContext): void {
  const { t } = ctx;
  const portOwner = new Map<string, string>([
    [endpointKey(t.disagg.hostname, t.disagg.port), 'the proxy'],
  ]);
  ctx.workers.forEach((w, i) => {
    const owner = claim(portOwner, endpointKey(w.host, w.port), w.name);
    if (owner === undefined) return;
    ctx.out.push(
      ctx.loc.issue(
        'error',
        CONSOLE_FILE,
        workerPath(i, 'port'),
        `port ${w.port} is used by both ${owner} and ${w.name}`,
      ),
    );
  });
}

function checkOneModel(ctx: CheckContext): void {
  const models = new Set(ctx.workers.map((w) => w.model));
  if (models.size <= 1) return;
  ctx.out.push(
    ctx.loc.issue(
      'warning',
      CONSOLE_FILE,
      ['workers'],
      `workers serve different models (${[...models].join(', ')}); context and generation must run the same model`,
    ),
  );
}

/** The membership mode's own rules: static `urls` agreeing with the workers, metadata and disagg_cluster files. */
function checkMembership(ctx: CheckContext): void {
  const mode = ctx.t.console.clusterMode;
  if (mode === 'static') checkStaticMembership(ctx);
  else if (mode === 'metadata') checkMetadataMembership(ctx);
  else checkDisaggClusterMembership(ctx);
  if (mode !== 'disagg_cluster') checkBothRolesPresent(ctx);
}

// Static mode: the proxy routes only to `urls` and waits for every one of them at startup (protocol 3.2).
function checkStaticMembership(ctx: CheckContext): void {
  for (const role of ['context', 'generation'] as const) checkStaticUrls(ctx, role);
  if (ctx.t.metadata) {
    ctx.out.push(
      ctx.loc.issue(
        'warning',
        METADATA_CONFIG_FILE,
        [],
        'metadata_config.yaml is ignored in static mode',
        'set cluster_mode: metadata in console.yaml to use it',
      ),
    );
  }
}

/** One role's `urls` against the workers of that role: each worker listed, each url a worker. */
function checkStaticUrls(ctx: CheckContext, role: 'context' | 'generation'): void {
  const { t, loc, workers, out } = ctx;
  const section = role === 'context' ? 'context_servers' : 'generation_servers';
  const other = role === 'context' ? 'generation_servers' : 'context_servers';
  const urls = t.disagg[section].urls;
  const listed = new Set(urls.map((u) => endpointKeyFromUrl(u)));
  const otherListed = new Set(t.disagg[other].urls.map((u) => endpointKeyFromUrl(u)));
  for (const w of workers) {
    const key = endpointKey(w.host, w.port);
    if (w.role !== role || listed.has(key)) continue;
    out.push(
      otherListed.has(key)
        ? loc.issue(
            'error',
            DISAGG_CONFIG_FILE,
            [other, 'urls'],
            `${w.host}:${w.port} is ${role} worker ${w.name} but is listed in ${other}.urls`,
          )
        : loc.issue(
            'warning',
            DISAGG_CONFIG_FILE,
            [section, 'urls'],
            `${role} worker ${w.name} (${w.host}:${w.port}) is not in ${section}.urls, so the proxy will not route to it`,
            `add "${w.host}:${w.port}"`,
          ),
    );
  }
  const ours = new Set(workers.map((w) => endpointKey(w.host, w.port)));
  urls.forEach((u, j) => {
    if (ours.has(endpointKeyFromUrl(u))) return;
    out.push(
      loc.issue(
        'warning',
        DISAGG_CONFIG_FILE,
        [section, 'urls', j],
        `${u} is not a worker of this topology; the console will not start it and the proxy waits for it at startup`,
      ),
    );
  });
}

function checkMetadataMembership(ctx: CheckContext): void {
  const { t, loc, out } = ctx;
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
}

function checkDisaggClusterMembership(ctx: CheckContext): void {
  const cluster = ctx.t.disagg.disagg_cluster;
  if (!cluster) {
    ctx.out.push(
      ctx.loc.issue(
        'error',
        CONSOLE_FILE,
        ['cluster_mode'],
        'cluster_mode disagg_cluster needs a disagg_cluster section (cluster_uri, cluster_name) in disagg_config.yaml',
      ),
    );
    return;
  }
  ctx.workers.forEach((w, i) => checkWorkerClusterSection(ctx, cluster, w, i));
}

// Workers register under /trtllm-disagg/<cluster_name>/workers; with only --disagg_cluster_uri the name is ''
// (protocol 7.2), so a named cluster needs the section in each worker's options. Timeouts should match.
function checkWorkerClusterSection(
  ctx: CheckContext,
  cluster: NonNullable<LoadedTopology['disagg']['disagg_cluster']>,
  w: Worker,
  i: number,
): void {
  const { t, loc, out } = ctx;
  const own = t.options[w.name]?.disagg_cluster;
  if (!own) {
    if (cluster.cluster_name === '') return;
    out.push(
      optionsKeyError(
        ctx,
        w,
        i,
        {
          path: [],
          message: `worker ${w.name} would register in cluster '' (only --disagg_cluster_uri) but the proxy watches cluster_name '${cluster.cluster_name}'`,
          hint: `add disagg_cluster: {cluster_uri: ${cluster.cluster_uri}, cluster_name: ${cluster.cluster_name}}`,
        },
        {
          message: `worker ${w.name} would register in cluster '' but the proxy watches cluster_name '${cluster.cluster_name}'`,
          hint: 'give it an options file with a disagg_cluster section',
        },
      ),
    );
    return;
  }
  if (own.cluster_name !== cluster.cluster_name) {
    out.push(
      loc.issue(
        'error',
        optionsFileOf(ctx, i),
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
        optionsFileOf(ctx, i),
        ['disagg_cluster'],
        `worker ${w.name}: heartbeat_interval_sec/inactive_timeout_sec differ from the proxy's; upstream expects identical values`,
      ),
    );
  }
}

function checkBothRolesPresent(ctx: CheckContext): void {
  const roles = new Set(ctx.workers.map((w) => w.role));
  for (const role of ['context', 'generation'] as const) {
    const section =
      role === 'context' ? ctx.t.disagg.context_servers : ctx.t.disagg.generation_servers;
    if (roles.has(role) || section.urls.length > 0) continue;
    ctx.out.push(
      ctx.loc.issue(
        'warning',
        CONSOLE_FILE,
        ['workers'],
        `no ${role} worker in this topology: the proxy answers 503 to every request until one is added`,
      ),
    );
  }
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
