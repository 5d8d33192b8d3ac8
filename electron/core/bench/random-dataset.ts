// The load test's random dataset (benchmark_serving `--dataset-name random`: `--random-input-len`,
// `--random-output-len`, `--random-range-ratio`, `--random-prefix-len`) and the seeded random numbers behind
// it and behind Poisson/gamma arrivals. Prompts are words of the simulated tokenizer's vocabulary, one token
// per word, so the prompt length is exact on the simulated worker; a real model's tokenizer counts them
// differently, which is why the run reports the server's usage.prompt_tokens when there is one.
// Layer: core (pure functions).
import {
  ADJECTIVES,
  ADVERBS,
  EXTRA_WORDS,
  NOUNS,
  TRANSITIVE_VERBS,
} from '../../../shared/logic/sim-vocabulary';
import type { SampleRequest } from './bench-types';

/** A seeded uniform generator in [0, 1) (mulberry32: small, fast, good enough for sampling). */
export type Random = () => number;

export function createRandom(seed: number): Random {
  let a = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal (Box-Muller). */
function normal(rand: Random): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A gamma(shape, scale) sample (Marsaglia-Tsang). Shape 1 is the exponential distribution, so the intervals of
 * a Poisson process of rate r are gamma(1, 1/r); benchmark_serving's burstiness b uses gamma(b, 1/(r*b)).
 */
export function sampleGamma(rand: Random, shape: number, scale: number): number {
  if (!(shape > 0 && scale > 0)) {
    throw new RangeError(`gamma needs shape > 0 and scale > 0, got ${shape}, ${scale}`);
  }
  if (shape === 1) return -Math.log(1 - rand()) * scale;
  if (shape < 1) {
    // Boost: gamma(k) = gamma(k + 1) * U^(1/k).
    return sampleGamma(rand, shape + 1, scale) * Math.pow(1 - rand(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}

/** Send times (seconds from the start) of n requests at `rate` per second: the first at 0, as upstream. */
export function arrivalTimesS(n: number, rate: number, burstiness: number, rand: Random): number[] {
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i += 1) {
    out.push(Number.isFinite(rate) ? t : 0);
    if (Number.isFinite(rate)) t += sampleGamma(rand, burstiness, 1 / (rate * burstiness));
  }
  return out;
}

/** Words that are exactly one token each for the simulated tokenizer (a word, or a space plus a word). */
const WORDS: readonly string[] = [
  ...new Set([...NOUNS, ...ADJECTIVES, ...TRANSITIVE_VERBS, ...ADVERBS, ...EXTRA_WORDS]),
].filter((w) => /^[a-z]+$/.test(w));

/** A prompt of exactly `tokens` simulated tokens (random words joined by single spaces). */
export function randomPrompt(tokens: number, rand: Random): string {
  const parts: string[] = [];
  for (let i = 0; i < tokens; i += 1) parts.push(WORDS[Math.floor(rand() * WORDS.length)] ?? 'the');
  return parts.join(' ');
}

export interface RandomDatasetOptions {
  numPrompts: number;
  inputLen: number;
  outputLen: number;
  /** Lengths are drawn uniformly from [len * (1 - r), len * (1 + r)] (benchmark_serving's range ratio). */
  rangeRatio?: number;
  /** Tokens of one shared prefix in front of every prompt. */
  prefixLen?: number;
  seed?: number;
}

function drawLength(len: number, ratio: number, rand: Random): number {
  const lo = Math.floor(len * (1 - ratio));
  const hi = Math.floor(len * (1 + ratio));
  return Math.max(1, lo + Math.floor(rand() * (hi - lo + 1)));
}

/** `numPrompts` requests with random prompts of the requested token lengths. */
export function randomRequests(o: RandomDatasetOptions): SampleRequest[] {
  const ratio = o.rangeRatio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) {
    throw new RangeError(`random range ratio must be in [0, 1), got ${ratio}`);
  }
  for (const [name, v] of [
    ['num prompts', o.numPrompts],
    ['random input len', o.inputLen],
    ['random output len', o.outputLen],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
  }
  const rand = createRandom(o.seed ?? 0);
  const prefixLen = o.prefixLen ?? 0;
  const prefix = prefixLen > 0 ? randomPrompt(prefixLen, rand) + ' ' : '';
  const out: SampleRequest[] = [];
  for (let i = 0; i < o.numPrompts; i += 1) {
    const inputLen = drawLength(o.inputLen, ratio, rand);
    const outputLen = drawLength(o.outputLen, ratio, rand);
    out.push({
      prompt: prefix + randomPrompt(inputLen, rand),
      promptLen: prefixLen + inputLen,
      outputLen,
    });
  }
  return out;
}
