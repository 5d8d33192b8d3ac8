// Conditional disaggregation: decide whether a request needs a context phase from the generation
// router's prefix-match info (trtllm-protocol.md 5.2). Layer: shared (pure).
import type { KvRouteInfo } from './types';

/**
 * `need_ctx = sum(matches) == 0 or total_prompt_tokens - sum(matches) > max_local_prefill_length`.
 * Quirk kept from upstream: `matches` of all gen servers are summed, not only the chosen one's.
 */
export function needsContextPhase(info: KvRouteInfo, maxLocalPrefillLength: number): boolean {
  let matched = 0;
  for (const m of info.matches) matched += m;
  let total = 0;
  for (const t of info.token_lists) total += t.length;
  return matched === 0 || total - matched > maxLocalPrefillLength;
}
