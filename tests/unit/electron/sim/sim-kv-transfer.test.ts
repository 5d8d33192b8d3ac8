import { describe, expect, it, vi } from 'vitest';

import {
  ContextStateStore,
  decodeOpaqueState,
  encodeOpaqueState,
} from '../../../../electron/sim/sim-kv-transfer';

describe('opaque state', () => {
  it('round-trips through base64 JSON and rejects foreign states', () => {
    const state = { sim: 1 as const, host: '127.0.0.1', port: 8001, ctx_request_id: 42, pid: 7 };
    const text = encodeOpaqueState(state);
    expect(Buffer.from(text, 'base64').toString('utf8')).toContain('"ctx_request_id":42');
    expect(decodeOpaqueState(text)).toEqual(state);
    expect(decodeOpaqueState('bm90IGpzb24=')).toBeNull();
    expect(decodeOpaqueState(Buffer.from('{"host":"x"}').toString('base64'))).toBeNull();
  });
});

describe('ContextStateStore', () => {
  const payload = {
    ctx_request_id: 5,
    prompt_token_ids: [1, 2],
    first_gen_tokens: [3],
    kv_bytes: 100,
  };

  it('hands a state out once and releases its KV', () => {
    const store = new ContextStateStore(60_000);
    const release = vi.fn();
    store.put(payload, release);
    expect(store.ids()).toEqual([5]);
    expect(store.take(5)).toEqual(payload);
    expect(release).toHaveBeenCalledOnce();
    expect(store.take(5)).toBeUndefined();
    store.clear();
  });

  it('frees an unclaimed state after the timeout', () => {
    vi.useFakeTimers();
    try {
      const expired = vi.fn();
      const release = vi.fn();
      const store = new ContextStateStore(1_000, expired);
      store.put(payload, release);
      vi.advanceTimersByTime(999);
      expect(store.size).toBe(1);
      vi.advanceTimersByTime(2);
      expect(store.size).toBe(0);
      expect(release).toHaveBeenCalledOnce();
      expect(expired).toHaveBeenCalledWith(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
