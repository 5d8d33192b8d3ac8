// Parsers and validators for the upstream TensorRT-LLM files: disagg_config.yaml (the proxy), metadata_config.yaml
// (etcd metadata server) and, re-exported from their own modules, worker options and disagg_cluster. Defaults and
// rules follow upstream's disagg_utils.py as of Oct 2025 (trtllm-protocol.md §3, §7, §10 item 6). Layer: shared (pure).

import type {
  ConditionalDisaggConfig,
  DisaggClusterConfig,
  DisaggConfig,
  MetadataConfig,
  RouterConfig,
  RouterType,
  ServerSectionConfig,
} from '../model/config';
import type { IssueSink, ParseResult } from './config-checks';
import {
  checkBool,
  checkInt,
  checkKnownKeys,
  checkMapping,
  checkNumber,
  checkString,
  deepEqual,
  describeValue,
  isPlainObject,
  parseYamlFile,
} from './config-checks';
import { validateDisaggCluster } from './config-cluster';
import {
  isBeforeDynamicKvRouting,
  NEWER_ROUTERS,
  RELEASE_PROXY_KEYS,
  validateReleaseSettings,
} from './config-release-keys';
import { closestKey } from './config-suggest';
import type { TrtllmVersion } from './trtllm-dialect';
import type { ConfigPath, SourcePosition } from './yaml-locate';

export type { ParseResult } from './config-checks';
export { defaultDisaggClusterConfig, parseDisaggClusterConfig } from './config-cluster';
export { extractMpiWorkerOptions, parseWorkerOptions } from './config-worker-options';

/** Keys `extract_disagg_cfg` takes as its own (Oct 2025); every other top-level key is copied into both sections. */
export const DISAGG_PROXY_KEYS: readonly string[] = [
  'hostname',
  'port',
  'max_retries',
  'perf_metrics_max_requests',
  'context_servers',
  'generation_servers',
  'conditional_disagg_config',
  'otlp_config',
  'disagg_cluster',
];

export const ROUTER_TYPES: readonly RouterType[] = [
  'round_robin',
  'load_balancing',
  'kv_cache_aware',
];

/** Router constructor args that Oct 2025 `router.py` reads (§6); others are swallowed by **kwargs. */
const ROUTER_ARG_KEYS: readonly string[] = [
  'use_tokens',
  'max_batch_size',
  'tokens_per_block',
  'max_num_tokens',
];

export const DISAGG_DEFAULTS = {
  hostname: 'localhost',
  port: 8000,
  max_retries: 1,
  perf_metrics_max_requests: 0,
  num_instances: 1,
  router_type: 'round_robin' as RouterType,
  kv_cache_aware_max_batch_size: 64,
  tokens_per_block: 32,
} as const;

export const METADATA_DEFAULTS = {
  hostname: 'localhost',
  port: 2379,
  health_check_timeout: 5.0,
  refresh_interval: 10.0,
} as const;

export interface DisaggParseOptions {
  /** TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1: no context server is needed (§5.7). */
  genOnlyBenchmark?: boolean;
  /** The proxy also gets `-m metadata_config.yaml` (§7.1). */
  hasMetadataServer?: boolean;
  /** The TensorRT-LLM release the file is for; unset: rules that differ by release are warnings. */
  trtllmVersion?: TrtllmVersion;
  /**
   * The file is a template whose `urls` a launcher writes in (upstream's test harness does this for the
   * test_configs YAMLs): missing urls are not an error.
   */
  urlsFromLauncher?: boolean;
  /**
   * The console routes to the workers of its console.yaml and updates the proxy's membership itself, so a
   * role with no worker is allowed (the proxy answers 503 for it until one is added; docs/state-model.md):
   * the "at least one server" rule becomes a warning instead of an error.
   */
  isMembershipManaged?: boolean;
}

type HostPortCheck =
  { ok: true; host: string; port: number } | { ok: false; message: string; hint?: string };

/**
 * Upstream does `hostname, port_str = url.split(':')` then `int(port_str)` (§3.2), so an entry is exactly
 * `host:port`: no scheme, no IPv6, no path.
 */
