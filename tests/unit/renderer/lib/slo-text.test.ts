// slosFromText: which typed SLO texts become goodput SLOs for the load-test form and the planner.
import { describe, expect, it } from 'vitest';

import { slosFromText } from '../../../../renderer/lib/slo-text';

describe('slosFromText', () => {
  it.each([
    ['', '', {}],
    ['500', '', { ttft: 500 }],
    ['', '40.5', { tpot: 40.5 }],
    ['500', '40', { ttft: 500, tpot: 40 }],
    ['0', '-3', {}],
    ['abc', ' ', {}],
  ])('ttft %j tpot %j -> %j', (ttft, tpot, expected) => {
    expect(slosFromText(ttft, tpot)).toEqual(expected);
  });
});
