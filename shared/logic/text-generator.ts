// The simulated engine's tokenizer and text generator: a small word-level tokenizer with byte fallback, and a
// deterministic "model" that writes readable English-like sentences. Layer: shared (pure).
//
// Tokenizer: ids 0..255 are raw UTF-8 bytes, 256 is EOS, then four ids per known word ("w", " w", "W", " W").
// A leading space plus a known word is one token; anything else falls back to bytes, so `detokenize(tokenize(s))`
// gives back `s` for any string (lone surrogates are carried WTF-8 style). Text the generator writes
// re-tokenizes to exactly the ids it generated, so token counts and text agree.
//
// Generator contract (critical for disaggregation, trtllm-protocol.md 4.3 and 5): the token at position i is a
// pure function of (prompt token ids, seed, temperature, top_p, ignore_eos/min_tokens, the tokens generated so
// far). A context worker producing token 0 and a generation worker continuing from token 1 therefore write the
// same text as one worker producing everything. Temperature 0 is greedy and ignores the seed.
//
// How it works: a small grammar (determiner, adjective, noun, verb, preposition, ...) gives the allowed kinds of
// the next token and their base weights; the grammar state is re-derived from the tokens of the current sentence
// (bounded look-back). A handful of candidate words per kind is drawn by hashing the context (prompt digest,
// position, previous token), each candidate's logit gets context-seeded Gumbel noise (so greedy decoding reads
// like a sample, not "the the the"), and sampling applies temperature and top_p with a seeded generator.

import {
  ADJECTIVES,
  ADVERBS,
  CONJUNCTIONS,
  DETERMINERS,
  EXTRA_WORDS,
  INTRANSITIVE_VERBS,
  NOUNS,
  OBJECT_PRONOUNS,
  OPENERS,
  PREPOSITIONS,
  SUBJECT_PRONOUNS,
  TRANSITIVE_VERBS,
} from './sim-vocabulary';

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary and token ids

/** End-of-sequence token id. It detokenizes to '' (special tokens are skipped, as upstream does by default). */
export const EOS_TOKEN_ID = 256;
const FIRST_WORD_ID = 257;

const VOCAB_WORDS: readonly string[] = [
  ...new Set([
    ...DETERMINERS,
    ...SUBJECT_PRONOUNS,
    ...OBJECT_PRONOUNS,
    ...ADJECTIVES,
    ...NOUNS,
    ...TRANSITIVE_VERBS,
    ...INTRANSITIVE_VERBS,
    ...ADVERBS,
    ...OPENERS,
    ...PREPOSITIONS,
    ...CONJUNCTIONS,
    ...EXTRA_WORDS,
  ]),
];

/** Number of token ids (bytes, EOS, four forms per word). Ids outside [0, VOCAB_SIZE) are unknown. */
export const VOCAB_SIZE = FIRST_WORD_ID + 4 * VOCAB_WORDS.length;

function capitalize(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** Text of each word token, indexed by id - FIRST_WORD_ID. */
const WORD_TOKEN_TEXT: string[] = [];
/** Text -> first id with that text (words already capitalized, like "I", have duplicate forms). */
const TEXT_TO_ID = new Map<string, number>();
for (const [k, w] of VOCAB_WORDS.entries()) {
  const forms = [w, ` ${w}`, capitalize(w), ` ${capitalize(w)}`];
  for (const [v, form] of forms.entries()) {
    WORD_TOKEN_TEXT.push(form);
    if (!TEXT_TO_ID.has(form)) {
      TEXT_TO_ID.set(form, FIRST_WORD_ID + 4 * k + v);
    }
  }
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** Whether `id` is a known token id (a byte, EOS or a word form). */
export function isKnownTokenId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < VOCAB_SIZE;
}

// ---------------------------------------------------------------------------------------------------------------
// UTF-8 (no TextEncoder here: shared/ is compiled without DOM or Node types)

/** Appends the UTF-8 bytes of the code point at `i` and returns the index after it. */
function pushUtf8(text: string, i: number, out: number[]): number {
  let cp = text.charCodeAt(i);
  let next = i + 1;
  if (cp >= 0xd800 && cp <= 0xdbff && next < text.length) {
    const lo = text.charCodeAt(next);
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      next++;
    }
  }
  if (cp < 0x80) {
    out.push(cp);
  } else if (cp < 0x800) {
    out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    // Also lone surrogates (WTF-8), so that even ill-formed JS strings round-trip.
    out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  } else {
    out.push(
      0xf0 | (cp >> 18),
      0x80 | ((cp >> 12) & 0x3f),
      0x80 | ((cp >> 6) & 0x3f),
      0x80 | (cp & 0x3f),
    );
  }
  return next;
}

