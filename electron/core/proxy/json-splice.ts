// Top-level JSON object members as text ranges, so large bodies (a 1 MB chat history, 40k prompt token
// ids) are forwarded as byte copies instead of being parsed and re-serialised on the proxy's event loop
// (docs/performance.md: a large body must not stall other streams). Values are not validated here: the
// worker validates what it receives. The bytes are scanned as they came (no decoding: on a busy machine
// each large fresh string or buffer costs its page faults, more than the bytes themselves), and an edited
// body is written as views of the bytes it came in (`setMembers`), never re-encoded. Layer: core (pure).

/** A member's value as a byte range of the source. */
export interface JsonMember {
  start: number;
  end: number;
}

/** JSON source: bytes, or a string taken as its UTF-8 bytes (ranges are byte offsets either way). */
export type JsonSource = Buffer | string;

const bytesOf = (src: JsonSource): Buffer => (typeof src === 'string' ? Buffer.from(src) : src);

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const COMMA = 44;
const COLON = 58;
const NESTING = [OPEN_BRACKET, OPEN_BRACE, QUOTE];

function isWs(c: number | undefined): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** The index of the first non-whitespace byte at or after `pos`. */
export function skipWs(b: Buffer, pos: number): number {
  let p = pos;
  while (p < b.length && isWs(b[p])) p++;
  return p;
}

/** Index just past the string starting at `pos` (a '"'), or -1. A native search per quote, so long strings are cheap. */
function skipString(b: Buffer, pos: number): number {
  let k = pos + 1;
  for (;;) {
    const j = b.indexOf(QUOTE, k);
    if (j < 0) return -1;
    let backslashes = 0;
    for (let i = j - 1; i > pos && b[i] === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return j + 1;
    k = j + 1;
  }
}

/**
 * Index just past the flat array (no nested array, object or string: token ids) starting at `pos`, or -1
 * when it is not one. Four native byte searches instead of a JS loop over 1.4 MB of ids.
 */
function skipFlatArray(b: Buffer, pos: number): number {
  const close = b.indexOf(CLOSE_BRACKET, pos);
  if (close < 0) return -1;
  const inner = b.subarray(pos + 1, close);
  for (const c of NESTING) if (inner.indexOf(c) >= 0) return -1;
  return close + 1;
}

/** Index just past a nested array or object starting at `pos`, or -1; strings inside are skipped natively. */
function skipComposite(b: Buffer, pos: number): number {
  let depth = 0;
  let p = pos;
  const len = b.length;
  while (p < len) {
    const c = b[p];
    if (c === QUOTE) {
      p = skipString(b, p);
      if (p < 0) return -1;
      continue;
    }
    p++;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return p;
    }
  }
  return -1;
}

/** Index just past the value starting at `pos`, or -1. */
function skipValue(b: Buffer, pos: number): number {
  const c = b[pos];
  if (c === undefined) return -1;
  if (c === QUOTE) return skipString(b, pos);
  if (c === OPEN_BRACKET) {
    const end = skipFlatArray(b, pos);
    if (end > 0) return end;
  }
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return skipComposite(b, pos);
  // A number, true, false or null: up to the next delimiter.
  let p = pos;
  for (; p < b.length; p++) {
    const d = b[p];
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isWs(d)) break;
  }
  return p > pos ? p : -1;
}

/** The key of the string at [pos, end): its bytes decoded, escapes resolved; undefined if broken. */
function keyAt(b: Buffer, pos: number, end: number): string | undefined {
  const raw = b.toString('utf8', pos + 1, end - 1);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(b.toString('utf8', pos, end)) as string;
  } catch {
    return undefined;
  }
}

/**
 * The top-level members of a JSON object, by key (a repeated key keeps the last, as JSON.parse does);
 * undefined when the source is not an object or its framing is broken. Scanned on the bytes: JSON's
 * framing is ASCII and no byte of a multi-byte UTF-8 character is, so nothing is decoded but the keys.
 */
export function scanObjectMembers(src: JsonSource): Map<string, JsonMember> | undefined {
  const b = bytesOf(src);
  const members = new Map<string, JsonMember>();
  let p = skipWs(b, 0);
  if (b[p] !== OPEN_BRACE) return undefined;
  p = skipWs(b, p + 1);
  if (b[p] === CLOSE_BRACE) return skipWs(b, p + 1) === b.length ? members : undefined;
  for (;;) {
    if (b[p] !== QUOTE) return undefined;
    const keyEnd = skipString(b, p);
    if (keyEnd < 0) return undefined;
    const key = keyAt(b, p, keyEnd);
    if (key === undefined) return undefined;
    p = skipWs(b, keyEnd);
    if (b[p] !== COLON) return undefined;
    p = skipWs(b, p + 1);
    const end = skipValue(b, p);
    if (end < 0) return undefined;
    members.set(key, { start: p, end });
    p = skipWs(b, end);
    if (b[p] === COMMA) {
      p = skipWs(b, p + 1);
      continue;
    }
    if (b[p] === CLOSE_BRACE) return skipWs(b, p + 1) === b.length ? members : undefined;
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
 * For a flat JSON array of integers: the range of its single inner list when it is `[[...]]`, of itself
 * when it is `[n, ...]`, undefined otherwise (cheap checks on the first and last bytes only).
 */
export function unwrapTokenListRange(src: JsonSource): JsonMember | undefined {
  const b = bytesOf(src);
  const start = skipWs(b, 0);
  let end = b.length;
  while (end > start && isWs(b[end - 1])) end--;
  if (b[start] !== OPEN_BRACKET || b[end - 1] !== CLOSE_BRACKET) return undefined;
  const innerStart = skipWs(b, start + 1);
  if (b[innerStart] === OPEN_BRACKET) {
    // `[[ids]]` with exactly one inner list: the first ']' closes it and nothing but ws follows.
    const close = b.indexOf(CLOSE_BRACKET, innerStart);
    if (skipWs(b, close + 1) !== end - 1) return undefined;
    return { start: innerStart, end: close + 1 };
  }
  const c = b[innerStart] === 45 /* - */ ? b[innerStart + 1] : b[innerStart];
  if (innerStart === end - 1 || (c !== undefined && c >= 48 && c <= 57)) return { start, end };
  return undefined;
}

/** unwrapTokenListRange as text. */
export function unwrapTokenListText(raw: string): string | undefined {
  const b = Buffer.from(raw);
  const r = unwrapTokenListRange(b);
  return r && b.toString('utf8', r.start, r.end);
}

/**
 * The object `bytes` (scanned into `members`) with members set: a present key's value replaced where it
 * stands, a missing one appended before the closing brace. Everything else is the original bytes; the
 * result is a list of views to be written in order (no copy of the body).
 */
export function setMembers(
  bytes: Buffer,
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
    appended.push(Buffer.from((hasMembers ? ',' : '') + quoteKey(key) + ':'), value);
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
  const close = bytes.lastIndexOf(CLOSE_BRACE);
  if (close > pos) out.push(bytes.subarray(pos, close));
  out.push(...appended, bytes.subarray(close));
  return out;
}

/** The byte range of the first element of a JSON array, or undefined (empty array, not an array, broken). */
export function firstArrayElement(src: JsonSource): JsonMember | undefined {
  const b = bytesOf(src);
  let p = skipWs(b, 0);
  if (b[p] !== OPEN_BRACKET) return undefined;
  p = skipWs(b, p + 1);
  if (b[p] === CLOSE_BRACKET || p >= b.length) return undefined;
  const end = skipValue(b, p);
  return end < 0 ? undefined : { start: p, end };
}