function checkHostPort(url: string): HostPortCheck {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    return {
      ok: false,
      message: `must be host:port without a scheme, got ${JSON.stringify(url)} (upstream splits the entry on ':')`,
      hint: `write ${url.slice(scheme[0].length).replace(/\/.*$/, '')}`,
    };
  }
  const parts = url.split(':');
  if (url.startsWith('[') || parts.length > 2) {
    return {
      ok: false,
      message: `must be host:port, got ${JSON.stringify(url)}: IPv6 addresses are not supported (upstream splits the entry on ':')`,
      hint: 'use a hostname or an IPv4 address',
    };
  }
  if (parts.length !== 2) {
    return {
      ok: false,
      message: `must be host:port, got ${JSON.stringify(url)}`,
      hint: `e.g. ${url || 'localhost'}:8001`,
    };
  }
  const [host, portText] = parts as [string, string];
  if (host.trim() === '') {
    return { ok: false, message: `must be host:port with a host name, got ${JSON.stringify(url)}` };
  }
  if (!/^\d+$/.test(portText.trim())) {
    return { ok: false, message: `has port ${JSON.stringify(portText)}, which is not a number` };
  }
  const port = Number(portText.trim());
  if (port < 1 || port > 65535) {
    return { ok: false, message: `has port ${port}, which is outside 1-65535` };
  }
  return { ok: true, host, port };
}

/** Splits a `urls` entry the way upstream does; throws an Error naming the problem for anything else. */
export function splitHostPort(url: string): { host: string; port: number } {
  const r = checkHostPort(url);
  if (!r.ok) throw new Error(`urls entry ${r.message}${r.hint ? ` (${r.hint})` : ''}`);
  return { host: r.host, port: r.port };
}

interface Entry {
  value: unknown;
  /** Where the key is written: in the section, or at the top level when it was copied from there. */
  path: ConfigPath;
}

interface SectionContext {
  sink: IssueSink;
  role: 'context_servers' | 'generation_servers';
  entries: Map<string, Entry>;
  clusterMode: boolean;
}

function parseRouter(ctx: SectionContext, entry: Entry | undefined): RouterConfig {
  const { sink } = ctx;
  const args: Record<string, unknown> = {};
  let type: RouterType = DISAGG_DEFAULTS.router_type;
  let declaredType: string | undefined;
  if (entry && entry.value !== null && entry.value !== undefined) {
    const router = checkMapping(sink, entry.path, entry.value);
    for (const [key, v] of Object.entries(router ?? {})) {
      const path = [...entry.path, key];
      if (key === 'type') {
        if (typeof v !== 'string') {
          sink.error(path, `must be a router name, got ${describeValue(v)}`);
          continue;
        }
        // create_router lower-cases the name (§3.2).
        const lower = v.toLowerCase();
        const newer = NEWER_ROUTERS[lower];
        if ((ROUTER_TYPES as readonly string[]).includes(lower)) type = lower as RouterType;
        else if (newer) {
          type = newer.routesAs;
          declaredType = lower;
          sink.warn(
            path,
            `the ${lower} router is TensorRT-LLM ${newer.since}'s; Disagg Console's proxy routes this section as ${newer.routesAs}`,
          );
        } else {
          sink.error(
            path,
            `unknown router type ${JSON.stringify(v)}; allowed: ${[...ROUTER_TYPES, ...Object.keys(NEWER_ROUTERS)].join(', ')}`,
          );
        }
        continue;
      }
      if (key === 'use_tokens') checkBool(sink, path, v);
      else if (key === 'max_batch_size' || key === 'tokens_per_block' || key === 'max_num_tokens') {
        checkInt(sink, path, v, { min: 1 });
      } else if (isNewerRouterArg(router, key)) checkString(sink, path, v, { nonEmpty: true });
      else {
        const guess = closestKey(key, ROUTER_ARG_KEYS);
        sink.warn(
          path,
          `"${key}" is not a router argument; upstream ignores it`,
          guess ? `did you mean ${guess}?` : undefined,
        );
      }
      args[key] = v;
    }
  }
  // extract_router_config copies these section keys into the router args, overriding the router block (§3.2).
  for (const key of ['max_batch_size', 'max_num_tokens'] as const) {
    const e = ctx.entries.get(key);
    if (e !== undefined) args[key] = e.value;
  }
  const intArg = (key: string, fallback: number): number => {
    const v = args[key];
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : fallback;
  };
  const extra: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(args)) {
    if (key !== 'use_tokens' && key !== 'max_batch_size' && key !== 'tokens_per_block') {
      extra[key] = v;
    }
  }
  for (const required of declaredType ? (NEWER_ROUTERS[declaredType]?.requiredArgs ?? []) : []) {
    if (!(required in args)) {
      sink.error(entry?.path ?? [ctx.role], `the ${declaredType} router needs ${required}`);
    }
  }
  return {
    ...(declaredType ? { declared_type: declaredType } : {}),
    type,
    use_tokens: args.use_tokens === true,
    max_batch_size: intArg('max_batch_size', DISAGG_DEFAULTS.kv_cache_aware_max_batch_size),
    tokens_per_block: intArg('tokens_per_block', DISAGG_DEFAULTS.tokens_per_block),
    extra,
    args,
  };
}

