// Checklist items 14 and 18 of docs/reliability.md, finished. 18: a property test over random fault
// sequences (fast-check): each run gives every context and generation worker a random behaviour (answer,
// fail before any byte, or send k tokens and then break in one of three ways) and sends a request through the
// proxy; whatever happens, the client never sees a token twice or tokens from two generation attempts, at most
// one generation attempt that produced tokens is made (no retry after the first downstream byte), a stream
// ends with exactly one [DONE], and a refusal is JSON. 14: two thousand requests each on its own client
// connection reuse a few pooled upstream connections instead of connecting per request. Both end with the
// invariant checks: health answers, in-flight counters at 0, fds back to baseline, nothing unhandled.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  checkInvariants,
  completionBody,
  fdBaselineOf,
  request,
  sseData,
  startFakeWorker,
  startProxy,
  streamedText,
} from './proxy-test-kit';

const CTX_MODES = ['ok', 'ok', 'status500', 'reset', 'malformed', 'status400'] as const;
/** Fail before any byte reaches the proxy. */
const GEN_EARLY = ['status500', 'status400'] as const;
/** Send failAfterTokens tokens, then break (the proxy has relayed bytes by then). */
const GEN_LATE = ['reset_after', 'no_done', 'json_error_after'] as const;
const GEN_MODES = ['ok', 'ok', ...GEN_EARLY, ...GEN_LATE] as const;
const TOKENS = 6;

type GenMode = (typeof GEN_MODES)[number];

interface Scenario {
  ctx: (typeof CTX_MODES)[number][];
  gen: { mode: GenMode; failAfterTokens: number }[];
  isStream: boolean;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  ctx: fc.array(fc.constantFrom(...CTX_MODES), { minLength: 2, maxLength: 2 }),
  gen: fc.array(
    fc.record({
      mode: fc.constantFrom(...GEN_MODES),
      failAfterTokens: fc.integer({ min: 1, max: TOKENS - 1 }),
    }),
    { minLength: 3, maxLength: 3 },
  ),
  isStream: fc.boolean(),
});

/** Whether a generation worker in this mode sends tokens when called (then the client has bytes). */
const sendsTokens = (mode: GenMode): boolean => mode === 'ok' || GEN_LATE.includes(mode as never);

describe('proxy checklist 14 and 18', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;
  let fdBase = 0;

  async function setup(
    nCtx: number,
    nGen: number,
  ): Promise<{
    ctx: FakeWorker[];
    gen: FakeWorker[];
    p: ProxyUnderTest;
  }> {
    workers = await Promise.all(
      Array.from({ length: nCtx + nGen }, () => startFakeWorker(['--tokens', String(TOKENS)])),
    );
    const ctx = workers.slice(0, nCtx);
    const gen = workers.slice(nCtx);
    p = await startProxy({
      contextUrls: ctx.map((w) => w.url),
      generationUrls: gen.map((w) => w.url),
      maxRetries: 2,
      ejection: { baseEjectionMs: 100, maxEjectionMs: 300, probeTimeoutMs: 300 },
    });
    await request(p.port, 'POST', '/v1/completions', completionBody());
    fdBase = fdBaselineOf(p);
    return { ctx, gen, p };
  }

  afterEach(async () => {
    try {
      if (p) await checkInvariants(p, fdBase);
    } finally {
      await p?.proxy.close();
      p = undefined;
      await Promise.all(workers.map((w) => w.kill()));
      workers = [];
    }
  });

  it('18: over random fault sequences no token is duplicated or interleaved and nothing retries after the first byte', async () => {
    const { ctx, gen, p } = await setup(2, 3);
    const genCalls = async (): Promise<number[]> =>
      Promise.all(gen.map(async (w) => (await w.stats()).counts['gen'] ?? 0));
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        await Promise.all([
          ...ctx.map((w, i) => w.control({ ctx: s.ctx[i] })),
          ...gen.map((w, i) => w.control({ gen: s.gen[i]?.mode, ...s.gen[i], tokenDelayMs: 1 })),
        ]);
        const before = await genCalls();
        const r = await request(
          p.port,
          'POST',
          '/v1/completions',
          completionBody({ stream: s.isStream, max_tokens: TOKENS }),
        );
        const calls = (await genCalls()).map((n, i) => n - (before[i] ?? 0));
        // At most one call to a worker that sends tokens: a second would be a retry after bytes were relayed.
        const tokenAttempts = calls.reduce(
          (sum, n, i) => sum + (sendsTokens(s.gen[i]?.mode ?? 'ok') ? n : 0),
          0,
        );
        expect(tokenAttempts).toBeLessThanOrEqual(1);
        expect(calls.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
        if (r.status !== 200 || !s.isStream) {
          // A refusal or a whole answer is one JSON document, never SSE.
          expect(() => JSON.parse(r.body) as unknown).not.toThrow();
          return;
        }
        const text = streamedText(r.body);
        // Tokens in order from one attempt: ' w0', ' w1', ... with no repeat and no restart.
        expect(text).toEqual(text.map((_, i) => ` w${i}`));
        const data = sseData(r.body);
        expect(data.filter((d) => d.trim() === '[DONE]')).toHaveLength(1);
        expect(data.at(-1)?.trim()).toBe('[DONE]');
        const hasError = data.some((d) => d.startsWith('{"error"'));
        if (!hasError) expect(text).toHaveLength(TOKENS);
      }),
      { numRuns: 40 },
    );
    await Promise.all([
      ...ctx.map((w) => w.control({ ctx: 'ok' })),
      ...gen.map((w) => w.control({ gen: 'ok' })),
    ]);
  }, 120_000);

  it('14: 2,000 requests on 2,000 client connections reuse a few pooled upstream connections', async () => {
    const { ctx, gen, p } = await setup(1, 1);
    const CONCURRENCY = 40;
    const before = await Promise.all([ctx[0]?.stats(), gen[0]?.stats()]);
    for (let batch = 0; batch < 2000 / CONCURRENCY; batch++) {
      const rs = await Promise.all(
        Array.from({ length: CONCURRENCY }, () =>
          request(p.port, 'POST', '/v1/completions', completionBody({ max_tokens: 1 })),
        ),
      );
      expect(rs.every((r) => r.status === 200)).toBe(true);
    }
    const after = await Promise.all([ctx[0]?.stats(), gen[0]?.stats()]);
    expect((after[1]?.counts['gen'] ?? 0) - (before[1]?.counts['gen'] ?? 0)).toBe(2000);
    for (let i = 0; i < 2; i++) {
      // Pooled: a connection carries many requests. Not at most CONCURRENCY in all, because idle ones close
      // after the pool's idle timeout (3 s) and a later burst opens new ones; one per request would be 2,000.
      const opened = (after[i]?.accepted ?? 0) - (before[i]?.accepted ?? 0);
      expect(opened).toBeLessThan(2000 / 10);
    }
    expect(p.proxy.workers().every((w) => w.openSockets <= CONCURRENCY)).toBe(true);
  }, 120_000);
});
