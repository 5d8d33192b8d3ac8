// Fault switches (control route /_sim/faults and env DISAGG_SIM_FAULTS) and graceful SIGTERM, on real processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postJson, runToExit, type SimProcess, startSimWorker } from './sim-process';

type Json = Record<string, unknown>;
const REQUEST = { model: 'm', prompt: 'The old man and the sea', max_tokens: 6 };

async function setFaults(w: SimProcess, patch: Json): Promise<Response> {
  return fetch(`${w.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
}

describe('runtime fault switches', () => {
  let w: SimProcess;
  beforeAll(async () => {
    w = await startSimWorker(['m'], { DISAGG_SIM_ZERO_DELAY: '1' });
  });
  afterAll(async () => {
    await w.stop();
  });

  it('lists the switches and rejects unknown ones', async () => {
    const now = (await (await fetch(`${w.url}/_sim/faults`)).json()) as Json;
    expect(now).toMatchObject({
      hang: false,
      failHealth: false,
      answer5xx: null,
      slowdownFactor: 1,
    });
    const bad = await setFaults(w, { explode: true });
    expect(bad.status).toBe(400);
  });

  it('fails health on demand', async () => {
    await setFaults(w, { failHealth: true });
    expect((await fetch(`${w.url}/health`)).status).toBe(503);
    expect((await fetch(`${w.url}/health_generate`)).status).toBe(500);
    await setFaults(w, { failHealth: false });
    expect((await fetch(`${w.url}/health`)).status).toBe(200);
  });

  it('answers 5xx for inference requests', async () => {
    await setFaults(w, { answer5xx: 503 });
    const r = await postJson(`${w.url}/v1/completions`, REQUEST);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ object: 'error', code: 503 });
    await setFaults(w, { answer5xx: null });
    expect((await postJson(`${w.url}/v1/completions`, REQUEST)).status).toBe(200);
  });

  it('hangs: accepts the request and never answers', async () => {
    await setFaults(w, { hang: true });
    const outcome = await fetch(`${w.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(REQUEST),
      signal: AbortSignal.timeout(700),
    }).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    expect(outcome).toBe('TimeoutError');
    await setFaults(w, { hang: false });
  });

  it('refuses requests by closing the connection', async () => {
    await setFaults(w, { refuseRequests: true });
    const outcome = await postJson(`${w.url}/v1/completions`, REQUEST).then(
      () => 'answered',
      () => 'failed',
    );
    expect(outcome).toBe('failed');
    await setFaults(w, { refuseRequests: false });
  });

  it('slows down iterations', async () => {
    const time = async (): Promise<number> => {
      const started = Date.now();
      expect(
        (await postJson(`${w.url}/v1/completions`, { ...REQUEST, max_tokens: 10 })).status,
      ).toBe(200);
      return Date.now() - started;
    };
    const fast = await time();
    await setFaults(w, { extraIterationMs: 60 });
    const slow = await time();
    await setFaults(w, { extraIterationMs: 0 });
    // A zero-delay worker answers in a few ms; with the fault, 11 iterations (prefill + 10 decode steps) of
    // at least 60 ms each: a floor load cannot break (load only adds time). The fast figure is printed.
    expect(slow).toBeGreaterThanOrEqual(600);
    console.log(`extraIterationMs 60: ${slow} ms against ${fast} ms without`);
  });
});

describe('crash faults (env DISAGG_SIM_FAULTS)', () => {
  it('crashes after N requests', async () => {
    const w = await startSimWorker(['m'], {
      DISAGG_SIM_ZERO_DELAY: '1',
      DISAGG_SIM_FAULTS: '{"crashAfterRequests":2}',
    });
    try {
      expect((await postJson(`${w.url}/v1/completions`, REQUEST)).status).toBe(200);
      expect((await postJson(`${w.url}/v1/completions`, REQUEST)).status).toBe(200);
      const exit = await w.exited;
      expect(exit.code).toBe(1);
      expect(w.output()).toContain('crashAfterRequests=2 reached');
    } finally {
      await w.stop();
    }
  });

  it('dies mid-stream after k tokens without [DONE]', async () => {
    const w = await startSimWorker(['m'], {
      DISAGG_SIM_ZERO_DELAY: '1',
      DISAGG_SIM_FAULTS: '{"dieMidStreamAfterTokens":3}',
    });
    try {
      const res = await fetch(`${w.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...REQUEST, max_tokens: 20, stream: true }),
      });
      const text = await res.text().catch(() => 'cut');
      expect(text).not.toContain('[DONE]');
      const exit = await w.exited;
      expect(exit.signal).toBe('SIGKILL');
    } finally {
      await w.stop();
    }
  });
});

describe('graceful SIGTERM', () => {
  it('exits 0 when stopped while still loading', async () => {
    const r = await runToExit(
      ['m'],
      { DISAGG_SIM_LOAD_MS: '10000' },
      15_000,
      'Loading weights: 0%',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Shutting down during startup (SIGTERM)');
    // It did not sit out the 10 s load first.
    expect(r.stderr).not.toContain('Loading weights: 100%');
  });

  it('finishes an in-flight stream, stops accepting, and exits 0', async () => {
    // Real delays: ~40 tokens take well over the time before SIGTERM, but less than the 3 s grace.
    const w = await startSimWorker(['m'], { DISAGG_SIM_FAULTS: '{"extraIterationMs":20}' });
    const res = await fetch(`${w.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...REQUEST, max_tokens: 40, ignore_eos: true, stream: true }),
    });
    const body = res.text();
    await new Promise((r) => setTimeout(r, 200));
    process.kill(w.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await postJson(`${w.url}/v1/completions`, REQUEST).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(late === 'refused' || late === 503).toBe(true);
    const text = await body;
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const exit = await w.exited;
    expect(exit.code).toBe(0);
    expect(w.output()).toContain('Shutting down (SIGTERM)');
  });

  it('cuts a stream that cannot finish within the grace period and still exits 0', async () => {
    const w = await startSimWorker(['m'], { DISAGG_SIM_FAULTS: '{"extraIterationMs":200}' });
    const res = await fetch(`${w.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...REQUEST, max_tokens: 200, ignore_eos: true, stream: true }),
    });
    const body = res.text().catch(() => 'cut');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(w.pid, 'SIGTERM');
    // The stream needs 40 s; it ends without [DONE], so the 3 s grace cut it (the test timeout bounds the exit).
    const exit = await w.exited;
    expect(exit.code).toBe(0);
    expect(await body).not.toContain('[DONE]');
  });
});
