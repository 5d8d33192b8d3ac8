// `npm run bench:hot-paths`: the per-call cost of the pure hot paths the simulated worker and the
// kv_cache_aware router run per request, measured instead of asserted (tests check only what they return):
// sampling tokens, tokenizing a 40k-token prompt, and hashing its KV blocks. Median of several rounds after a
// warm-up, printed per unit of work. Compare numbers from the same machine only (docs/performance.md).
import { computeBlockHashes } from '../shared/logic/kv-block-hash';
import { generateTokens, tokenize } from '../shared/logic/text-generator';

const ROUNDS = 9;

/** Median wall time of `work` over ROUNDS runs, after one warm-up run. */
function medianMs(work: () => unknown): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(ROUNDS / 2)] ?? Number.NaN;
}

const PROMPT_TEXT = 'The old man walked to the quiet river, and 42 ducks followed him. '.repeat(
  2600,
);
const PROMPT_IDS = Array.from({ length: 40_000 }, (_, i) => (i * 104729) % 128000);
const SAMPLED_TOKENS = 5000;

const rows: Array<[string, number, string]> = [];
const sampleMs = medianMs(() =>
  generateTokens({
    promptTokenIds: tokenize('speed'),
    seed: 1,
    temperature: 1,
    topP: 0.9,
    ignoreEos: true,
    maxTokens: SAMPLED_TOKENS,
  }),
);
rows.push([
  `sample ${SAMPLED_TOKENS} tokens (temperature 1, top_p 0.9)`,
  sampleMs,
  `${((sampleMs * 1000) / SAMPLED_TOKENS).toFixed(2)} us/token`,
]);
const tokenizeMs = medianMs(() => tokenize(PROMPT_TEXT));
rows.push([
  `tokenize ${PROMPT_TEXT.length} characters`,
  tokenizeMs,
  `${((tokenizeMs * 1e6) / PROMPT_TEXT.length).toFixed(1)} ns/char`,
]);
const hashMs = medianMs(() => computeBlockHashes(PROMPT_IDS, 32));
rows.push([
  'hash 40,000 tokens into 1250 KV blocks',
  hashMs,
  `${((hashMs * 1000) / 1250).toFixed(2)} us/block`,
]);

process.stdout.write(`hot paths, median of ${ROUNDS} rounds (Node ${process.version})\n`);
for (const [what, ms, per] of rows) {
  process.stdout.write(`  ${what.padEnd(48)} ${ms.toFixed(2).padStart(9)} ms  ${per}\n`);
}
