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
const NUMBER_AT = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

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
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      // JSON whitespace: space, tab, LF, CR
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        this.pos++;
      } else {
        break;
      }
    }
  }

  private parseValue(): LosslessJsonValue {
    this.skipWhitespace();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject();
      case '[':
        return this.parseArray();
      case '"':
        return this.parseString();
      case 't':
        return this.parseLiteral('true', true);
      case 'f':
        return this.parseLiteral('false', false);
      case 'n':
        return this.parseLiteral('null', null);
      case undefined:
        return this.fail('unexpected end of input');
      default:
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

  private parseNumber(): number | bigint {
    NUMBER_AT.lastIndex = this.pos;
    const m = NUMBER_AT.exec(this.text);
    if (!m) {
      return this.fail('unexpected token');
    }
    const literal = m[0];
    this.pos += literal.length;
    const isInteger = m[1] === undefined && m[2] === undefined;
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
      if (Number.isNaN(c)) {
        this.pos = i;
        this.fail('unterminated string');
      }
      if (c === 0x22) {
        break;
      }
      if (c === 0x5c) {
        hasEscape = true;
        i += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        this.fail('bad control character in string literal');
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
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') {
        return out;
      }
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  private parseObject(): { [key: string]: LosslessJsonValue } {
    this.pos++; // {
    const out: { [key: string]: LosslessJsonValue } = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') {
        this.fail('expected a property name');
      }
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') {
        this.fail("expected ':'");
      }
      this.pos++;
      const value = this.parseValue();
      // defineProperty, so that a "__proto__" key becomes an own property as with JSON.parse.
      Object.defineProperty(out, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') {
        return out;
      }
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}

/**
 * Like JSON.stringify, except that a `bigint` is written as bare digits (so uint64 hashes stay exact).
 * Follows JSON.stringify's rules otherwise: `toJSON` is honoured, non-finite numbers become null, undefined,
 * functions and symbols are left out of objects and become null in arrays. A top-level value with no JSON form
 * (undefined, a function) is written as `null`. `indent` works as JSON.stringify's numeric `space`.
 */
export function stringifyJsonLossless(value: unknown, indent = 0): string {
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
