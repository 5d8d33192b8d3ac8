// The disaggregated-server YAML keys and routers that TensorRT-LLM added after October 2025
// (docs/upstream-versions.md section 5; upstream tensorrt_llm/llmapi/disagg_utils.py `extract_disagg_cfg`,
// tensorrt_llm/serve/router.py `create_router`), with the release each arrived in and upstream's checks.
// Layer: shared (pure).
import type { DisaggReleaseSettings, RouterType } from '../model/config';
import type { IssueSink } from './config-checks';
import { checkBool, checkEnum, checkInt, checkNumber, checkString } from './config-checks';
import type { TrtllmVersion } from './trtllm-dialect';
import { TRTLLM_VERSIONS } from './trtllm-dialect';

type ReleaseKey = keyof DisaggReleaseSettings;

/** Each key, the release that reads it as a disaggregated-server setting (inferred, section 0) and its check. */
const RELEASE_KEYS: Readonly<
  Record<ReleaseKey, { since: TrtllmVersion; check: (sink: IssueSink, v: unknown) => unknown }>
> = {
  // `0 <= node_id < 2**DISAGG_NODE_ID_BITS`; the dataclass comment gives the range [0, 255].
  node_id: {
    since: '1.2',
    check: (sink, v) => checkInt(sink, ['node_id'], v, { min: 0, max: 255 }),
  },
  schedule_style: {
    since: '1.2',
    check: (sink, v) =>
      checkEnum(sink, ['schedule_style'], v, ['context_first', 'generation_first']),
  },
  return_perf_metrics: {
    since: '1.3',
    check: (sink, v) => checkBool(sink, ['return_perf_metrics'], v),
  },
  perf_metrics_output_dir: {
    since: '1.3',
    check: (sink, v) => checkString(sink, ['perf_metrics_output_dir'], v, { nonEmpty: true }),
  },
  // `validate_config_bool`: a YAML boolean, nothing else.
  allow_request_chat_template: {
    since: '1.3',
    check: (sink, v) => checkBool(sink, ['allow_request_chat_template'], v),
  },
  gen_strip_message_history: {
    since: '1.3',
    check: (sink, v) => checkBool(sink, ['gen_strip_message_history'], v),
  },
  gen_tokids_ctxbytes: {
    since: '1.3',
    check: (sink, v) => checkBool(sink, ['gen_tokids_ctxbytes'], v),
  },
  num_workers: { since: '1.3', check: (sink, v) => checkInt(sink, ['num_workers'], v, { min: 1 }) },
  disagg_coordinator_url: {
    since: '1.3',
    check: (sink, v) => checkString(sink, ['disagg_coordinator_url'], v, { nonEmpty: true }),
  },
  server_keep_alive_timeout: {
    since: '1.3',
    check: (sink, v) =>
      checkNumber(sink, ['server_keep_alive_timeout'], v, { min: 0, exclusiveMin: true }),
  },
  // The serve schema: a string of at least one character (or null).
  internal_request_auth_key: {
    since: '1.3',
    check: (sink, v) => checkString(sink, ['internal_request_auth_key'], v, { nonEmpty: true }),
  },
  // Named in the 2026 server; its value is not read by this console.
  bounded_replay_on_generation: { since: '1.3', check: (_sink, v) => v },
};

export const RELEASE_PROXY_KEYS: readonly string[] = Object.keys(RELEASE_KEYS);

function isOlder(version: TrtllmVersion, than: TrtllmVersion): boolean {
  return TRTLLM_VERSIONS.indexOf(version) < TRTLLM_VERSIONS.indexOf(than);
}

/**
 * Checks the release keys present in `top`. With `version` set, a key that release does not read yet is a
 * warning (that release copies it into both server sections as an LLM arg instead).
 */
export function validateReleaseSettings(
  sink: IssueSink,
  top: Record<string, unknown>,
  version: TrtllmVersion | undefined,
): DisaggReleaseSettings | undefined {
  const out: Record<string, unknown> = {};
  for (const key of RELEASE_PROXY_KEYS) {
    if (!(key in top) || top[key] === null) continue;
    const spec = RELEASE_KEYS[key as ReleaseKey];
    const value = spec.check(sink, top[key]);
    if (value !== undefined) out[key] = value;
    if (version !== undefined && isOlder(version, spec.since)) {
      sink.warn(
        [key],
        `${key} is a disaggregated-server setting from TensorRT-LLM ${spec.since}; ${version} copies it into both server sections as an LLM arg and ignores it`,
      );
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Routers newer than the three this console's proxy implements, and how the proxy routes them instead. */
export const NEWER_ROUTERS: Readonly<
  Record<string, { since: TrtllmVersion; routesAs: RouterType; requiredArgs: readonly string[] }>
> = {
  conversation: { since: '1.3', routesAs: 'round_robin', requiredArgs: [] },
  centralized_kv_cache_aware: { since: '1.3', routesAs: 'kv_cache_aware', requiredArgs: [] },
  // `create_router`: "Requires args={"remote_url": "http://host:port"}".
  remote_http: { since: '1.3', routesAs: 'round_robin', requiredArgs: ['remote_url'] },
};

/** True when `version` is set and older than 1.2, the first release whose kv_cache_aware router follows membership. */
export function isBeforeDynamicKvRouting(version: TrtllmVersion | undefined): boolean {
  return version !== undefined && isOlder(version, '1.2');
}
