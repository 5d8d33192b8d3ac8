// What each TensorRT-LLM release says on the disaggregated path (docs/upstream-versions.md sections 1-7):
// the DisaggregatedParams fields a worker accepts and a context worker returns, request signing, the
// per-request metrics opt-in and the Prometheus route. One table; the simulated worker emulates a row, the
// proxy and the console speak the row of the worker they talk to. Layer: shared (pure).

/** The releases we tell apart (docs/upstream-versions.md section 0). */
export const TRTLLM_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const;
export type TrtllmVersion = (typeof TRTLLM_VERSIONS)[number];

/** How internal generation calls are signed: `none`, or the newest `disagg_auth.py` shape (section 2, S4). */
export type SigningScheme = 'none' | 'hmac-s4';

export interface TrtllmDialect {
  version: TrtllmVersion;
  /** What `GET /version` reports for this release (the sim answers it). */
  versionString: string;
  /** Every `disaggregated_params` field the worker's pydantic model accepts (extra="forbid": others are 400). */
  disaggParamFields: readonly string[];
  /** Fields beyond generation A that a context worker of this release fills in its answer. */
  contextAnswerExtras: readonly string[];
  signing: SigningScheme;
  /** The worker mounts `/prometheus/metrics` (when `return_perf_metrics` is on). */
  hasPrometheusRoute: boolean;
  /** `X-TRTLLM-return-metrics: 1` gets Server-Timing headers / the `trtllm.perf_metrics` stream event. */
  hasRequestMetrics: boolean;
  /** `chat_template` in a request is refused unless `allow_request_chat_template` (section 6). */
  gatesRequestChatTemplate: boolean;
  /** Chat `check_tool_choice` lets `auto` through without tools and asks for a non-empty list (1.3). */
  allowsAutoToolChoiceWithoutTools: boolean;
}

/** Generation A: the five fields of 1.0 and 1.1 (openai_protocol.py). */
const PARAMS_A = [
  'request_type',
  'first_gen_tokens',
  'ctx_request_id',
  'encoded_opaque_state',
  'draft_tokens',
] as const;
/** Generation B (1.2). */
const PARAMS_B_EXTRA = [
  'disagg_request_id',
  'ctx_dp_rank',
  'ctx_info_endpoint',
  'schedule_style',
] as const;
/** Generation C (1.3). */
const PARAMS_C_EXTRA = [
  'first_gen_log_probs',
  'first_gen_logits',
  'ctx_usage',
  'conversation_id',
] as const;
/** Generation D: the handoff fields the newest disagg_auth.py protects (accepted by the 1.3 dialect). */
export const HANDOFF_FIELDS = [
  'logical_request_id',
  'prefill_artifact_id',
  'artifact_version',
  'handoff_attempt_uuid',
  'consumer_grant_id',
  'transfer_session_id',
  'generation_endpoint_name',
  'generation_endpoint_rank',
  'generation_endpoint_incarnation',
  'context_control_endpoint',
  'context_transceiver_lifecycle',
] as const;

const DIALECTS: Record<TrtllmVersion, TrtllmDialect> = {
  '1.0': {
    version: '1.0',
    versionString: '1.0.0',
    disaggParamFields: PARAMS_A,
    contextAnswerExtras: [],
    signing: 'none',
    hasPrometheusRoute: false,
    hasRequestMetrics: false,
    gatesRequestChatTemplate: false,
    allowsAutoToolChoiceWithoutTools: false,
  },
  '1.1': {
    version: '1.1',
    versionString: '1.1.0',
    disaggParamFields: PARAMS_A,
    contextAnswerExtras: [],
    signing: 'none',
    hasPrometheusRoute: true,
    hasRequestMetrics: false,
    gatesRequestChatTemplate: false,
    allowsAutoToolChoiceWithoutTools: false,
  },
  '1.2': {
    version: '1.2',
    versionString: '1.2.0',
    disaggParamFields: [...PARAMS_A, ...PARAMS_B_EXTRA],
    contextAnswerExtras: [
      'disagg_request_id',
      'ctx_dp_rank',
      'ctx_info_endpoint',
      'schedule_style',
    ],
    signing: 'none',
    hasPrometheusRoute: true,
    hasRequestMetrics: false,
    gatesRequestChatTemplate: false,
    allowsAutoToolChoiceWithoutTools: false,
  },
  '1.3': {
    version: '1.3',
    versionString: '1.3.0rc0',
    disaggParamFields: [...PARAMS_A, ...PARAMS_B_EXTRA, ...PARAMS_C_EXTRA, ...HANDOFF_FIELDS],
    contextAnswerExtras: [
      'disagg_request_id',
      'ctx_dp_rank',
      'ctx_info_endpoint',
      'schedule_style',
      'ctx_usage',
      'first_gen_log_probs',
      'first_gen_logits',
    ],
    signing: 'hmac-s4',
    hasPrometheusRoute: true,
    hasRequestMetrics: true,
    gatesRequestChatTemplate: true,
    allowsAutoToolChoiceWithoutTools: true,
  },
};

/** The newest release we know; a newer worker is spoken to in its dialect. */
export const NEWEST_TRTLLM_VERSION: TrtllmVersion = '1.3';

export function dialectOf(version: TrtllmVersion): TrtllmDialect {
  return DIALECTS[version];
}

export function isTrtllmVersion(v: string): v is TrtllmVersion {
  return (TRTLLM_VERSIONS as readonly string[]).includes(v);
}

/**
 * The dialect for a version string as `/version` or `trtllm-serve --version` reports it ("1.2.0",
 * "1.2.0rc6.post2", "1.3.0rc0"): major.minor picks the row, a newer release speaks the newest row.
 * Undefined for text that is not a 1.x version (the caller falls back to a setting or the default).
 */
export function dialectForVersionString(text: string): TrtllmDialect | undefined {
  const m = /(\d+)\.(\d+)/.exec(text.trim());
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 1) return undefined;
  const key = `${major}.${minor}`;
  if (isTrtllmVersion(key)) return DIALECTS[key];
  return DIALECTS[NEWEST_TRTLLM_VERSION];
}

/** Where the console learnt a worker's release (docs/upstream-versions.md section 8). */
export type VersionSource = 'endpoint' | 'binary' | 'setting';

/** The proxy's dialect for a set of workers: the oldest release among them, and whether they differ. */
export interface CommonVersion {
  /** null when no worker's release is known yet (the proxy keeps the one it runs with). */
  version: TrtllmVersion | null;
  /** The distinct releases seen, oldest first. */
  seen: TrtllmVersion[];
  isMixed: boolean;
}

/**
 * The oldest release of `versions`: a proxy in front of mixed workers must not send a field, a signature or
 * a metrics opt-in that one of them refuses, and each release accepts what the older ones send.
 */
export function oldestCommonVersion(versions: readonly TrtllmVersion[]): CommonVersion {
  const seen = TRTLLM_VERSIONS.filter((v) => versions.includes(v));
  return { version: seen[0] ?? null, seen, isMixed: seen.length > 1 };
}