/** Length of a UTF-8 sequence from its lead byte; 0 for a byte that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xc2 && lead <= 0xdf) {
    return 2;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    return 4;
  }
  return 0;
}

/** Decodes UTF-8 (surrogates allowed, WTF-8 style); each invalid byte becomes U+FFFD. */
function decodeUtf8(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i] ?? 0;
    const len = sequenceLength(b0);
    if (len === 1) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let cp = len === 2 ? b0 & 0x1f : len === 3 ? b0 & 0x0f : b0 & 0x07;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      const b = bytes[i + k] ?? 0;
      if ((b & 0xc0) !== 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (b & 0x3f);
      }
    }
    const minimum = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
    if (!ok || cp < minimum || cp > 0x10ffff) {
      out += '\ufffd';
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}

/** How many trailing bytes are an incomplete (so far valid) UTF-8 sequence; they must wait for more bytes. */
function incompleteTail(bytes: readonly number[]): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k] ?? 0;
    if ((b & 0xc0) === 0x80) {
      continue;
    }
    return sequenceLength(b) > k ? k : 0;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer

/** Token ids of `text`. Lossless: `detokenize(tokenize(text)) === text` for every string. */
export function tokenize(text: string): number[] {
  const out: number[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const spaced = c === 0x20 && i + 1 < n && isAsciiLetter(text.charCodeAt(i + 1));
    if (spaced || isAsciiLetter(c)) {
      let end = spaced ? i + 1 : i;
      while (end < n && isAsciiLetter(text.charCodeAt(end))) {
        end++;
      }
      const id = TEXT_TO_ID.get(text.slice(i, end));
      if (id !== undefined) {
        out.push(id);
      } else {
        for (let j = i; j < end; j++) {
          out.push(text.charCodeAt(j)); // ASCII: one byte each
        }
      }
      i = end;
      continue;
    }
    i = pushUtf8(text, i, out);
  }
  return out;
}

/** Number of tokens of `text` (as `tokenize(text).length`). */
export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Text of token ids. EOS and unknown ids produce no text; invalid UTF-8 byte runs become U+FFFD. */
export function detokenize(ids: readonly number[]): string {
  const d = createDetokenizer();
  let out = '';
  for (const id of ids) {
    out += d.push(id);
  }
  return out + d.flush();
}

/** Incremental detokenizer for streaming: holds back bytes of a character split across tokens. */
export interface Detokenizer {
  /** Text that became complete with this token ('' while a multi-byte character is pending). */
  push(id: number): string;
  /** Whatever is still pending (an incomplete character becomes U+FFFD). */
  flush(): string;
}

