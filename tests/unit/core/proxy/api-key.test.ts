// `--api-key`: the right key passes, everything else fails, and every comparison goes through
// crypto.timingSafeEqual on equal-length digests (issue #15: no early exit on the first wrong byte).
import crypto from 'node:crypto';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { createApiKeyCheck } from '../../../../electron/core/proxy/api-key';

afterEach(() => vi.restoreAllMocks());

describe('createApiKeyCheck', () => {
  it('lets everything through when no key is set', () => {
    expect(createApiKeyCheck(undefined)(undefined)).toBe(true);
  });

  it.each([
    ['Bearer sk-secret', true],
    ['Bearer sk-secreT', false],
    ['Bearer sk-secret ', false],
    ['Bearer sk', false],
    ['Bearer sk-secret-and-more', false],
    ['sk-secret', false],
    ['Basic sk-secret', false],
    ['', false],
    [undefined, false],
  ])('%j -> %s', (header, expected) => {
    expect(createApiKeyCheck('sk-secret')(header)).toBe(expected);
  });

  it('compares equal-length digests with timingSafeEqual for every header, right or wrong, present or not', () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    const check = createApiKeyCheck('sk-secret');
    for (const h of ['Bearer sk-secret', 'Bearer x', 'Bearer ' + 'y'.repeat(500), undefined, 'junk']) check(h);
    expect(spy).toHaveBeenCalledTimes(5);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
