import { describe, expect, it } from 'vitest';

import {
  parseJsonLossless,
  stringifyJsonLossless,
  stringifyJsonLosslessExact,
} from '../../../../shared/logic/lossless-json';

const U64_MAX = 18446744073709551615n;

describe('parseJsonLossless', () => {
  it.each([
    ['2^64-1', '18446744073709551615', U64_MAX],
    ['2^53+1', '9007199254740993', 9007199254740993n],
    ['-2^63', '-9223372036854775808', -9223372036854775808n],
    ['-(2^53+1)', '-9007199254740993', -9007199254740993n],
    ['a 30-digit integer', '123456789012345678901234567890', 123456789012345678901234567890n],
  ])('%s becomes a bigint', (_name, text, expected) => {
    expect(parseJsonLossless(text)).toBe(expected);
  });

  it.each([
    ['MAX_SAFE_INTEGER', '9007199254740991', 9007199254740991],
    ['-MAX_SAFE_INTEGER', '-9007199254740991', -9007199254740991],
    ['a 16-digit safe integer', '1000000000000000', 1000000000000000],
    ['a long float', '12345678901234567890.5', Number('12345678901234567890.5')],
    ['an exponent', '18446744073709551615e0', 2 ** 64],
    ['a small negative float', '-0.25', -0.25],
    ['zero', '0', 0],
  ])('%s stays a number', (_name, text, expected) => {
    expect(parseJsonLossless(`[${text}, 1234567890123456789]`)).toEqual([
      expected,
      1234567890123456789n,
    ]);
  });

  it('keeps -0 like JSON.parse', () => {
    const out = parseJsonLossless('[-0, 12345678901234567890]') as unknown[];
    expect(Object.is(out[0], -0)).toBe(true);
  });

  it('parses a /kv_cache_events body with uint64 hashes exactly', () => {
    const text = `[{"event_id": 3, "data": {"type": "stored", "parent_hash": null, "blocks": [
      {"type": "stored_block", "block_hash": 17165151013943063635, "tokens": [
        {"type": "unique_token", "token_id": 1, "token_extra_id": 0}], "cache_level": 0, "priority": 35}]},
      "window_size": 4096},
      {"event_id": 4, "data": {"type": "removed", "block_hashes": [18446744073709551615, 42]}, "window_size": 4096}]`;
    expect(parseJsonLossless(text)).toEqual([
      {
        event_id: 3,
        data: {
          type: 'stored',
          parent_hash: null,
          blocks: [
            {
              type: 'stored_block',
              block_hash: 17165151013943063635n,
              tokens: [{ type: 'unique_token', token_id: 1, token_extra_id: 0 }],
              cache_level: 0,
              priority: 35,
            },
          ],
        },
        window_size: 4096,
      },
      { event_id: 4, data: { type: 'removed', block_hashes: [U64_MAX, 42] }, window_size: 4096 },
    ]);
  });

  it('matches JSON.parse for documents without big integers, on both paths', () => {
    const doc = {
      s: 'a "quoted" \\ string\n\t with \u00e9 \ud83d\ude00 and digits 12345678901234567890',
      n: [1, -2.5, 3e-7, 1e21, true, false, null],
      nested: { deeper: { empty: {}, list: [] as unknown[] } },
      '': 'empty key',
    };
    const text = JSON.stringify(doc, null, 2);
    // The digit run inside the string forces the slow path; the result must not change.
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
    const noDigits = JSON.stringify({ ...doc, s: 'plain' });
    expect(parseJsonLossless(noDigits)).toEqual(JSON.parse(noDigits));
  });

  it('keeps a "__proto__" key as an own property', () => {
    const out = parseJsonLossless('{"__proto__": {"x": 1}, "h": 12345678901234567890}') as Record<
      string,
      unknown
    >;
    expect(Object.keys(out)).toEqual(['__proto__', 'h']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it.each([
    '',
    '[1, 12345678901234567890',
    '{"a": 12345678901234567890,}',
    '[12345678901234567890] x',
    '{"a" 12345678901234567890}',
    '[012345678901234567890]',
    '["unterminated 12345678901234567890]',
    '[tru, 12345678901234567890]',
    '["bad \\x escape", 12345678901234567890]',
    '[-, 12345678901234567890]',
  ])('throws SyntaxError on invalid JSON %j', (text) => {
    expect(() => parseJsonLossless(text)).toThrow(SyntaxError);
  });
});

describe('stringifyJsonLossless', () => {
  it('writes bigint as bare digits', () => {
    expect(stringifyJsonLossless({ h: U64_MAX, n: -9223372036854775808n, small: 5n })).toBe(
      '{"h":18446744073709551615,"n":-9223372036854775808,"small":5}',
    );
  });

  it('round-trips through parseJsonLossless', () => {
    const value = {
      hashes: [U64_MAX, 0n, 123n],
      parent: 9007199254740993n,
      f: 1.5,
      s: 'x',
      z: null,
    };
    const back = parseJsonLossless(stringifyJsonLossless(value));
    // Safe-range bigints come back as numbers: that is the contract of the parser.
    expect(back).toEqual({
      hashes: [U64_MAX, 0, 123],
      parent: 9007199254740993n,
      f: 1.5,
      s: 'x',
      z: null,
    });
  });

  it.each([
    ['plain object', { a: 1, b: [true, null, 'x'], c: { d: -0.5 } }],
    [
      'undefined and functions dropped or nulled',
      { a: undefined, f: () => 1, arr: [undefined, () => 1] },
    ],
    ['non-finite numbers', [NaN, Infinity, -Infinity]],
    ['toJSON', { when: new Date(0) }],
    ['string escapes', ['"\\\n\u0001\u2028']],
    ['empty containers', { a: [], o: {} }],
  ])('matches JSON.stringify for %s', (_name, value) => {
    expect(stringifyJsonLossless(value)).toBe(JSON.stringify(value));
  });

  it('matches JSON.stringify indentation', () => {
    const value = { a: [1, { b: 2 }], c: {}, d: [] };
    expect(stringifyJsonLossless(value, 2)).toBe(JSON.stringify(value, null, 2));
  });

  it('writes null for a top-level value without a JSON form', () => {
    expect(stringifyJsonLossless(undefined)).toBe('null');
  });

  it('rejects circular structures', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => stringifyJsonLossless(a)).toThrow(TypeError);
  });
});

describe('stringifyJsonLosslessExact (the fallback writer)', () => {
  const U64 = 18446744073709551615n;
  it.each([
    ['events', [{ data: { type: 'removed', block_hashes: [U64, 1n, -5n] } }]],
    ['nested with indent', { a: [1, { b: U64 }], c: 'x', d: null }],
    ['no bigints', { a: [1.5, 'two', true, null] }],
  ])('writes the same as the fast path: %s', (_name, value) => {
    expect(stringifyJsonLosslessExact(value)).toBe(stringifyJsonLossless(value));
    expect(stringifyJsonLosslessExact(value, 2)).toBe(stringifyJsonLossless(value, 2));
  });

  it('keeps a user string that looks like the internal bigint marker', () => {
    const value = { s: '\u0000lossless-bigint:5', h: U64 };
    expect(stringifyJsonLossless(value)).toBe(
      '{"s":"\\u0000lossless-bigint:5","h":18446744073709551615}',
    );
  });
});

describe('round trip on pseudo-random documents', () => {
  it('parse(stringify(v)) gives v back (safe-range bigints as numbers)', () => {
    let state = 99;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    const make = (depth: number): unknown => {
      switch (depth > 3 ? rand(5) : rand(7)) {
        case 0:
          return BigInt.asUintN(64, (BigInt(rand(2 ** 30)) << 34n) ^ BigInt(rand(2 ** 30)));
        case 1:
          return rand(1000) - 500 + (rand(2) === 0 ? 0 : 0.25);
        case 2:
          return ['', 'plain', 'quote " and \\ slash', '\u00e9\n\t', '12345678901234567890'][
            rand(5)
          ];
        case 3:
          return [true, false, null][rand(3)];
        case 4:
          return -BigInt(rand(2 ** 30)) * 10n ** 12n;
        case 5:
          return Array.from({ length: rand(5) }, () => make(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rand(5) }, (_, i) => [`k${i}`, make(depth + 1)]),
          );
      }
    };
    const normalise = (v: unknown): unknown => {
      if (typeof v === 'bigint') {
        return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
      }
      if (Array.isArray(v)) {
        return v.map(normalise);
      }
      if (v !== null && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
      }
      return v;
    };
    for (let i = 0; i < 300; i++) {
      const value = make(0);
      expect(parseJsonLossless(stringifyJsonLossless(value))).toEqual(normalise(value));
      expect(parseJsonLossless(stringifyJsonLossless(value, 2))).toEqual(normalise(value));
    }
  });
});
