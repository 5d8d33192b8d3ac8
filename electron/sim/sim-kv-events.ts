// The KV-cache event buffer behind `POST /kv_cache_events` (trtllm-protocol.md 4.7): a `created` event first,
// then `stored` events for the blocks of every prompt the worker prefilled or received, and `removed` events
// when blocks are evicted (LRU over the cache's block capacity). Block hashes are the kv_cache_aware router's
// chained uint64 hashes over its own chunking (6.3), so a router matches them; they are bigint here and are
// serialised losslessly by the server. Layer: electron/sim (plain Node; no I/O).
import { computeBlockHashes } from '../../shared/logic/kv-block-hash';

export interface StoredBlockOut {
  type: 'stored_block';
  block_hash: bigint;
  tokens: { type: 'unique_token'; token_id: number; token_extra_id: number }[];
  cache_level: number;
  priority: number;
}

export type KvEventData =
  | { type: 'created'; num_blocks_per_cache_level: number[] }
  | { type: 'stored'; parent_hash: bigint | null; blocks: StoredBlockOut[] }
  | { type: 'removed'; block_hashes: bigint[] };

export interface KvCacheEvent {
  event_id: number;
  data: KvEventData;
  window_size: number;
}

export interface KvEventBufferOptions {
  /** `kv_cache_config.event_buffer_max_size`: 0 disables events (the route answers []). */
  maxEvents: number;
  /** Blocks the cache holds; older blocks are evicted (and reported removed) beyond this. */
  maxBlocks: number;
  tokensPerBlock: number;
  /** The attention window reported with each event (max_seq_len). */
  windowSize: number;
  /** `kv_cache_config.enable_block_reuse`: whether stored prefixes count as cached tokens. */
  isReuseEnabled: boolean;
}

/** Upstream's default retention priority for stored blocks. */
const DEFAULT_PRIORITY = 35;

export class KvEventBuffer {
  private events: KvCacheEvent[] = [];
  private nextEventId = 0;
  /** Stored block hashes in LRU order (Map keeps insertion order; a reuse re-inserts). */
  private readonly stored = new Map<bigint, true>();

  constructor(private readonly options: KvEventBufferOptions) {
    this.push({ type: 'created', num_blocks_per_cache_level: [options.maxBlocks, 0] });
  }

  get isEnabled(): boolean {
    return this.options.maxEvents > 0;
  }

  /**
   * Records that the worker holds the KV of this prompt: new blocks produce one `stored` event, evictions a
   * `removed` event. Returns the prompt tokens that were already cached (leading blocks found, reuse on).
   */
  storePrompt(tokenIds: readonly number[]): { cachedTokens: number } {
    const size = this.options.tokensPerBlock;
    const hashes = computeBlockHashes(tokenIds, size);
    let leadingHits = 0;
    while (leadingHits < hashes.length && this.stored.has(hashes[leadingHits] ?? -1n)) {
      leadingHits += 1;
    }
    const end = tokenIds.length - 1;
    // Reuse counts whole blocks only (a trailing partial block is recomputed).
    const fullBlocks = Math.floor(Math.max(0, end) / size);
    const cachedTokens = this.options.isReuseEnabled ? Math.min(leadingHits, fullBlocks) * size : 0;
    const blocks: StoredBlockOut[] = [];
    let parent: bigint | null = null;
    let firstParent: bigint | null = null;
    for (let i = 0; i < hashes.length; i += 1) {
      const hash = hashes[i] ?? 0n;
      if (this.stored.has(hash)) {
        // Touch for LRU.
        this.stored.delete(hash);
        this.stored.set(hash, true);
      } else {
        if (blocks.length === 0) firstParent = parent;
        const start = i * size;
        const tokens = tokenIds.slice(start, Math.min(start + size, end));
        blocks.push({
          type: 'stored_block',
          block_hash: hash,
          tokens: tokens.map((t) => ({
            type: 'unique_token' as const,
            token_id: t,
            token_extra_id: 0,
          })),
          cache_level: 0,
          priority: DEFAULT_PRIORITY,
        });
        this.stored.set(hash, true);
      }
      parent = hash;
    }
    if (blocks.length > 0) this.push({ type: 'stored', parent_hash: firstParent, blocks });
    this.evict();
    return { cachedTokens };
  }

  private evict(): void {
    const removed: bigint[] = [];
    while (this.stored.size > this.options.maxBlocks) {
      const oldest = this.stored.keys().next();
      if (oldest.done) break;
      this.stored.delete(oldest.value);
      removed.push(oldest.value);
    }
    if (removed.length > 0) this.push({ type: 'removed', block_hashes: removed });
  }

  private push(data: KvEventData): void {
    if (!this.isEnabled) return;
    this.events.push({ event_id: this.nextEventId, data, window_size: this.options.windowSize });
    this.nextEventId += 1;
    if (this.events.length > this.options.maxEvents) {
      this.events.splice(0, this.events.length - this.options.maxEvents);
    }
  }

  /** Returns and forgets the buffered events (upstream drains the event queue on each call). */
  drain(): KvCacheEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** Number of blocks currently stored (tests, /_sim/info). */
  get storedBlockCount(): number {
    return this.stored.size;
  }
}
