// Top-level JSON object members as text ranges, so large bodies (a 1 MB chat history, 40k prompt token
// ids) are forwarded as byte copies instead of being parsed and re-serialised on the proxy's event loop
// (docs/performance.md: a large body must not stall other streams). Values are not validated here: the
// worker validates what it receives. The text scanned is the body's bytes decoded as latin1 (one char per
// byte), so a range is a byte range too and an edited body is written as views of the bytes it came in
// (`setMembers`), never re-encoded. Layer: core (pure).

/** A member's value as a range of the source text. */
export interface JsonMember {
  start: number;
  end: number;
}

const PRIMITIVE_END = /[,}\]\s]/g;

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** The index of the first non-whitespace character at or after `pos`. */
export function skipWs(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && isWs(text.charCodeAt(p))) p++;
  return p;
}

/** Index just past the string starting at `pos` (a '"'), or -1. Uses indexOf, so long strings are cheap. */
function skipString(text: string, pos: number): number {
  let k = pos + 1;
  for (;;) {
    const j = text.indexOf('"', k);
    if (j < 0) return -1;
    let backslashes = 0;
    let b = j - 1;
    while (b > pos && text.charCodeAt(b) === 92) {
      backslashes++;
      b--;
    }
    if (backslashes % 2 === 0) return j + 1;
    k = j + 1;
  }
}

const CLOSE_BRACKET = 93;
const NESTING = [91 /* [ */, 123 /* { */, 34 /* " */];

/**
 * Index just past the flat array (no nested array, object or string: token ids) starting at `pos`, or -1
 * when it is not one. Four native byte searches instead of a JS loop over 1.4 MB of ids.
 */
function skipFlatArray(bytes: Buffer, pos: number): number {
  const close = bytes.indexOf(CLOSE_BRACKET, pos);
  if (close < 0) return -1;
  const inner = bytes.subarray(pos + 1, close);
  for (const c of NESTING) if (inner.indexOf(c) >= 0) return -1;
  return close + 1;
}

/**
 * Index just past the value starting at `pos`, or -1. Composites are walked with charCodeAt (no regex
 * match objects per bracket); strings inside them are skipped with indexOf, so long strings stay cheap.
 * With the text's bytes, a flat array is skipped by byte searches.
 */
function skipValue(text: string, pos: number, bytes?: Buffer): number {
  const c = text.charCodeAt(pos);
  if (c === 34 /* " */) return skipString(text, pos);
  if (c === 91 && bytes !== undefined) {
    const end = skipFlatArray(bytes, pos);
    if (end > 0) return end;
  }
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    let p = pos;
    const len = text.length;
    while (p < len) {
      const ch = text.charCodeAt(p);
      if (ch === 34) {
        p = skipString(text, p);
        if (p < 0) return -1;
        continue;
      }
      p++;
      if (ch === 123 || ch === 91) depth++;
      else if (ch === 125 /* } */ || ch === 93 /* ] */) {
        depth--;
        if (depth === 0) return p;
      }
    }
    return -1;
  }
  if (Number.isNaN(c)) return -1;
  PRIMITIVE_END.lastIndex = pos;
  const m = PRIMITIVE_END.exec(text);
  const end = m ? m.index : text.length;
  return end > pos ? end : -1;
}

/**
 * The top-level members of a JSON object text, by key (a repeated key keeps the last, as JSON.parse
 * does); undefined when the text is not an object or its framing is broken. `bytes`, when given, are the
 * bytes `text` was decoded from as latin1 (same offsets): flat arrays are then skipped natively.
 */
