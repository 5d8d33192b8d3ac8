import { describe, expect, it } from 'vitest';

import { KvEventBuffer, type KvEventBufferOptions } from '../../../../electron/sim/sim-kv-events';
import { computeBlockHashes } from '../../../../shared/logic/kv-block-hash';

const OPTS: KvEventBufferOptions = {
  maxEvents: 100,
  maxBlocks: 8,
  tokensPerBlock: 4,
  windowSize: 128,
  isReuseEnabled: true,
};
const ids = (n: number, base = 1000): number[] => Array.from({ length: n }, (_, i) => base + i);

describe('KvEventBuffer', () => {
  it('starts with a created event and stores the router-chunked blocks of a prompt', () => {
    const buf = new KvEventBuffer(OPTS);
    const prompt = ids(10);
    expect(buf.storePrompt(prompt)).toEqual({ cachedTokens: 0 });
    const events = buf.drain();
    expect(events[0]).toEqual({
      event_id: 0,
      data: { type: 'created', num_blocks_per_cache_level: [8, 0] },
      window_size: 128,
    });
    const stored = events[1];
    expect(stored?.event_id).toBe(1);
    if (stored?.data.type !== 'stored') throw new Error('expected stored');
    // 10 tokens, last one excluded: blocks [0..4) [4..8) [8..9).
    expect(stored.data.parent_hash).toBeNull();
    expect(stored.data.blocks.map((b) => b.block_hash)).toEqual(computeBlockHashes(prompt, 4));
    expect(stored.data.blocks.map((b) => b.tokens.length)).toEqual([4, 4, 1]);
    expect(stored.data.blocks[0]?.tokens[0]).toEqual({
      type: 'unique_token',
      token_id: 1000,
      token_extra_id: 0,
    });
    expect(buf.drain()).toEqual([]);
  });

  it('counts whole cached blocks of a shared prefix and stores only the new blocks with their parent', () => {
    const buf = new KvEventBuffer(OPTS);
    buf.storePrompt(ids(9));
    buf.drain();
    const longer = [...ids(8), 7, 7, 7, 7, 7];
    expect(buf.storePrompt(longer)).toEqual({ cachedTokens: 8 });
    const [ev] = buf.drain();
    if (ev?.data.type !== 'stored') throw new Error('expected stored');
    const hashes = computeBlockHashes(longer, 4);
    expect(ev.data.parent_hash).toBe(hashes[1]);
    expect(ev.data.blocks.map((b) => b.block_hash)).toEqual(hashes.slice(2));
    expect(
      new KvEventBuffer({ ...OPTS, isReuseEnabled: false }).storePrompt(ids(9)).cachedTokens,
    ).toBe(0);
  });

  it('evicts least recently used blocks beyond capacity with a removed event', () => {
    const buf = new KvEventBuffer(OPTS);
    const a = ids(25, 100);
    buf.storePrompt(a);
    buf.storePrompt(ids(17, 500));
    const removed = buf.drain().filter((e) => e.data.type === 'removed');
    expect(removed).toHaveLength(1);
    expect(removed[0]?.data).toEqual({
      type: 'removed',
      block_hashes: computeBlockHashes(a, 4).slice(0, 2),
    });
    expect(buf.storedBlockCount).toBe(8);
  });

  it('records nothing when event_buffer_max_size is 0, and keeps only the newest events', () => {
    const off = new KvEventBuffer({ ...OPTS, maxEvents: 0 });
    off.storePrompt(ids(9));
    expect(off.drain()).toEqual([]);
    const small = new KvEventBuffer({ ...OPTS, maxEvents: 2, maxBlocks: 1000 });
    for (let k = 0; k < 5; k += 1) small.storePrompt(ids(6, 100 * k));
    expect(small.drain().map((e) => e.event_id)).toEqual([4, 5]);
  });
});
