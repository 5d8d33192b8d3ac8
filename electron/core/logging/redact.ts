// Keeps secrets out of the console's log: field values under secret-looking keys (api keys, tokens,
// passwords, Authorization headers, HMAC keys) and secrets written inside message text (`token=...` in a
// URL, `Bearer ...`, `sk-...` keys) become [redacted] before a record is written. pino's own `redact` takes
// fixed paths (one `*` level), which misses a key nested deeper in a field, so the walk is ours; it runs in
// pino's `formatters.log` hook. Layer: core.

export const REDACTED = '[redacted]';

/** Keys whose values are secrets, whatever their spelling (`apiKey`, `api_key`, `x-api-key`, `hmac_key`). */
const SECRET_KEY =
  /(^|[_-])(token|secret|password|passwd|authorization|cookie|api[_-]?key|hmac[_-]?key|private[_-]?key)$|^(apikey|accesstoken|authtoken|hmackey)$/i;

/** Whether a field named `key` holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_KEY.test(key.replace(/([a-z])([A-Z])/g, '$1_$2'));
}

const MAX_DEPTH = 8;

/** A copy of `value` with every secret-keyed value replaced; Errors keep message and stack (scrubbed). */
export function redactFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Error) {
    // Own fields first (e.g. `code`), then what Object.entries misses: name, message, stack.
    const own = redactFields({ ...value }, depth + 1) as Record<string, unknown>;
    return {
      ...own,
      type: value.name,
      message: scrubText(value.message),
      stack: scrubText(value.stack ?? ''),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      isSecretKey(key) && v !== undefined && v !== null ? REDACTED : redactFields(v, depth + 1);
  }
  return out;
}

// `token=abc`, `api_key: abc`, `"apiKey":"abc"`; `Bearer abc`; OpenAI-style `sk-...` keys.
const SECRET_IN_TEXT: readonly [RegExp, string][] = [
  [
    /\b(token|api[_-]?key|apikey|secret|password|hmac[_-]?key)("?\s*[=:]\s*"?)([^\s&"',;]+)/gi,
    `$1$2${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
];

/** `text` with secrets written inside it replaced. */
export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_IN_TEXT) out = out.replace(pattern, replacement);
  return out;
}
