// JSON parse/stringify that keeps integers beyond Number.MAX_SAFE_INTEGER exact, as `bigint`.
// Layer: shared (pure).
//
// Why: `/kv_cache_events` carries uint64 `block_hash`/`parent_hash` values that routinely exceed 2^53
// (trtllm-protocol.md 4.7); plain JSON.parse would round them and the kv_cache_aware router would never match.

/** Any value `parseJsonLossless` can return. */
export type LosslessJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | LosslessJsonValue[]
  | { [key: string]: LosslessJsonValue };

// An integer outside the safe range has at least 16 digits (2^53 = 9007199254740992).
const LONG_DIGIT_RUN = /\d{16,}/;

/**
 * Like JSON.parse, except that integer literals outside the safe integer range become `bigint`.
 * Everything else (floats, exponents, safe integers, strings, nesting) comes back exactly as JSON.parse gives it.
 * Throws SyntaxError on invalid JSON.
 */
export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) {
    return JSON.parse(text) as unknown;
  }
  return new LosslessParser(text).parseDocument();
}

// Character codes used by the parser.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** Recursive-descent JSON parser over char codes (only used when the text may hold big integers). */
class LosslessParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): LosslessJsonValue {
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos !== this.text.length) {
      this.fail('unexpected data after the JSON value');
    }
    return value;
  }

  private fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.pos} in JSON`);
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      // JSON whitespace: space, tab, LF, CR
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        p++;
      } else {
        break;
      }
    }
    this.pos = p;
  }

  /** Skips whitespace and consumes `code` if it comes next. */
  private eat(code: number): boolean {
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === code) {
      this.pos++;
      return true;
    }
    return false;
  }

  private parseValue(): LosslessJsonValue {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case OPEN_BRACE:
        return this.parseObject();
      case OPEN_BRACKET:
        return this.parseArray();
      case QUOTE:
        return this.parseString();
      case 0x74: // t
        return this.parseLiteral('true', true);
      case 0x66: // f
        return this.parseLiteral('false', false);
      case 0x6e: // n
        return this.parseLiteral('null', null);
      default:
        if (Number.isNaN(c)) {
          return this.fail('unexpected end of input');
        }
        return this.parseNumber();
    }
  }

  private parseLiteral<T extends LosslessJsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) {
      this.fail('unexpected token');
    }
    this.pos += word.length;
    return value;
  }

  private scanDigits(): number {
    const t = this.text;
    const from = this.pos;
    while (isDigit(t.charCodeAt(this.pos))) {
      this.pos++;
    }
    return this.pos - from;
  }

  // -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?  (JSON's number grammar)
  private parseNumber(): number | bigint {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) === MINUS) {
      this.pos++;
    }
    const first = t.charCodeAt(this.pos);
    if (first === DIGIT_0) {
      this.pos++;
    } else if (!isDigit(first) || this.scanDigits() === 0) {
      return this.fail('unexpected token');
    }
    let isInteger = true;
    if (t.charCodeAt(this.pos) === DOT) {
      this.pos++;
      isInteger = false;
      if (this.scanDigits() === 0) {
        return this.fail('bad number: digits expected after the decimal point');
      }
    }
    const e = t.charCodeAt(this.pos);
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      isInteger = false;
      const sign = t.charCodeAt(this.pos);
      if (sign === PLUS || sign === MINUS) {
        this.pos++;
      }
      if (this.scanDigits() === 0) {
        return this.fail('bad number: digits expected in the exponent');
      }
    }
    const literal = t.slice(start, this.pos);
    const asNumber = Number(literal);
    if (isInteger && !Number.isSafeInteger(asNumber)) {
      return BigInt(literal);
    }
    return asNumber;
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let hasEscape = false;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === QUOTE) {
        break;
      }
      if (c === BACKSLASH) {
        hasEscape = true;
        i += 2;
        continue;
      }
      if (c < 0x20 || Number.isNaN(c)) {
        this.pos = i;
        this.fail(
          Number.isNaN(c) ? 'unterminated string' : 'bad control character in string literal',
        );
      }
      i++;
    }
    this.pos = i + 1;
    // JSON.parse decodes escapes exactly as the spec says (and validates them).
    return hasEscape ? (JSON.parse(t.slice(start, i + 1)) as string) : t.slice(start + 1, i);
  }

  private parseArray(): LosslessJsonValue[] {
    this.pos++; // [
    const out: LosslessJsonValue[] = [];
    if (this.eat(CLOSE_BRACKET)) {
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      if (this.eat(CLOSE_BRACKET)) {
        return out;
      }
      if (!this.eat(COMMA)) {
        this.fail("expected ',' or ']'");
      }
    }
  }

  private parseObject(): { [key: string]: LosslessJsonValue } {
    this.pos++; // {
    const out: { [key: string]: LosslessJsonValue } = {};
    if (this.eat(CLOSE_BRACE)) {
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== QUOTE) {
        this.fail('expected a property name');
      }
      const key = this.parseString();
      if (!this.eat(COLON)) {
        this.fail("expected ':'");
      }
      const value = this.parseValue();
      if (key === '__proto__') {
        // An own property, as JSON.parse makes it (plain assignment would set the prototype).
        Object.defineProperty(out, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        out[key] = value;
      }
      if (this.eat(CLOSE_BRACE)) {
        return out;
      }
      if (!this.eat(COMMA)) {
        this.fail("expected ',' or '}'");
      }
    }
  }
}

const BIGINT_MARK = '\u0000lossless-bigint:';
/** A marker as JSON.stringify writes it (NUL escaped as \u0000). */
const BIGINT_MARK_JSON = /"\\u0000lossless-bigint:(-?\d+)"/g;

/**
 * Like JSON.stringify, except that a `bigint` is written as bare digits (so uint64 hashes stay exact).
 * Follows JSON.stringify's rules otherwise: `toJSON` is honoured, non-finite numbers become null, undefined,
 * functions and symbols are left out of objects and become null in arrays. A top-level value with no JSON form
 * (undefined, a function) is written as `null`. `indent` works as JSON.stringify's numeric `space`.
 */
export function stringifyJsonLossless(value: unknown, indent = 0): string {
  // Fast path: JSON.stringify writes each bigint as a marker string, which is then replaced by its digits.
  // The marker starts with NUL, which JSON.stringify always escapes, so the output text of a marker is fixed;
  // if a user string happens to look exactly like one, the count differs and the exact writer runs instead.
  let bigints = 0;
  const text = JSON.stringify(
    value,
    (_key, x: unknown) => {
      if (typeof x === 'bigint') {
        bigints++;
        return BIGINT_MARK + x.toString();
      }
      return x;
    },
    indent,
  ) as string | undefined;
  if (text === undefined) {
    return 'null';
  }
  if (bigints === 0) {
    return text;
  }
  let found = 0;
  const out = text.replace(BIGINT_MARK_JSON, (_m, digits: string) => {
    found++;
    return digits;
  });
  return found === bigints ? out : stringifyJsonLosslessExact(value, indent);
}

/** The same output as `stringifyJsonLossless`, by a plain recursive writer (no markers). */
export function stringifyJsonLosslessExact(value: unknown, indent = 0): string {
  const gap = ' '.repeat(Math.max(0, Math.min(10, Math.floor(indent))));
  const seen = new Set<object>();
  return write(value, '') ?? 'null';

  function write(v: unknown, currentIndent: string): string | undefined {
    let x = v;
    if (
      x !== null &&
      typeof x === 'object' &&
      typeof (x as { toJSON?: unknown }).toJSON === 'function'
    ) {
      x = (x as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof x) {
      case 'bigint':
        return x.toString();
      case 'number':
        return Number.isFinite(x) ? JSON.stringify(x) : 'null';
      case 'string':
        return JSON.stringify(x);
      case 'boolean':
        return x ? 'true' : 'false';
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      case 'object':
        break;
    }
    if (x === null) {
      return 'null';
    }
    const obj = x;
    if (seen.has(obj)) {
      throw new TypeError('Converting circular structure to JSON');
    }
    seen.add(obj);
    const inner = currentIndent + gap;
    const open = gap === '' ? '' : `\n${inner}`;
    const sep = gap === '' ? ',' : `,\n${inner}`;
    const close = gap === '' ? '' : `\n${currentIndent}`;
    let out: string;
    if (Array.isArray(obj)) {
      const items = (obj as unknown[]).map((item) => write(item, inner) ?? 'null');
      out = items.length === 0 ? '[]' : `[${open}${items.join(sep)}${close}]`;
    } else {
      const colon = gap === '' ? ':' : ': ';
      const parts: string[] = [];
      for (const key of Object.keys(obj)) {
        const s = write((obj as Record<string, unknown>)[key], inner);
        if (s !== undefined) {
          parts.push(`${JSON.stringify(key)}${colon}${s}`);
        }
      }
      out = parts.length === 0 ? '{}' : `{${open}${parts.join(sep)}${close}}`;
    }
    seen.delete(obj);
    return out;
  }
}
