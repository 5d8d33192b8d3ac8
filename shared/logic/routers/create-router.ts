// Builds a router from a parsed `router:` section (shared/model/config.ts RouterConfig).
// Layer: shared (pure).
import type { RouterConfig } from '../../model/config';
import type { Tokenizer } from './kv-cache-aware';
import { KvCacheAwareRouter } from './kv-cache-aware';
import { LoadBalancingRouter } from './load-balancing';
import { RoundRobinRouter } from './round-robin';
import type { Router } from './types';

/** `role` is `context` or `generation`, used in upstream's "No {role} servers available". */
export function createRouter(
  config: Pick<RouterConfig, 'type' | 'use_tokens' | 'max_batch_size' | 'tokens_per_block'>,
  servers: readonly string[],
  role: string,
  tokenizer?: Tokenizer,
): Router {
  switch (config.type) {
    case 'round_robin':
      return new RoundRobinRouter(servers, role);
    case 'load_balancing':
      return new LoadBalancingRouter(servers, config.use_tokens, role);
    case 'kv_cache_aware':
      return new KvCacheAwareRouter(servers, {
        maxBatchSize: config.max_batch_size,
        tokensPerBlock: config.tokens_per_block,
        useTokens: config.use_tokens,
        tokenizer,
        role,
      });
  }
}
