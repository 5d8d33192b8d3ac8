// Top-level JSON object members as text ranges, so large bodies (a 1 MB chat history, 40k prompt token
// ids) are forwarded as byte copies instead of being parsed and re-serialised on the proxy's event loop
// (docs/performance.md: a large body must not stall other streams). Values are not validated here: the
// worker validates what it receives. Layer: core (pure).

/** A member's value as a range of the source text. */
export interface JsonMember {
  start: number;
  end: number;
}

const PRIMITIVE_END = /[,}\]\s]/g;

function skipWs(text: string, pos: number): number {
  let p = pos;
  while (p < text.length) {
    const c = text.charCodeAt(p);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    p++;
  }
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

/**
 * Index just past the value starting at `pos`, or -1. Composites are walked with charCodeAt (no regex
 * match objects per bracket); strings inside them are skipped with indexOf, so long strings stay cheap.
 */
function skipValue(text: string, pos: number): number {
  const c = text.charCodeAt(pos);
  if (c === 34 /* " */) return skipString(text, pos);
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
 * does); undefined when the text is not an object or its framing is broken.
 */
export function scanObjectMembers(text: string): Map<string, JsonMember> | undefined {
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
    const end = skipValue(text, p);
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
 * For a flat JSON array of integers given as text: its single inner list when it is `[[...]]`, itself
 * when it is `[n, ...]`, undefined otherwise (cheap checks on the first and last characters only).
 */
export function unwrapTokenListText(raw: string): string | undefined {
  const t = raw.trim();
  if (t[0] !== '[' || t[t.length - 1] !== ']') return undefined;
  const inner = t.slice(1, -1).trim();
  if (inner[0] === '[') {
    // `[[ids]]` with exactly one inner list: the first ']' closes it and nothing but ws follows.
    const close = inner.indexOf(']');
    if (close !== inner.length - 1) return undefined;
    return inner;
  }
  if (inner === '' || /^-?\d/.test(inner)) return t;
  return undefined;
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
