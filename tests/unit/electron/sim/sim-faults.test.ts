import { describe, expect, it } from 'vitest';

import { applyFaultPatch, faultsFromEnv, NO_FAULTS } from '../../../../electron/sim/sim-faults';

describe('fault switches', () => {
  it('defaults to no faults when the env var is unset or empty', () => {
    expect(faultsFromEnv(undefined)).toEqual({ ok: true, faults: NO_FAULTS });
    expect(faultsFromEnv('  ')).toEqual({ ok: true, faults: NO_FAULTS });
  });

  it('reads every switch from JSON', () => {
    const r = faultsFromEnv(
      '{"crashAfterRequests":3,"dieMidStreamAfterTokens":2,"hang":true,"slowdownFactor":2.5,"extraIterationMs":4,"failHealth":true,"answer5xx":503,"refuseRequests":true}',
    );
    expect(r).toEqual({
      ok: true,
      faults: {
        crashAfterRequests: 3,
        dieMidStreamAfterTokens: 2,
        hang: true,
        slowdownFactor: 2.5,
        extraIterationMs: 4,
        failHealth: true,
        answer5xx: 503,
        refuseRequests: true,
      },
    });
  });

  it.each([
    ['{"nope":1}', "unknown fault switch 'nope'"],
    ['{"answer5xx":404}', 'answer5xx must be an HTTP status 500-599'],
    ['{"hang":"yes"}', 'hang must be a boolean'],
    ['{"crashAfterRequests":-1}', 'crashAfterRequests must be a non-negative integer'],
    ['[1]', 'faults must be a JSON object'],
    ['{bad', 'not valid JSON'],
  ])('rejects %s', (text, message) => {
    const r = faultsFromEnv(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('patches on top of the current switches and can clear them with null', () => {
    const first = applyFaultPatch(NO_FAULTS, { answer5xx: 500, hang: true });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const second = applyFaultPatch(first.faults, { answer5xx: null });
    expect(second).toEqual({ ok: true, faults: { ...NO_FAULTS, hang: true } });
  });
});