export function scanObjectMembers(
  text: string,
  bytes?: Buffer,
): Map<string, JsonMember> | undefined {
  const members = new Map<string, JsonMember>();
  let p = skipWs(text, 0);
  if (text[p] !== '{') return undefined;
  p = skipWs(text, p + 1);
  if (text[p] === '}') return skipWs(text, p + 1) === text.length ? members : undefined;
  for (;;) {
    if (text[p] !== '"') return undefined;
    const keyEnd = skipString(text, p);
    if (keyEnd < 0) return undefined;
    const rawKey = text.slice(p + 1, keyEnd - 1);
    let key = rawKey;
    if (rawKey.includes('\\')) {
      try {
        key = JSON.parse(text.slice(p, keyEnd)) as string;
      } catch {
        return undefined;
      }
    }
    p = skipWs(text, keyEnd);
    if (text[p] !== ':') return undefined;
    p = skipWs(text, p + 1);
    const end = skipValue(text, p, bytes);
    if (end < 0) return undefined;
    members.set(key, { start: p, end });
    p = skipWs(text, end);
    if (text[p] === ',') {
      p = skipWs(text, p + 1);
      continue;
    }
    if (text[p] === '}') return skipWs(text, p + 1) === text.length ? members : undefined;
    return undefined;
  }
}

const quotedKeys = new Map<string, string>();

/** A key as JSON text; the few keys requests use are quoted once and remembered (bounded). */
export function quoteKey(k: string): string {
  const q = quotedKeys.get(k);
  if (q !== undefined) return q;
  const out = JSON.stringify(k);
  if (quotedKeys.size < 1024) quotedKeys.set(k, out);
  return out;
}

/**
 * For a flat JSON array of integers given as text: the range of its single inner list when it is
 * `[[...]]`, of itself when it is `[n, ...]`, undefined otherwise (cheap checks on the first and last
 * characters only).
 */
export function unwrapTokenListRange(raw: string): JsonMember | undefined {
  const start = skipWs(raw, 0);
  let end = raw.length;
  while (end > start && isWs(raw.charCodeAt(end - 1))) end--;
  if (raw[start] !== '[' || raw[end - 1] !== ']') return undefined;
  const innerStart = skipWs(raw, start + 1);
  if (raw[innerStart] === '[') {
    // `[[ids]]` with exactly one inner list: the first ']' closes it and nothing but ws follows.
    const close = raw.indexOf(']', innerStart);
    if (skipWs(raw, close + 1) !== end - 1) return undefined;
    return { start: innerStart, end: close + 1 };
  }
  if (innerStart === end - 1 || /^-?\d/.test(raw.slice(innerStart, innerStart + 2))) {
    return { start, end };
  }
  return undefined;
}

/** unwrapTokenListRange as text. */
export function unwrapTokenListText(raw: string): string | undefined {
  const r = unwrapTokenListRange(raw);
  return r && raw.slice(r.start, r.end);
}

/**
 * The object `bytes` (scanned as `text`, its latin1 decoding, into `members`) with members set: a present
 * key's value replaced where it stands, a missing one appended before the closing brace. Everything else
 * is the original bytes; the result is a list of views to be written in order (no copy of the body).
 */
export function setMembers(
  bytes: Buffer,
  text: string,
  members: ReadonlyMap<string, JsonMember>,
  values: ReadonlyArray<readonly [string, Buffer]>,
): Buffer[] {
  const inPlace: Array<[JsonMember, Buffer]> = [];
  const appended: Buffer[] = [];
  let hasMembers = members.size > 0;
  for (const [key, value] of values) {
    const m = members.get(key);
    if (m !== undefined) {
      inPlace.push([m, value]);
      continue;
    }
    appended.push(Buffer.from((hasMembers ? ',' : '') + quoteKey(key) + ':', 'latin1'), value);
    hasMembers = true;
  }
  inPlace.sort((a, b) => a[0].start - b[0].start);
  const out: Buffer[] = [];
  let pos = 0;
  for (const [m, value] of inPlace) {
    if (m.start > pos) out.push(bytes.subarray(pos, m.start));
    out.push(value);
    pos = m.end;
  }
  const close = text.lastIndexOf('}');
  if (close > pos) out.push(bytes.subarray(pos, close));
  out.push(...appended, bytes.subarray(close));
  return out;
}

/** The text range of the first element of a JSON array text, or undefined (empty array, not an array, broken). */
export function firstArrayElement(text: string): JsonMember | undefined {
  let p = skipWs(text, 0);
  if (text[p] !== '[') return undefined;
  p = skipWs(text, p + 1);
  if (text[p] === ']' || p >= text.length) return undefined;
  const end = skipValue(text, p);
  return end < 0 ? undefined : { start: p, end };
}
