// Safe removal drains: streams already running on the removed generation worker finish normally (no error
// event, [DONE] once) before its process stops, with realistic (non-zero) simulated decode timing.
import { afterEach, describe, expect, it } from 'vitest';

import { type BackendHarness, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function stream(
  url: string,
  i: number,
  onFirstByte: () => void,
): Promise<{ status: number; text: string; endAt: number }> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      prompt: `tell me a long story ${i}`,
      max_tokens: 300,
      stream: true,
      ignore_eos: true,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let isFirst = true;
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    if (isFirst) {
      isFirst = false;
      onFirstByte();
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { status: res.status, text, endAt: Date.now() };
}

describe('safe removal', () => {
  it('lets streams on the removed worker finish before stopping it', async () => {
    h = await startTestBackend({ isDemo: true, env: { ...process.env, DISAGG_SIM_LOAD_MS: '0' } });
    const hh = h;
    const ready = async (): Promise<number> =>
      (await hh.client.invoke('workers:list')).filter((w) => w.status.state === 'ready').length;
    await expect.poll(ready, { timeout: 20_000, interval: 100 }).toBe(2);
    await hh.client.invoke('workers:add', {
      role: 'generation',
      gpus: [2],
      model: MODEL,
      engine: 'simulated',
      id: 'gen1',
    });
    await expect.poll(ready, { timeout: 20_000, interval: 100 }).toBe(3);
    const { url } = await hh.client.invoke('proxy:info');
    let started = 0;
    const streams = [0, 1, 2, 3].map((i) => stream(url, i, () => started++));
    await expect.poll(() => started, { timeout: 10_000, interval: 10 }).toBe(4);
    await hh.client.invoke('workers:remove', 'gen1', { drainTimeoutMs: 20_000 });
    const removedAt = Date.now();
    const results = await Promise.all(streams);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('"error"');
      expect(r.text.match(/data: \[DONE\]/g)).toHaveLength(1);
    }
    // The removal waited for the streams it had: it returned only after (at least some of) them ended.
    expect(removedAt).toBeGreaterThanOrEqual(Math.min(...results.map((r) => r.endAt)));
    expect((await hh.client.invoke('workers:list')).map((w) => w.id).sort()).toEqual([
      'ctx0',
      'gen0',
    ]);
  }, 90_000);
});
