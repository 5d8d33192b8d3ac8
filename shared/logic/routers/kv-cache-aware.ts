// kv_cache_aware router: scores servers by KV-cache prefix hits minus load (trtllm-protocol.md 6.3).
// Block hashes are upstream's exact 64-bit BlockKeyHasher chain (shared/logic/kv-block-hash.ts), kept
// as bigint so values above 2^53 stay exact. Block sets are fed from each worker's /kv_cache_events
// by the proxy (`applyEvents`; a fleet process joining late gets `replaceBlocks` from the fleet's picture,
// electron/core/proxy/kv-event-feed.ts); upstream forgot to poll, we do.
//
// `use_tokens` (as upstream's KvCacheAwareRouter, Oct 2025 to its 2026 LoadBalancingMixin version):
// it only switches the load accounting to prompt tokens (active tokens per server, and the selection's
// `load`); the score keeps `active_requests / max_batch_size` either way (upstream's "TODO: use
// max_num_tokens?"), so the choice of server is the same with and without it. Tokens are the router's
// token lists (upstream 2026 replaces string prompts by their ids before counting; Oct 2025 counted
// characters). Where upstream raises ValueError with use_tokens (chat requests, generation_only requests,
// that is every request of a generation router) we count the tokens we tokenised instead: the flag then
// changes no routing decision there either, and raising would make the whole role unusable.
// Layer: shared (pure).
import { computeBlockHashes } from '../kv-block-hash';
import type { KvRouteInfo, Router, RouteRequest, RouteSelection } from './types';
import { noServersMessage, RouterError } from './types';

/** Turns text into token ids. The proxy cannot load the HF tokenizer, so this is pluggable. */
export type Tokenizer = (text: string) => number[];

export interface KvCacheAwareOptions {
  maxBatchSize?: number;
  tokensPerBlock?: number;
  useTokens?: boolean;
  tokenizer?: Tokenizer;
  role?: string;
}

interface ServerState {
  blocks: Set<bigint>;
  activeRequests: number;
  activeTokens: number;
}

/** A hash from a KV event: bigint (lossless parse), number or decimal string. */
function toHash(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return undefined;
}

function messagesText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const parts: string[] = [];
  for (const m of messages as unknown[]) {
    if (typeof m !== 'object' || m === null) continue;
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content)) {
      for (const c of content as unknown[]) {
        const t = typeof c === 'object' && c !== null ? (c as { text?: unknown }).text : undefined;
        if (typeof t === 'string') parts.push(t);
      }
    }
  }
  return parts.join('\n');
}

/** One `stored` or `removed` KV event reduced to what a block index needs. */
export interface KvBlockChange {
  op: 'stored' | 'removed';
  hashes: bigint[];
}

/**
 * `/kv_cache_events` items (bare or wrapped in `{data: ...}`, trtllm-protocol.md 4.7) as block changes, in
 * their order; other event types (`created`, `updated`) and unreadable hashes are skipped.
 */
export function decodeKvEvents(events: readonly unknown[]): KvBlockChange[] {
  const changes: KvBlockChange[] = [];
  for (const raw of events) {
    if (typeof raw !== 'object' || raw === null) continue;
    const wrapped = (raw as { data?: unknown }).data;
    const ev = (typeof wrapped === 'object' && wrapped !== null ? wrapped : raw) as Record<
      string,
      unknown
    >;
    if (ev['type'] === 'stored' && Array.isArray(ev['blocks'])) {
      const hashes: bigint[] = [];
      for (const b of ev['blocks'] as unknown[]) {
        const h =
          typeof b === 'object' && b !== null
            ? toHash((b as { block_hash?: unknown }).block_hash)
            : undefined;
        if (h !== undefined) hashes.push(h);
      }
      changes.push({ op: 'stored', hashes });
    } else if (ev['type'] === 'removed' && Array.isArray(ev['block_hashes'])) {
      const hashes: bigint[] = [];
      for (const v of ev['block_hashes'] as unknown[]) {
        const h = toHash(v);
        if (h !== undefined) hashes.push(h);
      }
      changes.push({ op: 'removed', hashes });
    }
  }
  return changes;
}

export class KvCacheAwareRouter implements Router {
  readonly type = 'kv_cache_aware' as const;
  private list: string[] = [];
  private readonly state = new Map<string, ServerState>();
  private readonly maxBatchSize: number;
  readonly tokensPerBlock: number;
  private readonly useTokens: boolean;
  private readonly tokenizer: Tokenizer | undefined;
  private readonly role: string;

  constructor(servers: readonly string[], opts: KvCacheAwareOptions = {}) {
    this.maxBatchSize = opts.maxBatchSize ?? 64;
    this.tokensPerBlock = opts.tokensPerBlock ?? 32;
    this.useTokens = opts.useTokens ?? false;
    this.tokenizer = opts.tokenizer;
    this.role = opts.role ?? 'the';
    this.setServers(servers);
  }

  servers(): readonly string[] {
    return this.list;
  }

