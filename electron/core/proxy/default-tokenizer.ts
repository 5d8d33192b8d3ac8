// The tokenizer kv_cache_aware uses for text prompts. Upstream loads the model's HF tokenizer in the
// proxy (trtllm-protocol.md 6.3); we cannot download one, so token-id prompts are exact and text goes
// through the simulated worker's tokenizer (shared/logic/text-generator.ts). Against simulated workers
// text routing is exact; against real trtllm-serve workers it is approximate. Layer: core.
import type { Tokenizer } from '../../../shared/logic/routers/kv-cache-aware';
import { tokenize } from '../../../shared/logic/text-generator';

export const defaultTokenizer: Tokenizer = (text: string) => tokenize(text);
