import { describe, expect, it } from 'vitest';

import {
  countTokens,
  createDetokenizer,
  createSampler,
  detokenize,
  EOS_TOKEN_ID,
  findStop,
  generateToken,
  generateTokens,
  isKnownTokenId,
  partialStopLength,
  type SamplingParams,
  tokenize,
  VOCAB_SIZE,
} from '../../../../shared/logic/text-generator';

const GREEDY: SamplingParams = { seed: 0, temperature: 0, topP: 1 };

function gen(prompt: string, params: SamplingParams, maxTokens = 80): number[] {
  return generateTokens({ promptTokenIds: tokenize(prompt), ...params, maxTokens });
}

describe('tokenize / detokenize', () => {
  it.each([
    '',
    'Hello, world!',
    'The quick brown fox jumps over the lazy dog.',
    '  leading and trailing spaces  ',
    'tabs\tand\nnewlines\r\n',
    'Ünïcödé, 中文, русский, العربية',
    'emoji 🚀👩‍👩‍👧 and flags 🇫🇷',
    'lone surrogates \ud800 x \udfff',
    'digits 1234567890 and symbols <|im_start|> {"json": [1, 2]}',
    'CamelCase UPPER lower MiXeD',
  ])('round-trips %j', (text) => {
    expect(detokenize(tokenize(text))).toBe(text);
  });

  it('round-trips pseudo-random strings of any code points', () => {
    let state = 7;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    for (let round = 0; round < 200; round++) {
      let s = '';
      for (let i = 0; i < 40; i++) {
        const r = rand(10);
        s +=
          r < 5
            ? ' the'
            : r < 8
              ? String.fromCharCode(rand(0x80))
              : String.fromCodePoint(rand(0x10ffff));
      }
      expect(detokenize(tokenize(s))).toBe(s);
    }
  });

  it('maps known words (with a leading space) to one token each', () => {
    expect(tokenize('The cat sat on the bed')).toHaveLength(6);
    expect(tokenize(' the')).toHaveLength(1);
    expect(tokenize('I')).toHaveLength(1);
  });

  it('falls back to one byte token per byte for unknown text', () => {
    expect(tokenize('Zyxw')).toEqual([0x5a, 0x79, 0x78, 0x77]);
    expect(tokenize('é')).toEqual([0xc3, 0xa9]);
    expect(tokenize('🚀')).toHaveLength(4);
  });

  it('keeps all ids inside the vocabulary and counts tokens consistently', () => {
    const text = 'Write a short story about the old lighthouse keeper, please.';
    const ids = tokenize(text);
    expect(ids.every(isKnownTokenId)).toBe(true);
    expect(Math.max(...ids)).toBeLessThan(VOCAB_SIZE);
    expect(countTokens(text)).toBe(ids.length);
  });

  it('writes no text for EOS and unknown ids', () => {
    expect(detokenize([...tokenize('a'), EOS_TOKEN_ID, VOCAB_SIZE + 5, -1])).toBe('a');
  });

  it('streams multi-byte characters split over tokens', () => {
    const d = createDetokenizer();
    const [b1, b2] = tokenize('é');
    expect(d.push(b1 ?? 0)).toBe('');
    expect(d.push(b2 ?? 0)).toBe('é');
    expect(d.push(0xe4)).toBe('');
    expect(d.flush()).toBe('\ufffd');
  });
});

describe('findStop / partialStopLength', () => {
  it.each([
    ['hello world. Bye', ['.'], { index: 11, stop: '.' }],
    ['abc STOP def END', ['END', 'STOP'], { index: 4, stop: 'STOP' }],
    ['no stop here', ['xyz', ''], null],
    ['', ['a'], null],
  ])('findStop(%j, %j)', (text, stops, expected) => {
    expect(findStop(text, stops)).toEqual(expected);
  });

  it.each([
    ['the end is ne', ['near'], 2],
    ['abc', ['c', 'bcd'], 2],
    ['complete sto', ['stop'], 3],
    ['a whole stop is not partial', ['stop'], 0],
    ['nothing', ['xyz'], 0],
  ])('partialStopLength(%j, %j) = %d', (text, stops, expected) => {
    expect(partialStopLength(text, stops)).toBe(expected);
  });
});

