// Lossless JSON held to JSON.parse by generated documents (fast-check): with big integers (uint64 KV block
// hashes) placed anywhere, parseJsonLossless returns the document with those as exact bigints and every
// other value as JSON.parse gives it; on broken text both throw. The `lossless-json` package does the same
// job; ours stays (360 lines, no dependency) while this test and the hot-path note in docs/dependencies.md
// hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseJsonLossless, stringifyJsonLossless } from '../../../../shared/logic/lossless-json';

const BIG = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) - 1n }),
);

/** A JSON value whose leaves may be big integers. */
const DOC = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    BIG,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** JSON text with bigints written as plain integer literals. */
function toText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? `__big:${v}` : v,
  ).replace(/"__big:(-?\d+)"/g, '$1');
}

/**
 * What the parse must give: JSON.parse's value, except that every integer literal outside the safe range is
 * a bigint, both the generated bigints and doubles such as 2^53 that JSON writes as plain digits (below
 * 1e21; larger ones are written with an exponent and stay numbers), as the digits JSON writes.
 */
function expected(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `__big:${v}` : v)),
    (_k, v: unknown) => {
      if (typeof v === 'string' && v.startsWith('__big:')) return BigInt(v.slice(6));
      if (
        typeof v === 'number' &&
        Number.isInteger(v) &&
        !Number.isSafeInteger(v) &&
        Math.abs(v) < 1e21
      ) {
        return BigInt(JSON.stringify(v));
      }
      return v;
    },
  );
}

describe('parseJsonLossless against JSON.parse', () => {
  it('returns every generated document exactly, big integers as bigint', () => {
    fc.assert(
      fc.property(DOC, (doc) => {
        expect(parseJsonLossless(toText(doc))).toEqual(expected(doc));
      }),
      { numRuns: 1500, seed: 17 },
    );
  });

  it('round-trips through its own stringify', () => {
    fc.assert(
      fc.property(DOC, (doc) => {
        expect(parseJsonLossless(stringifyJsonLossless(parseJsonLossless(toText(doc))))).toEqual(
          expected(doc),
        );
      }),
      { numRuns: 500, seed: 18 },
    );
  });

  it('throws where JSON.parse throws (broken documents that take the lossless path)', () => {
    fc.assert(
      fc.property(
        DOC,
        fc.nat(),
        fc.constantFrom('', ',', ']', '}', '"', ':', 'x', '01', '--1', '1.', '.5', '\u0001'),
        (doc, at, junk) => {
          const text = `[18446744073709551615,${toText(doc)}]`;
          const cut = Math.min(text.length, 1 + (at % text.length));
          const broken = text.slice(0, cut) + junk + text.slice(cut);
          let jsonThrows = false;
          try {
            JSON.parse(broken);
          } catch {
            jsonThrows = true;
          }
          if (jsonThrows) expect(() => parseJsonLossless(broken)).toThrow();
          else expect(() => parseJsonLossless(broken)).not.toThrow();
        },
      ),
      { numRuns: 1500, seed: 19 },
    );
  });
});