/** An argument a newer router requires (remote_http's remote_url): a known key, not a typo. */
function isNewerRouterArg(router: Record<string, unknown> | undefined, key: string): boolean {
  const name = typeof router?.type === 'string' ? router.type.toLowerCase() : '';
  return NEWER_ROUTERS[name]?.requiredArgs.includes(key) ?? false;
}

function parseUrls(ctx: SectionContext, entry: Entry | undefined): string[] {
  const { sink } = ctx;
  if (!entry || entry.value === null || entry.value === undefined) return [];
  if (!Array.isArray(entry.value)) {
    sink.error(
      entry.path,
      `must be a list of host:port strings, got ${describeValue(entry.value)}`,
    );
    return [];
  }
  const urls: string[] = [];
  entry.value.forEach((item: unknown, i) => {
    const path = [...entry.path, i];
    if (typeof item !== 'string') {
      sink.error(path, `must be a host:port string, got ${describeValue(item)}`);
      return;
    }
    const r = checkHostPort(item);
    if (r.ok) urls.push(item);
    else sink.error(path, r.message, r.hint);
  });
  return urls;
}

const SECTION_OWN_KEYS = new Set([
  'num_instances',
  'urls',
  'router',
  'max_batch_size',
  'max_num_tokens',
  'tensor_parallel_size',
  'pipeline_parallel_size',
]);

function parseSection(ctx: SectionContext): ServerSectionConfig {
  const { sink, entries } = ctx;
  const intEntry = (key: string, min: number, fallback: number): number => {
    const e = entries.get(key);
    if (!e) return fallback;
    return checkInt(sink, e.path, e.value, { min }) ?? fallback;
  };
  const numInstances = intEntry('num_instances', 0, DISAGG_DEFAULTS.num_instances);
  const urlsEntry = entries.get('urls');
  const urls = parseUrls(ctx, urlsEntry);
  const router = parseRouter(ctx, entries.get('router'));
  const section: ServerSectionConfig = {
    num_instances: numInstances,
    urls,
    router,
    tensor_parallel_size: intEntry('tensor_parallel_size', 1, 1),
    pipeline_parallel_size: intEntry('pipeline_parallel_size', 1, 1),
    other: {},
  };
  const maxBatch = entries.get('max_batch_size');
  if (maxBatch) {
    const v = checkInt(sink, maxBatch.path, maxBatch.value, { min: 1 });
    if (v !== undefined) section.max_batch_size = v;
  }
  const maxTokens = entries.get('max_num_tokens');
  if (maxTokens) {
    const v = checkInt(sink, maxTokens.path, maxTokens.value, { min: 1 });
    if (v !== undefined) section.max_num_tokens = v;
  }
  for (const [key, e] of entries) {
    if (!SECTION_OWN_KEYS.has(key)) section.other[key] = e.value;
  }

  if (ctx.clusterMode) {
    if (urlsEntry && Array.isArray(urlsEntry.value) && urlsEntry.value.length > 0) {
      sink.warn(
        urlsEntry.path,
        'urls are ignored when disagg_cluster is set: workers register themselves with the cluster',
      );
    }
  } else if (urlsEntry && Array.isArray(urlsEntry.value) && urlsEntry.value.length > 0) {
    // Only checked when urls is non-empty, as in extract_ctx_gen_cfgs.
    const listed = urlsEntry.value.length;
    if (listed !== numInstances) {
      const at = entries.get('num_instances')?.path ?? urlsEntry.path;
      sink.error(
        at,
        `num_instances is ${numInstances} but urls lists ${listed} server${listed === 1 ? '' : 's'}; they must match`,
      );
    }
  }
  return section;
}