describe('generator', () => {
  it('writes readable English-like sentences (pinned greedy output)', () => {
    const text = detokenize(gen('Hello, my name is', GREEDY, 13));
    expect(text).toBe(' my cake watched the singer. His mill picked an unexpected snake.');
  });

  it('writes capitalised sentences of vocabulary words with consistent token counts', () => {
    for (const prompt of ['Tell me a story.', 'Q: what is a KV cache?\nA:', 'x']) {
      const ids = gen(prompt, { seed: 3, temperature: 0.8, topP: 0.95, ignoreEos: true }, 200);
      const text = detokenize(ids);
      expect(text).toMatch(/^ ?[A-Za-z]/);
      for (const sentence of text.split(/[.!] /).slice(1)) {
        expect(sentence).toMatch(/^[A-Z]/);
      }
      // Every generated word is a vocabulary token, never byte fallback.
      expect(ids.every((id) => id > EOS_TOKEN_ID || [0x2c, 0x2e, 0x21].includes(id))).toBe(true);
      // The text re-tokenizes to exactly the generated ids.
      expect(tokenize(text)).toEqual(ids);
      expect(countTokens(text)).toBe(ids.length);
    }
  });

  it('matches a/an to the following word', () => {
    const text = detokenize(
      gen('Once upon a time', { seed: 11, temperature: 1, topP: 1, ignoreEos: true }, 3000),
    );
    expect(text).not.toMatch(/\b[Aa] [aeiou]/);
    expect(text).not.toMatch(/\b[Aa]n [^aeiou]/);
  });

  it('starts after the prompt: new sentence after newline, continuation after a word', () => {
    expect(detokenize(gen('Answer:\n', GREEDY, 1))).toMatch(/^[A-Z]/);
    expect(detokenize(gen('Answer.', GREEDY, 1))).toMatch(/^ [A-Z]/);
    expect(detokenize(gen('My name is', GREEDY, 1))).toMatch(/^ [a-z]/);
    expect(detokenize(gen('', GREEDY, 1))).toMatch(/^[A-Z]/);
  });

  it('is greedy and seed-independent at temperature 0', () => {
    const a = gen('same prompt', { seed: 1, temperature: 0, topP: 1 });
    expect(gen('same prompt', { seed: 999, temperature: 0, topP: 0.5 })).toEqual(a);
    expect(gen('other prompt', { seed: 1, temperature: 0, topP: 1 })).not.toEqual(a);
  });

  it('reproduces with a seed and varies across seeds when sampling', () => {
    const p: SamplingParams = { seed: 42, temperature: 1, topP: 0.9, ignoreEos: true };
    const a = gen('sampling', p);
    expect(gen('sampling', p)).toEqual(a);
    expect(gen('sampling', { ...p, seed: 43 })).not.toEqual(a);
    expect(gen('sampling', { ...p, seed: 42n })).toEqual(a);
  });

  it('top_p near 0 degenerates to greedy', () => {
    const greedy = gen('nucleus', { ...GREEDY, ignoreEos: true });
    expect(gen('nucleus', { seed: 5, temperature: 1, topP: 1e-9, ignoreEos: true })).toEqual(
      greedy,
    );
  });

  it.each([
    ['greedy', GREEDY],
    ['sampled', { seed: 7, temperature: 0.7, topP: 0.9 }],
  ] as const)('continues identically across a context/generation split (%s)', (_name, params) => {
    const promptTokenIds = tokenize('Explain disaggregated serving in one paragraph.');
    const whole = generateTokens({ promptTokenIds, ...params, ignoreEos: true, maxTokens: 150 });
    for (const split of [1, 2, 17, 90]) {
      // The context worker produced whole[0..split); a generation worker (fresh sampler) continues.
      const gen2 = createSampler({ promptTokenIds, ...params, ignoreEos: true });
      const continued = [...whole.slice(0, split)];
      while (continued.length < whole.length) {
        continued.push(gen2.next(continued));
      }
      expect(continued).toEqual(whole);
    }
  });

  it('is a pure function of the tokens so far (memo or not, any call order)', () => {
    const promptTokenIds = tokenize('purity');
    const params = { promptTokenIds, seed: 9, temperature: 1, topP: 1, ignoreEos: true };
    const seq = generateTokens({ ...params, maxTokens: 200 });
    const sampler = createSampler(params);
    for (const i of [150, 3, 150, 151, 0, 199, 60, 61, 61]) {
      const expected = seq[i];
      expect(sampler.next(seq.slice(0, i))).toBe(expected);
      expect(generateToken({ ...params, previousTokenIds: seq.slice(0, i) })).toBe(expected);
    }
  });

  it('handles foreign token ids in the history (no sentence end for a long time)', () => {
    const promptTokenIds = tokenize('foreign');
    const params = { promptTokenIds, seed: 1, temperature: 1, topP: 1, ignoreEos: true };
    const foreign = Array.from({ length: 100 }, (_, i) => (i * 7919) % 120000);
    const sampler = createSampler(params);
    const seq = [...foreign];
    for (let i = 0; i < 60; i++) {
      seq.push(sampler.next(seq));
    }
    expect(seq.slice(100).every(isKnownTokenId)).toBe(true);
    expect(seq[100]).toBe(0x2e); // a runaway "sentence" is ended at once
    for (const i of [100, 101, 130, 159]) {
      expect(generateToken({ ...params, previousTokenIds: seq.slice(0, i) })).toBe(seq[i]);
    }
  });

  describe('EOS', () => {
    it('puts EOS at eosAtIndex', () => {
      const ids = gen('forced', { ...GREEDY, eosAtIndex: 5 });
      expect(ids).toHaveLength(6);
      expect(ids[5]).toBe(EOS_TOKEN_ID);
      expect(gen('forced', { ...GREEDY, eosAtIndex: 0 })).toEqual([EOS_TOKEN_ID]);
    });

    it('never emits EOS with ignoreEos, even when forced', () => {
      const ids = gen('forever', { ...GREEDY, ignoreEos: true, eosAtIndex: 5 }, 2000);
      expect(ids).toHaveLength(2000);
      expect(ids).not.toContain(EOS_TOKEN_ID);
    });

    it('respects minTokens', () => {
      const forced = gen('min', { ...GREEDY, eosAtIndex: 3, minTokens: 4 }, 50);
      expect(forced.length).toBeGreaterThan(4);
      expect(forced[3]).not.toBe(EOS_TOKEN_ID);
      const natural = Array.from({ length: 20 }, (_, i) =>
        gen(`min ${i}`, { ...GREEDY, minTokens: 150 }, 1000),
      );
      for (const ids of natural) {
        expect(ids.indexOf(EOS_TOKEN_ID) === -1 || ids.indexOf(EOS_TOKEN_ID) >= 150).toBe(true);
      }
    });

    it('ends answers naturally after some sentences, only after a sentence end', () => {
      const lengths: number[] = [];
      for (let i = 0; i < 40; i++) {
        const ids = gen(`prompt ${i}`, GREEDY, 2000);
        expect(ids[ids.length - 1]).toBe(EOS_TOKEN_ID);
        expect([0x2e, 0x21]).toContain(ids[ids.length - 2]);
        lengths.push(ids.length);
      }
      const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
      expect(mean).toBeGreaterThan(40);
      expect(mean).toBeLessThan(300);
      expect(Math.min(...lengths)).toBeGreaterThanOrEqual(25);
    });
  });

  // How fast these run is measured by bench/hot-paths.ts, not asserted here.
  it('generates 5000 tokens with EOS ignored', () => {
    const ids = gen('speed', { seed: 1, temperature: 1, topP: 0.9, ignoreEos: true }, 5000);
    expect(ids).toHaveLength(5000);
  });

  it('tokenizes a 40k-token prompt', () => {
    const text = 'The old man walked to the quiet river, and 42 ducks followed him. '.repeat(2600);
    expect(tokenize(text).length).toBeGreaterThan(40_000);
  });
});
