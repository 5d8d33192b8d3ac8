// The random dataset: exact simulated-token lengths, determinism by seed, range ratio, shared prefix; and
// the arrival process (Poisson mean gap, gamma burstiness).
import { describe, expect, it } from 'vitest';

import {
  arrivalTimesS,
  createRandom,
  randomPrompt,
  randomRequests,
  sampleGamma,
} from '../../../../electron/core/bench/random-dataset';
import { countTokens } from '../../../../shared/logic/text-generator';

describe('random dataset', () => {
  it.each([1, 7, 128, 1000])('a prompt of %d tokens is exactly that many simulated tokens', (n) => {
    expect(countTokens(randomPrompt(n, createRandom(3)))).toBe(n);
  });

  it('gives the same prompts for the same seed and different ones for another seed', () => {
    const a = randomRequests({ numPrompts: 5, inputLen: 50, outputLen: 10, seed: 1 });
    const b = randomRequests({ numPrompts: 5, inputLen: 50, outputLen: 10, seed: 1 });
    const c = randomRequests({ numPrompts: 5, inputLen: 50, outputLen: 10, seed: 2 });
    expect(a).toEqual(b);
    expect(a[0]?.prompt).not.toEqual(c[0]?.prompt);
    for (const r of a) {
      expect(r.promptLen).toBe(50);
      expect(r.outputLen).toBe(10);
      expect(countTokens(r.prompt as string)).toBe(50);
    }
  });

  it('draws lengths within the range ratio and puts the shared prefix in front', () => {
    const reqs = randomRequests({
      numPrompts: 200,
      inputLen: 100,
      outputLen: 20,
      rangeRatio: 0.5,
      prefixLen: 8,
      seed: 4,
    });
    const inputs = reqs.map((r) => r.promptLen - 8);
    expect(Math.min(...inputs)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...inputs)).toBeLessThanOrEqual(150);
    expect(new Set(inputs).size).toBeGreaterThan(20);
    const prefix = (reqs[0]?.prompt as string).split(' ').slice(0, 8).join(' ');
    for (const r of reqs) {
      expect((r.prompt as string).startsWith(prefix + ' ')).toBe(true);
      expect(countTokens(r.prompt as string)).toBe(r.promptLen);
    }
  });

  it.each([
    [{ numPrompts: 0, inputLen: 1, outputLen: 1 }],
    [{ numPrompts: 1, inputLen: 0, outputLen: 1 }],
    [{ numPrompts: 1, inputLen: 1, outputLen: 1, rangeRatio: 1 }],
  ])('rejects %j', (o) => {
    expect(() => randomRequests(o)).toThrow(RangeError);
  });

  it('Poisson arrivals: first at 0, mean gap 1/rate; infinite rate sends all at 0', () => {
    const t = arrivalTimesS(20_000, 50, 1, createRandom(9));
    expect(t[0]).toBe(0);
    const meanGap = (t[t.length - 1] ?? 0) / (t.length - 1);
    expect(meanGap).toBeGreaterThan(0.0195);
    expect(meanGap).toBeLessThan(0.0205);
    expect(arrivalTimesS(3, Infinity, 1, createRandom(1))).toEqual([0, 0, 0]);
  });

  it.each([0.5, 1, 4])(
    'gamma(shape %d) has mean shape x scale and variance shape x scale^2',
    (shape) => {
      const rand = createRandom(11);
      const xs = Array.from({ length: 40_000 }, () => sampleGamma(rand, shape, 2));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
      expect(m).toBeCloseTo(shape * 2, 0);
      expect(v / (shape * 4)).toBeGreaterThan(0.93);
      expect(v / (shape * 4)).toBeLessThan(1.07);
    },
  );
});
