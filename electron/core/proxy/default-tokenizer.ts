// The tokenizer kv_cache_aware uses for text prompts. Upstream loads the model's HF tokenizer in the
// proxy (trtllm-protocol.md 6.3); we cannot download one, so token-id prompts are exact and text goes
// through this deterministic stand-in (word pieces hashed into a 32k vocabulary). Text-prompt cache
// routing is therefore approximate against real workers. Layer: core.
import type { Tokenizer } from '../../../shared/logic/routers/kv-cache-aware';

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Splits on word boundaries (keeping leading spaces, like BPE pieces) and hashes each piece. */
export const defaultTokenizer: Tokenizer = (text: string) => {
  const pieces = text.match(/\s*[^\s]+|\s+/g) ?? [];
  return pieces.map((p) => fnv1a(p) % 32000);
};
