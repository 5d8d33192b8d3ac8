// Router expectations reproduced from upstream's tests/unittest/disaggregated/test_router.py
// (trtllm-protocol.md section 6) plus our exclusion rules.
import { describe, expect, it } from 'vitest';

import { computeBlockHashes } from '../../../../../shared/logic/kv-block-hash';
import { needsContextPhase } from '../../../../../shared/logic/routers/conditional';
import { createRouter } from '../../../../../shared/logic/routers/create-router';
import { KvCacheAwareRouter } from '../../../../../shared/logic/routers/kv-cache-aware';
import { LoadBalancingRouter } from '../../../../../shared/logic/routers/load-balancing';
import { RoundRobinRouter } from '../../../../../shared/logic/routers/round-robin';
import type { RouteRequest, RouteSelection } from '../../../../../shared/logic/routers/types';
import { RouterError } from '../../../../../shared/logic/routers/types';

const servers = ['server1', 'server2', 'server3'];
const lengths = [100, 500, 10, 400, 2000, 100];
const ctxReqs: RouteRequest[] = lengths.map((n) => ({
  endpoint: 'completions',
  prompt: 'the '.repeat(n),
  requestType: 'context_only',
}));
const chatCtxReqs: RouteRequest[] = lengths.map((n) => ({
  endpoint: 'chat',
  messages: [{ role: 'user', content: 'the '.repeat(n) }],
  requestType: 'context_only',
}));
const genReqs: RouteRequest[] = lengths.map((n) => ({
  endpoint: 'completions',
  prompt: 'the '.repeat(n),
  requestType: 'generation_only',
}));
const chatGenReqs: RouteRequest[] = lengths.map((n) => ({
  endpoint: 'chat',
  messages: [{ role: 'user', content: 'the '.repeat(n) }],
  requestType: 'generation_only',
}));

describe('round_robin', () => {
  it('cycles s1,s2,s3,s1,s2,s3', () => {
    const r = new RoundRobinRouter(servers);
    expect(ctxReqs.map((q) => r.select(q).server)).toEqual([
      'server1',
      'server2',
      'server3',
      'server1',
      'server2',
      'server3',
    ]);
  });
  it('skips excluded servers and fails when none is left', () => {
    const r = new RoundRobinRouter(servers, 'generation');
    expect(r.select(ctxReqs[0] as RouteRequest, new Set(['server1'])).server).toBe('server2');
    expect(() => r.select(ctxReqs[0] as RouteRequest, new Set(servers))).toThrow(
      'No generation servers available',
    );
    expect(() => new RoundRobinRouter([], 'context').select(ctxReqs[0] as RouteRequest)).toThrow(
      RouterError,
    );
  });
  it('resets the index when a server is removed', () => {
    const r = new RoundRobinRouter(servers);
    r.select(ctxReqs[0] as RouteRequest);
    r.select(ctxReqs[0] as RouteRequest);
    r.setServers(['server1', 'server3']);
    expect(r.select(ctxReqs[0] as RouteRequest).server).toBe('server1');
  });
});

describe('load_balancing (requests)', () => {
  it.each([
    ['context', ctxReqs],
    ['chat context', chatCtxReqs],
    ['generation', genReqs],
    ['chat generation', chatGenReqs],
  ])('routes %s requests to the least loaded server', (_n, reqs) => {
    const r = new LoadBalancingRouter(servers, false);
    const sel = [0, 1, 2].map((i) => r.select(reqs[i] as RouteRequest));
    expect(new Set(sel.map((s) => s.server)).size).toBe(3);
    r.finish(sel[2] as RouteSelection);
    expect(r.select(reqs[3] as RouteRequest).server).toBe(sel[2]?.server);
    r.finish(sel[1] as RouteSelection);
    expect(r.select(reqs[4] as RouteRequest).server).toBe(sel[1]?.server);
  });
  it('breaks ties by server string order (s1, s2, s3)', () => {
    const r = new LoadBalancingRouter(servers, false);
    expect([0, 1, 2].map(() => r.select(ctxReqs[0] as RouteRequest).server)).toEqual(servers);
  });
  it('finishing twice releases once', () => {
    const r = new LoadBalancingRouter(servers, false);
    const s = r.select(ctxReqs[0] as RouteRequest);
    r.finish(s);
    r.finish(s);
    expect(r.load('server1')).toBe(0);
  });
});

