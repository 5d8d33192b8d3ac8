import { describe, expect, it } from 'vitest';

import {
  computeBlockHashes,
  hashBlockKey,
  hashBlockKeyBigInt,
} from '../../../../shared/logic/kv-block-hash';

// Expected values were computed once by an independent C program (native uint32_t/uint64_t arithmetic, written
// from the algorithm in trtllm-protocol.md 6.3 and upstream's BlockKeyHasher::hash in kvCacheManager.cpp, incl.
// the 32-bit wrap of `a + 0x9e3779b9`), compiled with gcc -O2 and run on x86-64. Upstream's tests hold no literal
// hash values to compare with.
const B = [1, 2, 3, 4];
const C = [2147483647, -1, 0, 151643, 128000];

describe('hashBlockKey', () => {
  it.each([
    ['empty block, parent 0', [], 0n, 0n],
    ['[1]', [1], 0n, 3478951329n],
    ['[1,2,3,4]', B, 0n, 924206229973855n],
    ['[1,2,3,4] parent 1', B, 1n, 17165151013943063635n],
    ['[1,2,3,4] parent 2^64-1', B, (1n << 64n) - 1n, 3826556365463771685n],
    ['large and negative token ids', C, 0n, 27430234230799367n],
    ['parent > 2^63', C, 12345678901234567890n, 6822328553026189067n],
  ])('%s', (_name, tokens, parent, expected) => {
    expect(hashBlockKey(tokens, parent)).toBe(expected);
    expect(hashBlockKeyBigInt(tokens, parent)).toBe(expected);
  });

  it.each([
    ['extra ids', { tokenExtraIds: [0, 7, (1n << 64n) - 1n, 42] }, 0n, 13517384461687030672n],
    ['lora task id', { loraTaskId: 3 }, 0n, 2244231307907415583n],
    ['cache salt, first block', { cacheSaltId: 99n }, 0n, 6171840795584332800n],
    ['cache salt ignored when parent != 0', { cacheSaltId: 99n }, 5n, 4272564723536312049n],
    [
      'lora + multimodal key',
      {
        loraTaskId: 3n,
        multimodalKeys: [
          { hash: Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff), startOffset: 5 },
        ],
      },
      0n,
      387253898315955212n,
    ],
  ])('extras: %s', (_name, extra, parent, expected) => {
    expect(hashBlockKey(B, parent, extra)).toBe(expected);
    expect(hashBlockKeyBigInt(B, parent, extra)).toBe(expected);
  });

  it('salt with parent != 0 equals no salt (salt only in the first block)', () => {
    expect(hashBlockKey(B, 5n, { cacheSaltId: 99n })).toBe(hashBlockKey(B, 5n));
    expect(hashBlockKey(B, 0n, { cacheSaltId: 99n })).not.toBe(hashBlockKey(B, 0n));
  });

  it('produces values above 2^53 and below 2^64', () => {
    const hashes = computeBlockHashes(
      Array.from({ length: 3000 }, (_, i) => (i * 7919) % 32000),
      32,
    );
    expect(hashes.some((h) => h > 2n ** 53n)).toBe(true);
    for (const h of hashes) {
      expect(h >= 0n && h < 2n ** 64n).toBe(true);
    }
  });

  it('treats parent hashes modulo 2^64 (wrap-around)', () => {
    expect(hashBlockKey(B, (1n << 64n) + 1n)).toBe(hashBlockKey(B, 1n));
    expect(hashBlockKey(B, -1n)).toBe(hashBlockKey(B, (1n << 64n) - 1n));
  });

  it('fast (32-bit halves) and BigInt implementations agree on random blocks', () => {
    let state = 12345;
    const rand = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    for (let n = 0; n < 300; n++) {
      const len = rand() % 70;
      const tokens = Array.from({ length: len }, () => rand() % 300000);
      const parent = (BigInt(rand()) << 32n) | BigInt(rand());
      expect(hashBlockKey(tokens, parent)).toBe(hashBlockKeyBigInt(tokens, parent));
    }
  });
});

describe('computeBlockHashes', () => {
  const seq = Array.from({ length: 100 }, (_, i) => (i * 7919) % 32000);

  it.each([
    [
      '100 tokens, B=32 (last block partial: 3 tokens)',
      seq,
      32,
      [1793719335787153558n, 10507052536390494349n, 6977048533994871883n, 977956800389695389n],
    ],
    [
      '100 tokens, B=16',
      seq,
      16,
      [
        10000152004960579877n,
        11794326345448779550n,
        3899195925019175076n,
        5610961336900348099n,
        12362489918930559262n,
        15221349729849323861n,
        3681939497576111006n,
      ],
    ],
    [
      '33 tokens, B=32: the last token is never hashed',
      seq.slice(0, 33),
      32,
      [1793719335787153558n],
    ],
    [
      '34 tokens, B=32: a 1-token final block',
      seq.slice(0, 34),
      32,
      [1793719335787153558n, 14230004134386222186n],
    ],
    [
      '[1000]*100, B=32',
      Array<number>(100).fill(1000),
      32,
      [16685880865262758201n, 12864654384015858667n, 12921971827901742268n, 7712948735410755413n],
    ],
    ['one token: no blocks', [5], 32, []],
    ['no tokens: no blocks', [], 32, []],
  ])('%s', (_name, tokens, tokensPerBlock, expected) => {
    expect(computeBlockHashes(tokens, tokensPerBlock)).toEqual(expected);
  });

  it('chains each block to the previous hash', () => {
    const hashes = computeBlockHashes(seq, 32);
    expect(hashes[1]).toBe(hashBlockKey(seq.slice(32, 64), hashes[0] ?? 0n));
    expect(hashes[3]).toBe(hashBlockKey(seq.slice(96, 99), hashes[2] ?? 0n));
  });

  it('shares a prefix of hashes between prompts with a common prefix', () => {
    const a = [...seq, 1, 2, 3];
    const b = [...seq.slice(0, 64), 9, 9, 9, 9];
    const ha = computeBlockHashes(a, 32);
    const hb = computeBlockHashes(b, 32);
    expect(hb.slice(0, 2)).toEqual(ha.slice(0, 2));
    expect(hb[2]).not.toBe(ha[2]);
  });

  it.each([0, -1, 1.5])('rejects tokensPerBlock %s', (bad) => {
    expect(() => computeBlockHashes(seq, bad)).toThrow(RangeError);
  });

  it('hashes a 40k-token prompt into 1250 blocks', () => {
    // How fast is measured by bench/hot-paths.ts, not asserted here.
    const tokens = Array.from({ length: 40_000 }, (_, i) => (i * 104729) % 128000);
    expect(computeBlockHashes(tokens, 32)).toHaveLength(1250);
  });
});
