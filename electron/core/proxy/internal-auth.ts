// Signing of internal disaggregated calls (docs/upstream-versions.md section 2, upstream
// tensorrt_llm/serve/disagg_auth.py, newest shape S4): a generation request whose disaggregated_params
// carry a protected field gets `x-trtllm-disagg-auth: sha256=<hex HMAC-SHA256>` over canonical JSON of the
// signed fields. The canonical JSON is Python's `json.dumps(payload, sort_keys=True, separators=(",", ":"))`
// so our signatures verify on a real worker and a real proxy's verify on our simulated worker.
// Layer: core (node:crypto; the sim uses it to verify).
import { createHmac, timingSafeEqual } from 'node:crypto';

import { HANDOFF_FIELDS } from '../../../shared/logic/trtllm-dialect';

export const INTERNAL_DISAGG_AUTH_HEADER = 'x-trtllm-disagg-auth';
const SIGNATURE_PREFIX = 'sha256=';

/** Fields whose presence (not null) makes a request need a signature. */
export const PROTECTED_FIELDS: readonly string[] = [
  'encoded_opaque_state',
  'ctx_info_endpoint',
  ...HANDOFF_FIELDS,
];
/** The protected fields plus the routing fields that are signed with them. */
const SIGNED_FIELDS: readonly string[] = [
  ...PROTECTED_FIELDS,
  'request_type',
  'ctx_dp_rank',
  'schedule_style',
];

function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** True when a request with these disaggregated_params must be signed. */
export function requiresInternalAuth(
  params: Readonly<Record<string, unknown>> | undefined,
): boolean {
  return params !== undefined && PROTECTED_FIELDS.some((f) => isPresent(params[f]));
}

/** Python's `ensure_ascii` string escaping, as json.dumps writes it. */
function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * A number as Python writes it: integral values as ints (JSON from JS cannot tell 1 from 1.0, and every
 * signed number field is an int), others as Python's float repr: shortest round-trip digits, scientific
 * notation below 1e-4 and from 1e16 up, exponent with a sign and at least two digits.
 */
function pythonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`canonical JSON: ${n} is not a JSON number`);
  if (Number.isInteger(n)) return BigInt(n).toString();
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) return String(n);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))` for JSON data (Python's default ensure_ascii). */
export function pythonCanonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return '[' + value.map((v) => pythonCanonicalJson(v)).join(',') + ']';
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // Python sorts str keys by code point; JS sort on UTF-16 units agrees for the BMP keys used here.
    const keys = Object.keys(obj).sort();
    return (
      '{' + keys.map((k) => pythonString(k) + ':' + pythonCanonicalJson(obj[k])).join(',') + '}'
    );
  }
  throw new Error(`canonical JSON: unsupported value of type ${typeof value}`);
}

/** `ctx_info_endpoint` may be a list on the wire; upstream signs its first element. */
function canonicalEndpoint(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? (v[0] as unknown) : null;
  return v;
}

/** The exact bytes that are signed: every signed field, null when absent. */
export function authPayload(params: Readonly<Record<string, unknown>>): string {
  const payload: Record<string, unknown> = {};
  for (const f of SIGNED_FIELDS) {
    const v = params[f] ?? null;
    payload[f] = f === 'ctx_info_endpoint' ? canonicalEndpoint(v) : v;
  }
  return pythonCanonicalJson(payload);
}

export function signInternalRequest(
  key: string,
  params: Readonly<Record<string, unknown>>,
): string {
  if (key === '') throw new Error('internal_request_auth_key must be a non-empty string');
  return (
    SIGNATURE_PREFIX +
    createHmac('sha256', Buffer.from(key, 'utf8')).update(authPayload(params), 'utf8').digest('hex')
  );
}

/** Headers to add to a generation call: the signature when the params need one and a key is configured. */
export function internalAuthHeaders(
  key: string | undefined,
  params: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  if (!key || !params || !requiresInternalAuth(params)) return {};
  return { [INTERNAL_DISAGG_AUTH_HEADER]: signInternalRequest(key, params) };
}

export type AuthVerdict = { ok: true } | { ok: false; message: string };

/**
 * A worker's check: without a key upstream (S4) only warns and accepts; with a key a protected request
 * needs the exact signature (constant-time compare).
 */
export function verifyInternalRequest(
  key: string | undefined,
  params: Readonly<Record<string, unknown>> | undefined,
  header: string | undefined,
): AuthVerdict {
  if (!params || !requiresInternalAuth(params) || !key) return { ok: true };
  const expected = Buffer.from(signInternalRequest(key, params), 'utf8');
  const provided = Buffer.from(header ?? '', 'utf8');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    return { ok: false, message: 'Invalid internal disaggregated request authentication' };
  }
  return { ok: true };
}