/** The entries of one server section, with the top-level keys copied in (the top-level copy rule, §3.1). */
function sectionEntries(
  sink: IssueSink,
  role: 'context_servers' | 'generation_servers',
  raw: unknown,
  shared: Record<string, unknown>,
  locate: (p: ConfigPath) => SourcePosition,
): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const own = checkMapping(sink, [role], raw, { allowNull: true }) ?? {};
  for (const [key, value] of Object.entries(own)) entries.set(key, { value, path: [role, key] });
  for (const [key, value] of Object.entries(shared)) {
    const mine = entries.get(key);
    if (mine === undefined) entries.set(key, { value, path: [key] });
    else if (!deepEqual(mine.value, value)) {
      sink.error(
        mine.path,
        `is ${describeValue(mine.value)} here but ${describeValue(value)} at the top level (line ${locate([key]).line}); ` +
          'upstream copies top-level keys into both sections and refuses different values',
      );
    }
  }
  return entries;
}

function isEmptySection(v: unknown): boolean {
  return v === null || v === undefined || (isPlainObject(v) && Object.keys(v).length === 0);
}

function checkUrlSets(sink: IssueSink, sections: Record<string, Map<string, Entry>>): void {
  const seen = new Map<string, { role: string; index: number }>();
  for (const role of ['context_servers', 'generation_servers'] as const) {
    const urlsEntry = sections[role]?.get('urls');
    if (!urlsEntry || !Array.isArray(urlsEntry.value)) continue;
    const inRole = new Map<string, number>();
    urlsEntry.value.forEach((item: unknown, i) => {
      if (typeof item !== 'string') return;
      const r = checkHostPort(item);
      if (!r.ok) return;
      const key = `${r.host}:${r.port}`;
      const path = [...urlsEntry.path, i];
      const dup = inRole.get(key);
      if (dup !== undefined) {
        sink.error(path, `${key} is listed twice in ${role} (also urls[${dup}])`);
        return;
      }
      inRole.set(key, i);
      const other = seen.get(key);
      if (other && other.role !== role) {
        sink.warn(
          path,
          `${key} is also a context server (context_servers.urls[${other.index}]); only the deprecated disaggregated_mpi_worker ` +
            'allows one server in both roles',
        );
      }
      if (!seen.has(key)) seen.set(key, { role, index: i });
    });
  }
}

/** A top-level section upstream builds as a dataclass: a mapping whose unknown keys are errors. */
function strictSection(
  sink: IssueSink,
  path: ConfigPath,
  value: unknown,
  keys: readonly string[],
): Record<string, unknown> | undefined {
  const obj = checkMapping(sink, path, value);
  if (!obj) return undefined;
  checkKnownKeys(
    sink,
    path,
    obj,
    keys,
    'upstream rejects unknown keys here (TypeError) and will not start',
  );
  return obj;
}

function parseConditional(sink: IssueSink, value: unknown): ConditionalDisaggConfig | undefined {
  const path = ['conditional_disagg_config'];
  const obj = strictSection(sink, path, value, ['max_local_prefill_length']);
  if (!obj) return undefined;
  const out: ConditionalDisaggConfig = { max_local_prefill_length: 0 };
  if (obj.max_local_prefill_length !== undefined) {
    const v = checkInt(sink, [...path, 'max_local_prefill_length'], obj.max_local_prefill_length, {
      min: 0,
    });
    if (v !== undefined) out.max_local_prefill_length = v;
  }
  return out;
}

function parseOtlp(sink: IssueSink, value: unknown): { otlp_traces_endpoint?: string } | undefined {
  const path = ['otlp_config'];
  const obj = strictSection(sink, path, value, ['otlp_traces_endpoint']);
  if (!obj) return undefined;
  const out: { otlp_traces_endpoint?: string } = {};
  if (obj.otlp_traces_endpoint !== undefined && obj.otlp_traces_endpoint !== null) {
    const v = checkString(sink, [...path, 'otlp_traces_endpoint'], obj.otlp_traces_endpoint);
    if (v !== undefined) out.otlp_traces_endpoint = v;
  }
  return out;
}

