// The `disagg_cluster` section (service discovery, trtllm-protocol.md §3.3 and §7.2), found in the proxy's
// disagg_config.yaml and in a worker's options file. Layer: shared (pure).

import type { DisaggClusterConfig } from '../model/config';
import type { IssueSink } from './config-checks';
import {
  checkInt,
  checkKnownKeys,
  checkMapping,
  checkNumber,
  checkString,
  createIssueSink,
  hasErrors,
} from './config-checks';
import type { ConfigIssue } from './config-issues';
import type { ConfigPath } from './yaml-locate';

/** DisaggClusterConfig fields; upstream's `update_dataclass` raises KeyError on anything else. */
export const DISAGG_CLUSTER_KEYS: readonly string[] = [
  'cluster_uri',
  'cluster_name',
  'minimal_instances',
  'heartbeat_interval_sec',
  'inactive_timeout_sec',
];

/** MinimalInstances fields. */
export const MINIMAL_INSTANCES_KEYS: readonly string[] = ['context_servers', 'generation_servers'];

export const DISAGG_CLUSTER_DEFAULTS = {
  cluster_name: '',
  minimal_instances: { context_servers: 1, generation_servers: 1 },
  heartbeat_interval_sec: 5,
  inactive_timeout_sec: 10,
} as const;

/** The config a worker builds from `--disagg_cluster_uri` alone, when its options file has no section (§1.1). */
export function defaultDisaggClusterConfig(clusterUri: string): DisaggClusterConfig {
  return {
    cluster_uri: clusterUri,
    cluster_name: DISAGG_CLUSTER_DEFAULTS.cluster_name,
    minimal_instances: { ...DISAGG_CLUSTER_DEFAULTS.minimal_instances },
    heartbeat_interval_sec: DISAGG_CLUSTER_DEFAULTS.heartbeat_interval_sec,
    inactive_timeout_sec: DISAGG_CLUSTER_DEFAULTS.inactive_timeout_sec,
  };
}

const UNKNOWN_KEY_WHY =
  'upstream rejects unknown disagg_cluster keys (KeyError) and will not start';

/**
 * Validates a `disagg_cluster` mapping found at `path`. `clusterUri` (the worker's `--disagg_cluster_uri`)
 * overrides the file's `cluster_uri`, as serve.py does. Returns undefined when there were errors.
 */
export function validateDisaggCluster(
  sink: IssueSink,
  path: ConfigPath,
  value: unknown,
  clusterUri?: string,
): DisaggClusterConfig | undefined {
  const obj = checkMapping(sink, path, value);
  if (!obj) return undefined;
  const before = sink.issues.filter((i) => i.severity === 'error').length;
  checkKnownKeys(sink, path, obj, DISAGG_CLUSTER_KEYS, UNKNOWN_KEY_WHY);

  const out = defaultDisaggClusterConfig('');
  if (clusterUri !== undefined) {
    out.cluster_uri = clusterUri;
  } else if (obj.cluster_uri === undefined || obj.cluster_uri === null) {
    sink.error(
      path,
      'cluster_uri is required',
      'add cluster_uri: http://<proxy-host>:<proxy-port> or etcd://<host>:<port>; a worker may pass --disagg_cluster_uri instead',
    );
  } else {
    const uri = checkString(sink, [...path, 'cluster_uri'], obj.cluster_uri, { nonEmpty: true });
    if (uri !== undefined) {
      if (!/^(https?|etcd):\/\/[^/\s]+/.test(uri)) {
        sink.error(
          [...path, 'cluster_uri'],
          `must be http://<host>:<port> (the proxy's own store) or etcd://<host>:<port>, got ${JSON.stringify(uri)}`,
        );
      } else {
        out.cluster_uri = uri;
      }
    }
  }

  // Upstream skips None values and keeps the dataclass default.
  if (obj.cluster_name !== undefined && obj.cluster_name !== null) {
    const name = checkString(sink, [...path, 'cluster_name'], obj.cluster_name);
    if (name !== undefined) out.cluster_name = name;
  }

  if (obj.minimal_instances !== undefined && obj.minimal_instances !== null) {
    const mpath = [...path, 'minimal_instances'];
    const mi = checkMapping(sink, mpath, obj.minimal_instances);
    if (mi) {
      checkKnownKeys(
        sink,
        mpath,
        mi,
        MINIMAL_INSTANCES_KEYS,
        'upstream rejects unknown minimal_instances keys (KeyError)',
      );
      for (const role of ['context_servers', 'generation_servers'] as const) {
        if (mi[role] === undefined || mi[role] === null) continue;
        const n = checkInt(sink, [...mpath, role], mi[role], { min: 0 });
        if (n !== undefined) out.minimal_instances[role] = n;
      }
    }
  }

  if (obj.heartbeat_interval_sec !== undefined && obj.heartbeat_interval_sec !== null) {
    const hb = checkNumber(sink, [...path, 'heartbeat_interval_sec'], obj.heartbeat_interval_sec);
    if (hb !== undefined) out.heartbeat_interval_sec = hb;
  }
  if (obj.inactive_timeout_sec !== undefined && obj.inactive_timeout_sec !== null) {
    // It becomes the TTL of the worker's key (an etcd lease TTL is whole seconds).
    const ttl = checkInt(sink, [...path, 'inactive_timeout_sec'], obj.inactive_timeout_sec, {
      min: 1,
    });
    if (ttl !== undefined) out.inactive_timeout_sec = ttl;
  }
  if (out.heartbeat_interval_sec <= 0 || out.heartbeat_interval_sec >= out.inactive_timeout_sec) {
    sink.warn(
      [
        ...path,
        obj.heartbeat_interval_sec === undefined
          ? 'inactive_timeout_sec'
          : 'heartbeat_interval_sec',
      ],
      `heartbeats are disabled: heartbeat_interval_sec (${out.heartbeat_interval_sec}) must be greater than 0 and less than ` +
        `inactive_timeout_sec (${out.inactive_timeout_sec}), so worker registrations expire after inactive_timeout_sec`,
    );
  }

  const after = sink.issues.filter((i) => i.severity === 'error').length;
  return after > before ? undefined : out;
}

export interface DisaggClusterParseOptions {
  /** `--disagg_cluster_uri` given on the worker command line: overrides the section's `cluster_uri`. */
  clusterUri?: string;
  /** File name used in issues when no sink is given. */
  file?: string;
  /** Report into this sink (with real positions) instead of a fresh one. */
  sink?: IssueSink;
  /** Where the section sits in the sink's document; default: the root. */
  path?: ConfigPath;
}

/**
 * Parses a `disagg_cluster` section given as a plain value (from a proxy file, a worker options file, or
 * built by the console). Issues are located through `opts.sink` when given, else at 1:1 of `opts.file`.
 */
export function parseDisaggClusterConfig(
  value: unknown,
  opts: DisaggClusterParseOptions = {},
):
  | { ok: true; value: DisaggClusterConfig; issues: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[] } {
  const sink =
    opts.sink ?? createIssueSink(opts.file ?? 'disagg_cluster', () => ({ line: 1, column: 1 }));
  const start = sink.issues.length;
  const parsed = validateDisaggCluster(sink, opts.path ?? [], value, opts.clusterUri);
  const issues = sink.issues.slice(start);
  if (parsed === undefined || hasErrors(issues)) return { ok: false, issues };
  return { ok: true, value: parsed, issues };
}