describe('load_balancing (tokens)', () => {
  it('follows the token loads of upstream test_tokens_balancing_router', () => {
    const r = new LoadBalancingRouter(servers, true);
    const sel = ctxReqs.map((q) => r.select(q));
    const [s0, s1, s2] = sel.map((s) => s.server);
    expect(new Set([s0, s1, s2]).size).toBe(3);
    expect(sel[3]?.server).toBe(s2);
    expect(sel[4]?.server).toBe(s0);
    expect(sel[5]?.server).toBe(s2);
    r.finish(sel[4] as RouteSelection);
    expect(r.select(ctxReqs[4] as RouteRequest).server).toBe(s0);
  });
  it.each([
    ['chat context', chatCtxReqs],
    ['generation', genReqs],
    ['chat generation', chatGenReqs],
  ])('refuses %s requests like upstream (ValueError)', (_n, reqs) => {
    const r = new LoadBalancingRouter(servers, true);
    expect(() => r.select(reqs[0] as RouteRequest)).toThrow(RouterError);
  });
  it('counts token ids for token prompts', () => {
    const r = new LoadBalancingRouter(['a'], true);
    const s = r.select({ endpoint: 'completions', prompt: [1, 2, 3] });
    expect(s.load).toBe(3);
  });
});

describe('kv_cache_aware', () => {
  const tok = (p: number[]): RouteRequest => ({ endpoint: 'completions', prompt: p });
  const req0 = tok(new Array<number>(100).fill(1000));
  const req1 = tok([...new Array<number>(50).fill(1000), ...new Array<number>(150).fill(1001)]);
  const req2 = tok(new Array<number>(300).fill(1002));

  it('reproduces upstream test_kv_cache_aware_router', () => {
    const r = new KvCacheAwareRouter(servers, { maxBatchSize: 32, tokensPerBlock: 32 });
    const first = [req0, req1, req2].map((q) => r.select(q));
    expect(first.map((s) => s.server)).toEqual(['server1', 'server2', 'server3']);
    for (const s of first) r.finish(s);
    for (const s of first) r.addBlocks(s.server, s.info?.block_hashes[0] ?? []);
    expect(first[0]?.info?.block_hashes[0]?.[0]).toBe(first[1]?.info?.block_hashes[0]?.[0]);

    const hits = [req2, req1, req0].map((q) => r.select(q));
    expect(hits.map((s) => s.server)).toEqual(['server3', 'server2', 'server1']);
    expect(hits.map((s) => s.info?.matches)).toEqual([
      [0, 0, 320],
      [32, 224, 0],
      [128, 32, 0],
    ]);
    for (const s of hits) r.finish(s);

    const dup = Array.from({ length: 20 }, () => r.select(tok(new Array<number>(500).fill(1000))));
    const counts: Record<string, number> = { server1: 0, server2: 0, server3: 0 };
    for (const s of dup) counts[s.server] = (counts[s.server] ?? 0) + 1;
    expect(counts['server1']).toBeGreaterThan(counts['server2'] ?? 0);
    expect(counts['server2']).toBeGreaterThan(counts['server3'] ?? 0);
    expect(counts['server3']).toBeGreaterThan(0);
    expect(dup[0]?.info?.matches).toEqual([96, 32, 0]);
    for (const s of dup) r.finish(s);

    // Eviction on the servers holding req0 and req1 (bare `removed` events).
    r.applyEvents('server2', [
      { type: 'removed', block_hashes: hits[1]?.info?.block_hashes[0] ?? [] },
    ]);
    r.applyEvents('server1', [
      { type: 'removed', block_hashes: hits[2]?.info?.block_hashes[0] ?? [] },
    ]);
    const final = [req2, req1, req0].map((q) => r.select(q));
    expect(final[0]?.server).toBe('server3');
    expect(new Set(final.map((s) => s.server)).size).toBe(3);
  });

  it('applies stored events wrapped in {data} with uint64 hashes above 2^53 exactly', () => {
    const r = new KvCacheAwareRouter(['a', 'b'], { tokensPerBlock: 4 });
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const hashes = computeBlockHashes(prompt, 4);
    r.applyEvents('b', [
      {
        event_id: 1,
        data: {
          type: 'stored',
          parent_hash: null,
          blocks: hashes.map((h) => ({ type: 'stored_block', block_hash: h })),
        },
        window_size: 1,
      },
    ]);
    r.applyEvents('a', [
      { data: { type: 'stored', blocks: [{ block_hash: 18446744073709551615n }] } },
    ]);
    const s = r.select({ endpoint: 'completions', prompt });
    expect(s.server).toBe('b');
    expect(s.info?.matches).toEqual([0, 8]);
    expect(r.blockCount('a')).toBe(1);
  });

  it('tokenizes text prompts with the pluggable tokenizer and refuses without one', () => {
    const withTok = new KvCacheAwareRouter(['a'], {
      tokenizer: (t) => [...t].map((c) => c.charCodeAt(0)),
    });
    expect(withTok.select({ endpoint: 'completions', prompt: 'hello' }).info?.token_lists).toEqual([
      [104, 101, 108, 108, 111],
    ]);
    expect(() =>
      new KvCacheAwareRouter(['a']).select({ endpoint: 'completions', prompt: 'hello' }),
    ).toThrow(RouterError);
    expect(
      withTok.select({ endpoint: 'chat', promptTokenIds: [1, 2, 3] }).info?.token_lists,
    ).toEqual([[1, 2, 3]]);
  });

  it('use_tokens: upstream test expectations hold unchanged (the score stays active_requests / max_batch_size)', () => {
    const plain = new KvCacheAwareRouter(servers, { maxBatchSize: 32, tokensPerBlock: 32 });
    const byTokens = new KvCacheAwareRouter(servers, {
      maxBatchSize: 32,
      tokensPerBlock: 32,
      useTokens: true,
    });
    // Same sequence as test_kv_cache_aware_router, including the load-driven spread of 20 duplicates.
    const run = (r: KvCacheAwareRouter): string[] => {
      const out: string[] = [];
      const first = [req0, req1, req2].map((q) => r.select(q));
      for (const s of first) r.finish(s);
      for (const s of first) r.addBlocks(s.server, s.info?.block_hashes[0] ?? []);
      const dup = Array.from({ length: 20 }, () =>
        r.select(tok(new Array<number>(500).fill(1000))),
      );
      out.push(...first.map((s) => s.server), ...dup.map((s) => s.server));
      for (const s of dup) r.finish(s);
      return out;
    };
    const a = run(plain);
    expect(run(byTokens)).toEqual(a);
    expect(a.slice(0, 3)).toEqual(['server1', 'server2', 'server3']);
  });

  it('use_tokens: prompt tokens are what is accounted, and released on finish', () => {
    const r = new KvCacheAwareRouter(['a', 'b'], {
      useTokens: true,
      tokensPerBlock: 4,
      maxBatchSize: 2,
    });
    const s1 = r.select({ endpoint: 'completions', prompt: [1, 2, 3, 4, 5, 6, 7] });
    expect(s1.server).toBe('a');
    expect(s1.load).toBe(7);
    expect(r.activeTokens('a')).toBe(7);
    expect(r.activeRequests('a')).toBe(1);
    const s2 = r.select({ endpoint: 'completions', prompt: [9, 9] });
    // One active request on `a` costs 1/2 of the score: `b` wins although tokens were never compared.
    expect(s2.server).toBe('b');
    expect(r.activeTokens('b')).toBe(2);
    r.finish(s1);
    r.finish(s1); // double finish is harmless
    expect(r.activeTokens('a')).toBe(0);
    expect(r.activeRequests('a')).toBe(0);
    r.finish(s2);
    expect(r.activeTokens('b')).toBe(0);
  });

  it('use_tokens: the score ignores tokens, so a few long prompts do not outweigh many short ones', () => {
    const r = new KvCacheAwareRouter(['a', 'b'], {
      useTokens: true,
      tokensPerBlock: 4,
      maxBatchSize: 8,
    });
    const long = r.select({ endpoint: 'completions', prompt: new Array<number>(4000).fill(7) });
    expect(long.server).toBe('a');
    const short1 = r.select({ endpoint: 'completions', prompt: [1, 2] });
    const short2 = r.select({ endpoint: 'completions', prompt: [3, 4] });
    // b then has 1 request, a has 1 (with 2000x the tokens): tie on requests, first server wins.
    expect([short1.server, short2.server]).toEqual(['b', 'a']);
    expect(r.activeTokens('a')).toBe(4002);
  });

  it('use_tokens: chat and generation_only requests are counted, not refused (upstream raises ValueError)', () => {
    const r = new KvCacheAwareRouter(['a'], {
      useTokens: true,
      tokenizer: (t) => [...t].map((c) => c.charCodeAt(0)),
    });
    const chat = r.select({ endpoint: 'chat', messages: [{ role: 'user', content: 'hey' }] });
    expect(chat.load).toBe(3);
    const gen = r.select({
      endpoint: 'completions',
      prompt: [5, 6, 7, 8],
      requestType: 'generation_only',
    });
    expect(gen.load).toBe(4);
    expect(r.activeTokens('a')).toBe(7);
    expect(r.usesTokens).toBe(true);
  });

  it('without use_tokens no tokens are accounted (upstream counts 0) and each request loads 1', () => {
    const r = new KvCacheAwareRouter(['a']);
    const s = r.select({ endpoint: 'completions', prompt: [1, 2, 3] });
    expect(s.load).toBe(1);
    expect(r.activeTokens('a')).toBe(0);
    expect(r.usesTokens).toBe(false);
  });

  it('createRouter passes use_tokens to kv_cache_aware', () => {
    const r = createRouter(
      { type: 'kv_cache_aware', use_tokens: true, max_batch_size: 64, tokens_per_block: 32 },
      ['a'],
      'context',
    );
    expect(r.select({ endpoint: 'completions', prompt: [1, 2, 3] }).load).toBe(3);
  });

  it('keeps block sets across membership changes (upstream cannot)', () => {
    const r = new KvCacheAwareRouter(['a', 'b']);
    r.addBlocks('a', [1n, 2n]);
    r.setServers(['a', 'c']);
    expect(r.blockCount('a')).toBe(2);
    expect(r.servers()).toEqual(['a', 'c']);
  });
});

describe('conditional disaggregation', () => {
  it.each([
    [[0, 0], 200, 100, true],
    [[150, 0], 200, 100, false],
    [[50, 0], 200, 100, true],
    [[32, 96], 200, 100, false],
  ])('matches %j over %i tokens with limit %i -> need ctx %s', (matches, total, limit, need) => {
    expect(
      needsContextPhase(
        { matches, block_hashes: [], token_lists: [new Array<number>(total).fill(1)] },
        limit,
      ),
    ).toBe(need);
  });
});

describe('createRouter', () => {
  it.each(['round_robin', 'load_balancing', 'kv_cache_aware'] as const)('builds %s', (type) => {
    expect(
      createRouter(
        { type, use_tokens: false, max_batch_size: 64, tokens_per_block: 32 },
        ['a'],
        'context',
      ).type,
    ).toBe(type);
  });
});