  /**
   * Upstream raises NotImplementedError on membership changes; we keep the block sets of servers that
   * stay and start new ones empty, so the router works with dynamic membership.
   */
  setServers(servers: readonly string[]): void {
    this.list = [...servers];
    for (const s of this.list) {
      if (!this.state.has(s)) {
        this.state.set(s, { blocks: new Set(), activeRequests: 0, activeTokens: 0 });
      }
    }
    for (const s of [...this.state.keys()]) if (!this.list.includes(s)) this.state.delete(s);
  }

  /** Token lists of a request: token ids as given, text through the tokenizer. */
  tokenLists(req: RouteRequest): number[][] {
    if (req.endpoint === 'completions') {
      const p = req.prompt;
      if (p === undefined) return [[]];
      if (typeof p === 'string') return [this.tokenize(p)];
      return [[...p]];
    }
    if (req.promptTokenIds !== undefined) return [[...req.promptTokenIds]];
    // Upstream (Oct 2025) cannot route chat by cache; we tokenise the message texts as an approximation.
    return [this.tokenize(messagesText(req.messages))];
  }

  private tokenize(text: string): number[] {
    if (!this.tokenizer) {
      throw new RouterError('kv_cache_aware routing of text prompts needs a tokenizer');
    }
    return this.tokenizer(text);
  }

  /** Adds blocks to a server's set (what a `stored` event does). */
  addBlocks(server: string, hashes: Iterable<bigint>): void {
    const st = this.state.get(server);
    if (!st) return;
    for (const h of hashes) st.blocks.add(h);
  }

  /** Removes blocks from a server's set (what a `removed` event does). */
  removeBlocks(server: string, hashes: Iterable<bigint>): void {
    const st = this.state.get(server);
    if (!st) return;
    for (const h of hashes) st.blocks.delete(h);
  }

  /** Applies `/kv_cache_events` items (bare or wrapped in `{data: ...}`, trtllm-protocol.md 4.7), in order. */
  applyEvents(server: string, events: readonly unknown[]): void {
    for (const change of decodeKvEvents(events)) {
      if (change.op === 'stored') this.addBlocks(server, change.hashes);
      else this.removeBlocks(server, change.hashes);
    }
  }

  /** Replaces a server's whole block set (a snapshot of what its events added up to elsewhere). */
  replaceBlocks(server: string, hashes: Iterable<bigint>): void {
    const st = this.state.get(server);
    if (!st) return;
    st.blocks = new Set(hashes);
  }

  /** The block hashes known for a server (a copy; empty for an unknown server). */
  blockHashes(server: string): bigint[] {
    return [...(this.state.get(server)?.blocks ?? [])];
  }

  /** Number of blocks known for a server (for tests and the console). */
  blockCount(server: string): number {
    return this.state.get(server)?.blocks.size ?? 0;
  }

  activeRequests(server: string): number {
    return this.state.get(server)?.activeRequests ?? 0;
  }

  /** Prompt tokens of the server's active requests; counted only with use_tokens (0 otherwise, as upstream). */
  activeTokens(server: string): number {
    return this.state.get(server)?.activeTokens ?? 0;
  }

  /** True when load is accounted in prompt tokens (use_tokens). */
  get usesTokens(): boolean {
    return this.useTokens;
  }

  select(req: RouteRequest, exclude?: ReadonlySet<string>): RouteSelection {
    if (this.list.length === 0) throw new RouterError(noServersMessage(this.role));
    const tokenLists = this.tokenLists(req);
    const B = this.tokensPerBlock;
    const blockHashes = tokenLists.map((t) => computeBlockHashes(t, B));
    let totalBlocks = 0;
    for (const h of blockHashes) totalBlocks += h.length;
    const padded = totalBlocks * B;
    let totalTokens = 0;
    for (const t of tokenLists) totalTokens += t.length;
    const matches: number[] = [];
    let best: string | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const s of this.list) {
      const st = this.state.get(s) as ServerState;
      let matched = 0;
      for (const hashes of blockHashes) {
        let k = 0;
        while (k < hashes.length && st.blocks.has(hashes[k] as bigint)) k++;
        matched += k * B;
      }
      matches.push(matched);
      if (exclude && exclude.has(s)) continue;
      const hitRate = padded > 0 ? matched / padded : 0;
      // Requests, not tokens, even with use_tokens: upstream's score (see the header).
      const score = hitRate - st.activeRequests / this.maxBatchSize;
      // Highest score wins; the first server wins ties.
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    if (best === undefined) throw new RouterError(noServersMessage(this.role));
    const st = this.state.get(best) as ServerState;
    const load = this.useTokens ? totalTokens : 0;
    st.activeRequests++;
    st.activeTokens += load;
    const info: KvRouteInfo = { block_hashes: blockHashes, token_lists: tokenLists, matches };
    // `load` is what this request added to the accounting: its tokens with use_tokens, else one request.
    return { server: best, load: this.useTokens ? totalTokens : 1, info, finished: false };
  }

  finish(sel: RouteSelection): void {
    if (sel.finished) return;
    sel.finished = true;
    const st = this.state.get(sel.server);
    if (!st) return;
    st.activeRequests = Math.max(0, st.activeRequests - 1);
    if (this.useTokens) st.activeTokens = Math.max(0, st.activeTokens - sel.load);
  }
}
