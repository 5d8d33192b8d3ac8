// The proxy benchmark's load generator (bench/load-gen.ts, launched through bench/load-run.ts) in the two
// modes run 5 of bench:proxy stands on: a counted window (exactly N requests after one warm-up request
// per client) and the direct two-hop path (the generator calls a context worker, then a generation
// worker, itself). Two in-test HTTP servers stand in for the workers and record what they got, so the
// test checks counts and bodies, never a duration.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { runLoadGen } from '../../../bench/load-run';
import type { LoadSpec } from '../../../bench/load-spec';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const LOAD_GEN: [string, string[]] = [
  process.execPath,
  ['--import', 'tsx', path.join(ROOT, 'bench/load-gen.ts')],
];
const PROMPT_IDS = [101, 102, 103, 104];
const CONTEXT_ANSWER = JSON.stringify({
  choices: [{ disaggregated_params: { request_type: 'context_only', ctx_request_id: 7 } }],
  prompt_token_ids: PROMPT_IDS,
});

interface Recorder {
  port: number;
  bodies: string[];
  server: http.Server;
}

const servers: http.Server[] = [];

/** A loopback server that records every request body and answers `answer(body)` with 200. */
async function recorder(answer: (body: string) => string): Promise<Recorder> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      bodies.push(body);
      const text = answer(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
      res.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, bodies, server };
}

function spec(port: number, extra: Partial<LoadSpec>): LoadSpec {
  return {
    port,
    path: '/v1/completions',
    body: JSON.stringify({ model: 'bench', prompt: 'x', max_tokens: 4 }),
    mode: 'closed',
    concurrency: 3,
    rate: 0,
    warmupMs: 0,
    durationMs: 30_000,
    isStream: false,
    drainMs: 5_000,
    ...extra,
  };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('bench load generator: counted window and direct two-hop path', () => {
  it('sends exactly requestCount requests in the window after one warm-up request per client', async () => {
    const worker = await recorder(() => '{"choices":[]}');
    let edges = '';
    const r = await runLoadGen(LOAD_GEN, spec(worker.port, { requestCount: 10 }), ROOT, {
      onWindowStart: () => (edges += 'S'),
      onWindowEnd: () => (edges += 'E'),
    });
    expect(edges).toBe('SE');
    expect(r.ok).toBe(10);
    expect(r.statuses).toEqual({ '200': 10 });
    expect(r.unfinished).toBe(0);
    expect(r.windowMs).toBeGreaterThan(0);
    // 3 warm-up requests (one per client), then the 10 of the window.
    expect(worker.bodies).toHaveLength(13);
  }, 60_000);

  it('the direct path calls the context worker, then the generation worker with its ids and params', async () => {
    const ctx = await recorder(() => CONTEXT_ANSWER);
    const gen = await recorder(() => '{"choices":[]}');
    const r = await runLoadGen(
      LOAD_GEN,
      spec(ctx.port, { requestCount: 6, directGenPort: gen.port, promptBytes: 5000 }),
      ROOT,
    );
    expect(r.ok).toBe(6);
    expect(r.transportErrors).toBe(0);
    // One context call to build the generation body, then one per request (3 warm-up + 6).
    expect(ctx.bodies).toHaveLength(10);
    expect(gen.bodies).toHaveLength(9);
    const sent = JSON.parse(ctx.bodies[1] as string) as Record<string, unknown>;
    expect(sent.disaggregated_params).toEqual({ request_type: 'context_only' });
    expect(sent.stream).toBe(false);
    expect((sent.prompt as string).length).toBe(5000);
    const generation = JSON.parse(gen.bodies[0] as string) as Record<string, unknown>;
    expect(generation.prompt).toEqual(PROMPT_IDS);
    expect(generation.disaggregated_params).toEqual({
      request_type: 'generation_only',
      ctx_request_id: 7,
    });
  }, 60_000);

  it('refuses a counted window in an open loop, with the reason', async () => {
    await expect(
      runLoadGen(LOAD_GEN, spec(1, { mode: 'open', rate: 10, requestCount: 5 }), ROOT),
    ).rejects.toThrow(/requestCount needs mode "closed"/);
  }, 60_000);
});