export function createDetokenizer(): Detokenizer {
  let pending: number[] = [];
  const drain = (): string => {
    const s = decodeUtf8(pending);
    pending = [];
    return s;
  };
  return {
    push(id: number): string {
      if (Number.isInteger(id) && id >= 0 && id < EOS_TOKEN_ID) {
        pending.push(id);
        const hold = incompleteTail(pending);
        if (hold === 0) {
          return drain();
        }
        const ready = decodeUtf8(pending.slice(0, pending.length - hold));
        pending = pending.slice(pending.length - hold);
        return ready;
      }
      const word = id >= FIRST_WORD_ID ? WORD_TOKEN_TEXT[id - FIRST_WORD_ID] : undefined;
      if (word === undefined) {
        return ''; // EOS or an unknown id
      }
      return (pending.length > 0 ? drain() : '') + word;
    },
    flush: drain,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stop strings

/** Earliest occurrence of any non-empty stop string in `text` (the first listed wins a tie), or null. */
export function findStop(
  text: string,
  stops: readonly string[],
): { index: number; stop: string } | null {
  let best: { index: number; stop: string } | null = null;
  for (const stop of stops) {
    if (stop === '') {
      continue;
    }
    const index = text.indexOf(stop);
    if (index >= 0 && (best === null || index < best.index)) {
      best = { index, stop };
    }
  }
  return best;
}

/**
 * Length of the longest end of `text` that is the beginning of some stop string (but not a whole one): a
 * streaming server holds that much back until it knows whether a stop string follows.
 */
export function partialStopLength(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const stop of stops) {
    for (let k = Math.min(stop.length - 1, text.length); k > best; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Hashing (32-bit, murmur3-style): deterministic on every platform

function mix(h: number, v: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) >>> 0;
}

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A number in (0, 1) from a hash. */
function unit(h: number): number {
  return (fmix(h) + 0.5) / 0x1_0000_0000;
}

// ---------------------------------------------------------------------------------------------------------------
// Grammar

type Role = 'subject' | 'object' | 'prepObject';

type Kind =
  | 'det'
  | 'adj'
  | 'noun'
  | 'subjPron'
  | 'objPron'
  | 'transVerb'
  | 'intransVerb'
  | 'adverb'
  | 'opener'
  | 'prep'
  | 'conj'
  | 'comma'
  | 'period'
  | 'exclaim'
  | 'eos';

type StateKind =
  | 'sentenceStart' // capitalised first word; after a sentence end, EOS is possible too
  | 'clauseStart' // lowercase: after a conjunction, an opener's comma, or a prompt that ends mid-sentence
  | 'opener' // "Later" -> ","
  | 'phrase' // inside a noun phrase after a determiner or adjective: adjective or noun
  | 'afterSubject'
  | 'afterTransitive'
  | 'afterIntransitive'
  | 'afterObject'
  | 'afterPrep'
  | 'afterPrepObject'
  | 'afterAdverb'
  | 'needConj';

interface GrammarState {
  kind: StateKind;
  /** Noun phrase role and what the next word must agree with (`a` + consonant, `an` + vowel). */
  role: Role;
  article: 'a' | 'an' | 'other';
  adjectives: number;
  /** Tokens since the sentence began; long sentences are steered to an end. */
  sentenceLength: number;
  /** False only for the very first generated token when the prompt ends with whitespace or is empty. */
  needSpace: boolean;
  /** True right after a sentence end (EOS may follow). */
  afterSentenceEnd: boolean;
}

const COMMA_ID = 0x2c;
const PERIOD_ID = 0x2e;
const EXCLAIM_ID = 0x21;
const QUESTION_ID = 0x3f;
const PUNCTUATION_IDS: Partial<Record<Kind, number>> = {
  comma: COMMA_ID,
  period: PERIOD_ID,
  exclaim: EXCLAIM_ID,
  eos: EOS_TOKEN_ID,
};

const WORD_LISTS: Partial<Record<Kind, readonly string[]>> = {
  det: DETERMINERS,
  adj: ADJECTIVES,
  noun: NOUNS,
  subjPron: SUBJECT_PRONOUNS,
  objPron: OBJECT_PRONOUNS,
  transVerb: TRANSITIVE_VERBS,
  intransVerb: INTRANSITIVE_VERBS,
  adverb: ADVERBS,
  opener: OPENERS,
  prep: PREPOSITIONS,
  conj: CONJUNCTIONS,
};
const VOCAB_INDEX = new Map<string, number>(VOCAB_WORDS.map((w, i) => [w, i]));

/** A word list as vocabulary indices, in list order. */
function indicesOf(list: readonly string[]): Int32Array {
  return Int32Array.from(list, (w) => VOCAB_INDEX.get(w) ?? 0);
}

// Index-based tables for the hot path (one lookup per candidate instead of string hashing).
/** Per kind: 1 at the vocabulary indices of its words. */
const KIND_MEMBER: Partial<Record<Kind, Uint8Array>> = {};
/** Per kind: rank of a word in the kind's list (lists are ordered common -> rare), by vocabulary index. */
const KIND_RANK: Partial<Record<Kind, Int32Array>> = {};
/** Per kind: the list as vocabulary indices. */
const KIND_WORDS: Partial<Record<Kind, Int32Array>> = {};
for (const [k, list] of Object.entries(WORD_LISTS)) {
  const member = new Uint8Array(VOCAB_WORDS.length);
  const rank = new Int32Array(VOCAB_WORDS.length);
  for (const [i, w] of list.entries()) {
    const idx = VOCAB_INDEX.get(w) ?? 0;
    member[idx] = 1;
    rank[idx] = i;
  }
  KIND_MEMBER[k as Kind] = member;
  KIND_RANK[k as Kind] = rank;
  KIND_WORDS[k as Kind] = indicesOf(list);
}
const KIND_INDEX: Record<Kind, number> = {
  det: 1,
  adj: 2,
  noun: 3,
  subjPron: 4,
  objPron: 5,
  transVerb: 6,
  intransVerb: 7,
  adverb: 8,
  opener: 9,
  prep: 10,
  conj: 11,
  comma: 12,
  period: 13,
  exclaim: 14,
  eos: 15,
};

const startsWithVowel = (w: string): boolean => /^[aeiou]/.test(w);
const VOWEL_ADJECTIVES = indicesOf(ADJECTIVES.filter(startsWithVowel));
const CONSONANT_ADJECTIVES = indicesOf(ADJECTIVES.filter((w) => !startsWithVowel(w)));
const VOWEL_NOUNS = indicesOf(NOUNS.filter(startsWithVowel));
const CONSONANT_NOUNS = indicesOf(NOUNS.filter((w) => !startsWithVowel(w)));

/** Vocabulary index of a word token, or -1 for bytes, EOS and unknown ids. */
function wordIndexOfToken(id: number): number {
  return id >= FIRST_WORD_ID && id < VOCAB_SIZE ? (id - FIRST_WORD_ID) >> 2 : -1;
}

function wordOfToken(id: number): string | undefined {
  if (id < FIRST_WORD_ID || id >= VOCAB_SIZE) {
    return undefined;
  }
  return VOCAB_WORDS[Math.floor((id - FIRST_WORD_ID) / 4)];
}

/** Weight factors by sentence length: [end of sentence, more words, comma]. */
const LENGTH_FACTORS: readonly (readonly [number, number, number])[] = [
  [1, 1, 0.3], // fewer than 5 tokens
  [1, 1, 1], // 5..13
  [3, 0.4, 0.4], // 14..21
  [20, 0.05, 0.05], // 22 and more
];

function lengthBucket(sentenceLength: number): number {
  return sentenceLength < 5 ? 0 : sentenceLength < 14 ? 1 : sentenceLength < 22 ? 2 : 3;
}

const KINDS_CACHE = new Map<string, readonly (readonly [Kind, number])[]>();

/** The kinds allowed next, with base weights; the order also resolves words that belong to two kinds. */
function allowedKinds(s: GrammarState): readonly (readonly [Kind, number])[] {
  const bucket = lengthBucket(s.sentenceLength);
  const key = `${s.kind}:${bucket}:${s.kind === 'phrase' && s.adjectives === 0 ? 1 : 0}`;
  let kinds = KINDS_CACHE.get(key);
  if (kinds === undefined) {
    kinds = computeKinds(s, LENGTH_FACTORS[bucket] ?? [1, 1, 1]);
    KINDS_CACHE.set(key, kinds);
  }
  return kinds;
}

function computeKinds(
  s: GrammarState,
  [endF, moreF, commaF]: readonly [number, number, number],
): [Kind, number][] {
  switch (s.kind) {
    case 'sentenceStart':
      return [
        ['det', 0.55],
        ['subjPron', 0.3],
        ['opener', 0.15],
      ];
    case 'clauseStart':
      return [
        ['det', 0.6],
        ['subjPron', 0.4],
      ];
    case 'opener':
      return [['comma', 1]];
    case 'phrase': {
      const adj = s.adjectives === 0 ? 0.45 : 0.08;
      return [
        ['noun', 1 - adj],
        ['adj', adj],
      ];
    }
    case 'afterSubject':
      return [
        ['transVerb', 0.6],
        ['intransVerb', 0.4],
      ];
    case 'afterTransitive':
      return [
        ['det', 0.75],
        ['objPron', 0.25],
      ];
    case 'afterIntransitive':
      return [
        ['period', endF * 0.23],
        ['exclaim', endF * 0.02],
        ['prep', moreF * 0.35],
        ['adverb', moreF * 0.3],
        ['comma', commaF * 0.1],
      ];
    case 'afterObject':
      return [
        ['period', endF * 0.33],
        ['exclaim', endF * 0.02],
        ['prep', moreF * 0.35],
        ['adverb', moreF * 0.15],
        ['comma', commaF * 0.15],
      ];
    case 'afterPrep':
      return [
        ['det', 0.85],
        ['objPron', 0.15],
      ];
    case 'afterPrepObject':
      return [
        ['period', endF * 0.52],
        ['exclaim', endF * 0.03],
        ['comma', commaF * 0.25],
        ['prep', moreF * 0.2],
      ];
    case 'afterAdverb':
      return [
        ['period', endF * 0.5],
        ['prep', moreF * 0.3],
        ['comma', commaF * 0.2],
      ];
    case 'needConj':
      return [['conj', 1]];
  }
}

/** Which of the allowed kinds a token is, or undefined if it does not fit the grammar here. */
function classify(id: number, kinds: readonly (readonly [Kind, number])[]): Kind | undefined {
  const idx = wordIndexOfToken(id);
  for (const [kind] of kinds) {
    if (idx >= 0) {
      if (KIND_MEMBER[kind]?.[idx] === 1) {
        return kind;
      }
    } else if (PUNCTUATION_IDS[kind] === id) {
      return kind;
    }
  }
  return undefined;
}

function isSentenceEnd(id: number): boolean {
  return id === PERIOD_ID || id === EXCLAIM_ID || id === QUESTION_ID || id === EOS_TOKEN_ID;
}

function sentenceStartState(needSpace: boolean, afterSentenceEnd: boolean): GrammarState {
  return {
    kind: 'sentenceStart',
    role: 'subject',
    article: 'other',
    adjectives: 0,
    sentenceLength: 0,
    needSpace,
    afterSentenceEnd,
  };
}

/** State for the first generated token, from how the prompt ends. */
function initialState(promptTokenIds: readonly number[]): GrammarState {
  const last = promptTokenIds[promptTokenIds.length - 1];
  if (last === undefined || last === EOS_TOKEN_ID) {
    return sentenceStartState(false, false);
  }
  if (last < 0x80) {
    const ch = String.fromCharCode(last);
    if (/\s/.test(ch)) {
      return sentenceStartState(false, false);
    }
    if ('.!?:;'.includes(ch)) {
      return sentenceStartState(true, false);
    }
  }
  // Mid-sentence (a word, a comma, a digit, ...): continue in lowercase after a space.
  return { ...sentenceStartState(true, false), kind: 'clauseStart' };
}

/** The state after `id` was emitted in state `s`. */
function advance(s: GrammarState, id: number): GrammarState {
  const base = {
    ...s,
    sentenceLength: s.sentenceLength + 1,
    needSpace: true,
    afterSentenceEnd: false,
  };
  const kind = classify(id, allowedKinds(s));
  const word = wordOfToken(id);
  switch (kind) {
    case 'det':
      return {
        ...base,
        kind: 'phrase',
        role:
          s.kind === 'afterTransitive'
            ? 'object'
            : s.kind === 'afterPrep'
              ? 'prepObject'
              : 'subject',
        article: word === 'a' ? 'a' : word === 'an' ? 'an' : 'other',
        adjectives: 0,
      };
    case 'adj':
      return { ...base, kind: 'phrase', article: 'other', adjectives: s.adjectives + 1 };
    case 'noun':
      return {
        ...base,
        kind:
          s.role === 'subject'
            ? 'afterSubject'
            : s.role === 'object'
              ? 'afterObject'
              : 'afterPrepObject',
      };
    case 'subjPron':
      return { ...base, kind: 'afterSubject' };
    case 'objPron':
      return { ...base, kind: s.kind === 'afterPrep' ? 'afterPrepObject' : 'afterObject' };
    case 'transVerb':
      return { ...base, kind: 'afterTransitive' };
    case 'intransVerb':
      return { ...base, kind: 'afterIntransitive' };
    case 'adverb':
      return { ...base, kind: 'afterAdverb' };
    case 'opener':
      return { ...base, kind: 'opener' };
    case 'prep':
      return { ...base, kind: 'afterPrep' };
    case 'conj':
      return { ...base, kind: 'clauseStart' };
    case 'comma':
      return { ...base, kind: s.kind === 'opener' ? 'clauseStart' : 'needConj' };
    case 'period':
    case 'exclaim':
    case 'eos':
      return sentenceStartState(true, true);
    case undefined:
      // Not something this grammar writes (e.g. ids from elsewhere): recover towards a sentence end.
      return isSentenceEnd(id)
        ? sentenceStartState(true, true)
        : { ...base, kind: 'afterObject', sentenceLength: Math.max(base.sentenceLength, 14) };
  }
}

/** A sentence longer than this many tokens is not ours: the generator ends it at once. */
const LOOK_BACK = 64;
/** Forces a sentence end (see the hard stop in `Sampler.next`). */
const RUNAWAY_LENGTH = 48;

/** Grammar state after some tokens, and how many tokens the current sentence has so far. */
interface Replay {
  state: GrammarState;
  sentenceTokens: number;
}

const NEUTRAL_STATE: GrammarState = {
  ...sentenceStartState(true, false),
  kind: 'afterObject',
  sentenceLength: RUNAWAY_LENGTH,
};

/** One token further. Equal, by construction, to replaying from scratch (`replayAll`) one token longer. */
function step(r: Replay, id: number): Replay {
  if (isSentenceEnd(id)) {
    return { state: sentenceStartState(true, true), sentenceTokens: 0 };
  }
  const sentenceTokens = r.sentenceTokens + 1;
  if (sentenceTokens > LOOK_BACK) {
    return { state: NEUTRAL_STATE, sentenceTokens };
  }
  return { state: advance(r.state, id), sentenceTokens };
}

/**
 * The definition of the grammar state after `previous`: replay the current sentence (the tokens after the last
 * sentence end, or from the start with the prompt's initial state); a sentence longer than LOOK_BACK tokens
 * gives the neutral state. Needs at most LOOK_BACK + 1 tokens of look-back.
 */
function replayAll(initial: GrammarState, previous: readonly number[]): Replay {
  const n = previous.length;
  for (let j = n - 1; j >= Math.max(0, n - LOOK_BACK - 1); j--) {
    if (isSentenceEnd(previous[j] ?? 0)) {
      let r: Replay = { state: sentenceStartState(true, true), sentenceTokens: 0 };
      for (let k = j + 1; k < n; k++) {
        r = step(r, previous[k] ?? 0);
      }
      return r;
    }
  }
  if (n > LOOK_BACK) {
    return { state: NEUTRAL_STATE, sentenceTokens: n };
  }
  let r: Replay = { state: initial, sentenceTokens: 0 };
  for (const id of previous) {
    r = step(r, id);
  }
  return r;
}

/** Tokens of look-back that determine the state (see replayAll); a memo is valid while they are unchanged. */
const MEMO_WINDOW = LOOK_BACK + 1;

interface ReplayMemo {
  length: number;
  /** The last min(length, MEMO_WINDOW) tokens. */
  window: number[];
  replay: Replay;
}

function windowMatches(memo: ReplayMemo, previous: readonly number[]): boolean {
  const offset = memo.length - memo.window.length;
  for (let i = 0; i < memo.window.length; i++) {
    if (memo.window[i] !== previous[offset + i]) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling

/** Sampling parameters, as in the OpenAI request (the worker fills in defaults). */
export interface SamplingParams {
  /** Ignored when temperature is 0. Without a request seed the caller passes a random one. */
  seed: number | bigint;
  /** 0 (or less) = greedy. */
  temperature: number;
  /** Nucleus sampling mass in (0, 1]; 1 = all candidates. */
  topP: number;
  /** Never produce EOS (upstream `ignore_eos`). */
  ignoreEos?: boolean;
  /** No EOS before this many generated tokens (upstream `min_tokens`). */
  minTokens?: number;
  /** Test hook: EOS exactly at this position (0-based), unless ignoreEos/minTokens forbid it. */
  eosAtIndex?: number;
}

export interface SamplerOptions extends SamplingParams {
  promptTokenIds: readonly number[];
}

export interface GenerateTokenInput extends SamplerOptions {
  /** Tokens generated so far for this request (its length is the position of the token to produce). */
  previousTokenIds: readonly number[];
}

/** A sampler bound to one prompt and one set of sampling parameters; it precomputes the prompt digest. */
export interface Sampler {
  /** The token that follows `previousTokenIds` (a pure function of them and the sampler's inputs). */
  next(previousTokenIds: readonly number[]): number;
}

const CANDIDATES_PER_KIND = 6;
/** Natural EOS after a sentence end, once the answer is this long. */
const NATURAL_EOS_MIN_TOKENS = 24;
const NATURAL_EOS_WEIGHT = 0.14;

function seedHalves(seed: number | bigint): [number, number] {
  let big: bigint;
  if (typeof seed === 'bigint') {
    big = seed;
  } else {
    big = Number.isFinite(seed) ? BigInt(Math.trunc(seed)) : 0n;
  }
  const u = BigInt.asUintN(64, big);
  return [Number(u & 0xffff_ffffn), Number(u >> 32n)];
}

function promptDigest(promptTokenIds: readonly number[]): number {
  let h = mix(0x9747b28c, promptTokenIds.length);
  for (const id of promptTokenIds) {
    h = mix(h, id);
  }
  return fmix(h);
}

function gumbel(h: number): number {
  return -Math.log(-Math.log(unit(h)));
}

interface Candidate {
  id: number;
  logit: number;
}

/** Up to CANDIDATES_PER_KIND distinct words of a kind (vocabulary indices), drawn by hashing the context. */
function wordCandidates(kind: Kind, state: GrammarState, ctx: number): number[] {
  let list = KIND_WORDS[kind];
  if (state.kind === 'phrase' && state.adjectives === 0 && state.article !== 'other') {
    const vowel = state.article === 'an';
    if (kind === 'adj') {
      list = vowel ? VOWEL_ADJECTIVES : CONSONANT_ADJECTIVES;
    } else if (kind === 'noun') {
      list = vowel ? VOWEL_NOUNS : CONSONANT_NOUNS;
    }
  }
  const picked: number[] = [];
  if (list === undefined || list.length === 0) {
    return picked;
  }
  const want = Math.min(CANDIDATES_PER_KIND, list.length);
  for (let j = 0; j < CANDIDATES_PER_KIND * 2 && picked.length < want; j++) {
    const idx = list[fmix(mix(ctx, KIND_INDEX[kind] * 1009 + j)) % list.length] ?? 0;
    if (!picked.includes(idx)) {
      picked.push(idx);
    }
  }
  return picked;
}

/** Canonical ids of each word's four forms, at 4 x index + form: [w, " w", W, " W"]. */
const FORM_IDS = Int32Array.from(
  VOCAB_WORDS.flatMap((w) =>
    [w, ` ${w}`, capitalize(w), ` ${capitalize(w)}`].map(
      (form) => TEXT_TO_ID.get(form) ?? EOS_TOKEN_ID,
    ),
  ),
);

function candidatesFor(state: GrammarState, ctx: number, eosAllowed: boolean): Candidate[] {
  const kinds = [...allowedKinds(state)];
  if (state.afterSentenceEnd && eosAllowed) {
    kinds.push(['eos', NATURAL_EOS_WEIGHT]);
  }
  let total = 0;
  for (const [, w] of kinds) {
    total += w;
  }
  const out: Candidate[] = [];
  for (const [kind, weight] of kinds) {
    if (weight <= 0) {
      continue;
    }
    const kindLogit = Math.log(weight / total);
    const chosen: { id: number; w: number }[] = [];
    const punctuation = PUNCTUATION_IDS[kind];
    if (punctuation !== undefined) {
      if (kind === 'eos' || classify(punctuation, kinds) === kind) {
        chosen.push({ id: punctuation, w: 1 / 8 });
      }
    } else {
      const form = (state.kind === 'sentenceStart' ? 2 : 0) + (state.needSpace ? 1 : 0);
      const rank = KIND_RANK[kind];
      for (const idx of wordCandidates(kind, state, ctx)) {
        const id = FORM_IDS[4 * idx + form] ?? EOS_TOKEN_ID;
        // Keep only tokens that replay as this kind (a word in two lists belongs to the first allowed one).
        if (classify(id, kinds) !== kind) {
          continue;
        }
        // Zipf-like weight from the word's rank in its list (lists are ordered common -> rare).
        chosen.push({ id, w: 1 / ((rank?.[idx] ?? 0) + 8) });
      }
    }
    let sum = 0;
    for (const c of chosen) {
      sum += c.w;
    }
    for (const c of chosen) {
      out.push({ id: c.id, logit: kindLogit + Math.log(c.w / sum) + gumbel(mix(ctx, c.id)) });
    }
  }
  return out;
}

function pick(candidates: Candidate[], temperature: number, topP: number, u: number): number {
  let best = candidates[0];
  for (const c of candidates) {
    if (best === undefined || c.logit > best.logit) {
      best = c;
    }
  }
  if (best === undefined) {
    return PERIOD_ID;
  }
  if (!(temperature > 0) || !(topP > 0)) {
    return best.id;
  }
  const max = best.logit;
  const weighted = candidates
    .map((c) => ({ id: c.id, p: Math.exp((c.logit - max) / temperature) }))
    .sort((a, b) => b.p - a.p || a.id - b.id);
  const total = weighted.reduce((s, c) => s + c.p, 0);
  const kept: { id: number; p: number }[] = [];
  let mass = 0;
  for (const c of weighted) {
    kept.push(c);
    mass += c.p / total;
    if (mass >= topP) {
      break;
    }
  }
  const keptTotal = kept.reduce((s, c) => s + c.p, 0);
  let r = u * keptTotal;
  for (const c of kept) {
    r -= c.p;
    if (r < 0) {
      return c.id;
    }
  }
  return kept[kept.length - 1]?.id ?? best.id;
}

/** A sampler for one request: call `next(tokensSoFar)` for each position. */
export function createSampler(options: SamplerOptions): Sampler {
  const digest = promptDigest(options.promptTokenIds);
  const initial = initialState(options.promptTokenIds);
  const [seedLo, seedHi] = seedHalves(options.seed);
  const minTokens = options.minTokens ?? 0;
  const promptLast = options.promptTokenIds[options.promptTokenIds.length - 1] ?? -1;
  let memo: ReplayMemo | null = null;
  return {
    next(previousTokenIds: readonly number[]): number {
      const position = previousTokenIds.length;
      const eosAllowed = options.ignoreEos !== true && position >= minTokens;
      if (eosAllowed && options.eosAtIndex === position) {
        return EOS_TOKEN_ID;
      }
      // Incremental when called token by token (the usual case); otherwise a bounded replay. Both give the
      // same state, so the result stays a pure function of the inputs.
      let replay: Replay;
      if (memo !== null && position === memo.length + 1 && windowMatches(memo, previousTokenIds)) {
        replay = step(memo.replay, previousTokenIds[position - 1] ?? 0);
      } else if (
        memo !== null &&
        position === memo.length &&
        windowMatches(memo, previousTokenIds)
      ) {
        replay = memo.replay;
      } else {
        replay = replayAll(initial, previousTokenIds);
      }
      memo = {
        length: position,
        window: previousTokenIds.slice(Math.max(0, position - MEMO_WINDOW)),
        replay,
      };
      const state = replay.state;
      if (state.sentenceLength >= RUNAWAY_LENGTH) {
        return PERIOD_ID; // hard stop for runaway sentences (only reachable with foreign token ids)
      }
      const last = previousTokenIds[position - 1] ?? promptLast;
      const ctx = mix(mix(digest, position), last);
      const candidates = candidatesFor(
        state,
        ctx,
        eosAllowed && position >= NATURAL_EOS_MIN_TOKENS,
      );
      const u = unit(mix(mix(mix(seedLo, seedHi), ctx), 0x5eed));
      return pick(candidates, options.temperature, options.topP, u);
    },
  };
}

/** The token at position `previousTokenIds.length` (see the determinism contract at the top of the file). */
export function generateToken(input: GenerateTokenInput): number {
  return createSampler(input).next(input.previousTokenIds);
}

/** Generates up to `maxTokens` tokens; stops after EOS (which is included as the last id). */
export function generateTokens(options: SamplerOptions & { maxTokens: number }): number[] {
  const sampler = createSampler(options);
  const out: number[] = [];
  while (out.length < options.maxTokens) {
    const id = sampler.next(out);
    out.push(id);
    if (id === EOS_TOKEN_ID) {
      break;
    }
  }
  return out;
}