/** Validates a parsed disagg_config.yaml value; issues are located through `sink`. */
export function validateDisaggConfig(
  sink: IssueSink,
  root: unknown,
  locate: (p: ConfigPath) => SourcePosition,
  opts: DisaggParseOptions = {},
): DisaggConfig | undefined {
  // `extract_disagg_cfg(**config)`: an empty file has no servers, a non-mapping cannot be splatted.
  const top = root === null || root === undefined ? {} : root;
  if (!isPlainObject(top)) {
    sink.error([], `the file must be a mapping of settings, got ${describeValue(top)}`);
    return undefined;
  }

  const settings = parseProxySettings(sink, top);
  const releaseSettings = validateReleaseSettings(sink, top, opts.trtllmVersion);
  for (const [key, value] of Object.entries(top)) {
    if (DISAGG_PROXY_KEYS.includes(key) || RELEASE_PROXY_KEYS.includes(key)) continue;
    settings.shared_keys[key] = value;
  }

  const clusterRaw = top.disagg_cluster;
  const clusterMode = !isEmptySection(clusterRaw);
  if ('disagg_cluster' in top && !clusterMode) {
    sink.warn(['disagg_cluster'], 'an empty disagg_cluster section is ignored');
  }

  const sections: Record<string, Map<string, Entry>> = {};
  const parseRole = (role: 'context_servers' | 'generation_servers'): ServerSectionConfig => {
    const entries = sectionEntries(sink, role, top[role], settings.shared_keys, locate);
    sections[role] = entries;
    return parseSection({ sink, role, entries, clusterMode });
  };
  const config: DisaggConfig = {
    ...settings,
    context_servers: parseRole('context_servers'),
    generation_servers: parseRole('generation_servers'),
    ...(releaseSettings ? { release_settings: releaseSettings } : {}),
  };

  if (!isEmptySection(top.conditional_disagg_config)) {
    const cond = parseConditional(sink, top.conditional_disagg_config);
    if (cond) {
      config.conditional_disagg_config = cond;
      if (config.generation_servers.router.type !== 'kv_cache_aware') {
        sink.error(
          ['conditional_disagg_config'],
          `conditional disaggregation needs the generation router to be kv_cache_aware, but it is ${config.generation_servers.router.type}`,
          'set generation_servers.router.type: kv_cache_aware',
        );
      }
    }
  }
  if (!isEmptySection(top.otlp_config)) {
    const otlp = parseOtlp(sink, top.otlp_config);
    if (otlp) config.otlp_config = otlp;
  }

  if (clusterMode) checkClusterMembership(sink, { config, sections, clusterRaw, opts });
  else checkStaticServers(sink, { config, sections, opts });
  return config;
}

/** The top-level proxy settings (hostname, port, retries, perf-metrics size); the rest is shared with workers. */
function parseProxySettings(sink: IssueSink, top: Record<string, unknown>) {
  const settings = {
    hostname: DISAGG_DEFAULTS.hostname as string,
    port: DISAGG_DEFAULTS.port as number,
    max_retries: DISAGG_DEFAULTS.max_retries as number,
    perf_metrics_max_requests: DISAGG_DEFAULTS.perf_metrics_max_requests as number,
    shared_keys: {} as Record<string, unknown>,
  };
  if ('hostname' in top) {
    settings.hostname =
      checkString(sink, ['hostname'], top.hostname, { nonEmpty: true }) ?? settings.hostname;
  }
  if ('port' in top) {
    settings.port = checkInt(sink, ['port'], top.port, { min: 0, max: 65535 }) ?? settings.port;
  }
  if ('max_retries' in top) {
    settings.max_retries =
      checkInt(sink, ['max_retries'], top.max_retries, { min: 0 }) ?? settings.max_retries;
  }
  if ('perf_metrics_max_requests' in top) {
    settings.perf_metrics_max_requests =
      checkInt(sink, ['perf_metrics_max_requests'], top.perf_metrics_max_requests, { min: 0 }) ??
      settings.perf_metrics_max_requests;
  }

  return settings;
}

/** What the membership checks read: the parsed config, each role's raw entries, and the parse options. */
interface MembershipInput {
  config: DisaggConfig;
  sections: Record<string, Map<string, Entry>>;
  opts: DisaggParseOptions;
}

/** disagg_cluster mode: the section itself, no metadata server beside it, routers that follow membership. */
function checkClusterMembership(
  sink: IssueSink,
  { config, sections, clusterRaw, opts }: MembershipInput & { clusterRaw: unknown },
): void {
  const cluster: DisaggClusterConfig | undefined = validateDisaggCluster(
    sink,
    ['disagg_cluster'],
    clusterRaw,
  );
  if (cluster) config.disagg_cluster = cluster;
  if (opts.hasMetadataServer) {
    sink.error(['disagg_cluster'], 'Cluster manager and metadata server cannot be used together');
  }
  for (const role of ['context_servers', 'generation_servers'] as const) {
    if (config[role].router.type === 'kv_cache_aware') {
      const at = sections[role]?.get('router')?.path ?? [role];
      // 1.2 builds routers that follow cluster membership (upstream test_configs/*_sd.yaml use it).
      if (isBeforeDynamicKvRouting(opts.trtllmVersion)) {
        sink.error(
          at,
          'the kv_cache_aware router cannot add or remove servers before TensorRT-LLM 1.2, so it cannot be used with disagg_cluster',
          'use round_robin or load_balancing',
        );
      } else if (opts.trtllmVersion === undefined) {
        sink.warn(
          at,
          'kv_cache_aware with disagg_cluster needs TensorRT-LLM 1.2 or later (older routers cannot add or remove servers)',
        );
      }
    }
  }
}

