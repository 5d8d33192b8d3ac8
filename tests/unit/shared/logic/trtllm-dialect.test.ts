import { describe, expect, it } from 'vitest';

import { dialectForVersionString, dialectOf } from '../../../../shared/logic/trtllm-dialect';

describe('dialectForVersionString', () => {
  it.each([
    ['1.0.0', '1.0'],
    ['1.1.0rc5', '1.1'],
    ['1.2.0rc6.post2', '1.2'],
    ['1.3.0rc0', '1.3'],
    ['1.4.0', '1.3'],
    ['2.0.0', '1.3'],
  ])('%s speaks %s', (text, version) => {
    expect(dialectForVersionString(text)?.version).toBe(version);
  });

  it.each([['0.21.0'], ['unknown'], ['']])('%j is not a 1.x version', (text) => {
    expect(dialectForVersionString(text)).toBeUndefined();
  });

  it('each release accepts the params of the one before it', () => {
    const order = ['1.0', '1.1', '1.2', '1.3'] as const;
    for (let i = 1; i < order.length; i++) {
      const prev = dialectOf(order[i - 1] as '1.0');
      const cur = dialectOf(order[i] as '1.0');
      for (const f of prev.disaggParamFields) expect(cur.disaggParamFields).toContain(f);
      for (const f of cur.contextAnswerExtras) expect(cur.disaggParamFields).toContain(f);
    }
  });
});
