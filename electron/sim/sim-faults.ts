// Fault switches of the simulated worker, for tests of the proxy and the supervisor. They are set from the
// env var DISAGG_SIM_FAULTS (JSON) at start and on the control route `/_sim/faults` (GET/POST JSON) at run
// time; neither is part of the OpenAI API or of upstream's trtllm-serve. Layer: electron/sim (pure).

export interface SimFaults {
  /** Exit the process (code 1, like a crash) once this many inference requests have been answered. */
  crashAfterRequests: number | null;
  /** Exit the process (SIGKILL-like, code 137) in the middle of a stream after this many tokens were sent. */
  dieMidStreamAfterTokens: number | null;
  /** Accept inference requests and never answer them. */
  hang: boolean;
  /** Multiply every engine iteration's duration. */
  slowdownFactor: number;
  /** Add this many ms to every engine iteration (works in zero-delay mode too). */
  extraIterationMs: number;
  /** `/health` answers 503 (and `/health_generate` 500). */
  failHealth: boolean;
  /** Inference requests answer this HTTP status (5xx) with an error body instead of generating. */
  answer5xx: number | null;
  /** Destroy the connection of each inference request without an HTTP answer. */
  refuseRequests: boolean;
}

export const NO_FAULTS: SimFaults = {
  crashAfterRequests: null,
  dieMidStreamAfterTokens: null,
  hang: false,
  slowdownFactor: 1,
  extraIterationMs: 0,
  failHealth: false,
  answer5xx: null,
  refuseRequests: false,
};

type FaultsResult = { ok: true; faults: SimFaults } | { ok: false; message: string };

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Applies a JSON patch of fault switches to `base`; unknown keys and wrong types are errors. */
export function applyFaultPatch(base: SimFaults, patch: unknown): FaultsResult {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return { ok: false, message: 'faults must be a JSON object' };
  }
  const next: SimFaults = { ...base };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    switch (key) {
      case 'crashAfterRequests':
      case 'dieMidStreamAfterTokens':
        if (value !== null && !isNonNegInt(value)) {
          return { ok: false, message: `${key} must be a non-negative integer or null` };
        }
        next[key] = value;
        break;
      case 'answer5xx':
        if (value !== null && !(isNonNegInt(value) && value >= 500 && value <= 599)) {
          return { ok: false, message: 'answer5xx must be an HTTP status 500-599 or null' };
        }
        next.answer5xx = value;
        break;
      case 'hang':
      case 'failHealth':
      case 'refuseRequests':
        if (typeof value !== 'boolean') return { ok: false, message: `${key} must be a boolean` };
        next[key] = value;
        break;
      case 'slowdownFactor':
      case 'extraIterationMs':
        if (typeof value !== 'number' || !(value >= 0)) {
          return { ok: false, message: `${key} must be a number >= 0` };
        }
        next[key] = value;
        break;
      default:
        return {
          ok: false,
          message: `unknown fault switch '${key}' (known: ${Object.keys(NO_FAULTS).join(', ')})`,
        };
    }
  }
  return { ok: true, faults: next };
}

/** Reads DISAGG_SIM_FAULTS; an empty or missing value means no faults. */
export function faultsFromEnv(text: string | undefined): FaultsResult {
  if (text === undefined || text.trim() === '') return { ok: true, faults: { ...NO_FAULTS } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, message: `DISAGG_SIM_FAULTS is not valid JSON: ${(err as Error).message}` };
  }
  const result = applyFaultPatch(NO_FAULTS, parsed);
  return result.ok ? result : { ok: false, message: `DISAGG_SIM_FAULTS: ${result.message}` };
}