/** Static (or metadata) mode: the servers each role must list, the url sets, routers under a metadata server. */
function checkStaticServers(sink: IssueSink, { config, sections, opts }: MembershipInput): void {
  // A role whose urls has entries that are all invalid already has an error on each entry.
  const listed = (role: string): boolean => {
    const v = sections[role]?.get('urls')?.value;
    return Array.isArray(v) && v.length > 0;
  };
  const requireServers =
    opts.isMembershipManaged === true ? sink.warn.bind(sink) : sink.error.bind(sink);
  if (opts.urlsFromLauncher) {
    // The launcher writes urls in; nothing to require here.
  } else if (!listed('generation_servers')) {
    requireServers(
      sections.generation_servers?.get('urls')?.path ?? ['generation_servers'],
      'at least one generation server is required: list it in generation_servers.urls as host:port',
      'or use disagg_cluster for service discovery',
    );
  }
  if (!listed('context_servers') && !opts.genOnlyBenchmark && !opts.urlsFromLauncher) {
    requireServers(
      sections.context_servers?.get('urls')?.path ?? ['context_servers'],
      'at least one context server is required: list it in context_servers.urls as host:port',
      'only a gen-only benchmark (TRTLLM_DISAGG_BENCHMARK_GEN_ONLY=1) runs without context servers',
    );
  }
  checkUrlSets(sink, sections);
  if (opts.hasMetadataServer) {
    for (const role of ['context_servers', 'generation_servers'] as const) {
      if (config[role].router.type === 'kv_cache_aware') {
        sink.warn(
          sections[role]?.get('router')?.path ?? [role],
          'the kv_cache_aware router cannot change its server list; the metadata server monitor fails when membership changes',
        );
      }
    }
  }
}

/** Parses and validates disagg_config.yaml (`trtllm-serve disaggregated -c`). */
export function parseDisaggConfig(
  text: string,
  file: string,
  opts: DisaggParseOptions = {},
): ParseResult<DisaggConfig> {
  return parseYamlFile(text, file, (sink, root, locate) =>
    validateDisaggConfig(sink, root, locate, opts),
  );
}

const METADATA_KEYS: readonly string[] = [
  'server_type',
  'hostname',
  'port',
  'health_check_timeout',
  'refresh_interval',
];

/** Validates a parsed metadata_config.yaml value (`MetadataServerConfig(**yaml)`, §3.4). */
export function validateMetadataConfig(sink: IssueSink, root: unknown): MetadataConfig | undefined {
  const top = root === null || root === undefined ? {} : root;
  if (!isPlainObject(top)) {
    sink.error([], `the file must be a mapping of settings, got ${describeValue(top)}`);
    return undefined;
  }
  checkKnownKeys(
    sink,
    [],
    top,
    METADATA_KEYS,
    "upstream's MetadataServerConfig rejects unknown keys (TypeError) and will not start",
  );
  const out: MetadataConfig = { server_type: 'etcd', ...METADATA_DEFAULTS };
  if (top.server_type === undefined) {
    sink.error([], 'server_type is required (it has no default)', 'add `server_type: etcd`');
  } else if (top.server_type !== 'etcd') {
    sink.error(
      ['server_type'],
      `must be "etcd" (the only metadata server), got ${describeValue(top.server_type)}`,
    );
  }
  if ('hostname' in top) {
    out.hostname =
      checkString(sink, ['hostname'], top.hostname, { nonEmpty: true }) ?? out.hostname;
  }
  if ('port' in top) {
    out.port = checkInt(sink, ['port'], top.port, { min: 1, max: 65535 }) ?? out.port;
  }
  for (const key of ['health_check_timeout', 'refresh_interval'] as const) {
    if (key in top) {
      out[key] = checkNumber(sink, [key], top[key], { min: 0, exclusiveMin: true }) ?? out[key];
    }
  }
  return out;
}

/** Parses and validates metadata_config.yaml (`-m` / `--metadata_server_config_file`). */
export function parseMetadataConfig(text: string, file: string): ParseResult<MetadataConfig> {
  return parseYamlFile(text, file, (sink, root) => validateMetadataConfig(sink, root));
}
