// One generated sequence: token by token from the shared deterministic text generator, with upstream's finish
// rules (max_tokens -> "length"; EOS, stop strings and stop_token_ids -> "stop" with stop_reason), and the text
// that is safe to stream (a possible stop-string prefix is held back until it is decided).
// Token i is a pure function of the prompt, the seed, the sampling params and the tokens before it, so a
// generation-only worker that starts from `first_gen_tokens` continues exactly the aggregated sequence.
// Layer: electron/sim (plain Node).
import {
  createDetokenizer,
  createSampler,
  type Detokenizer,
  EOS_TOKEN_ID,
  findStop,
  partialStopLength,
  type Sampler,
  tokenize,
} from '../../shared/logic/text-generator';
import type { ChatMessageIn } from './sim-openai-request';

export type FinishReason = 'length' | 'stop';

export interface SequenceParams {
  promptTokenIds: readonly number[];
  seed: number;
  temperature: number;
  topP: number;
  /** Tokens this sequence may generate in total (including tokens it started with). */
  maxNewTokens: number;
  stop: readonly string[];
  stopTokenIds: readonly number[];
  shouldIncludeStopStr: boolean;
  shouldIgnoreEos: boolean;
  minTokens: number;
}

export class SimSequence {
  /** Generated token ids (a final EOS is not included, as upstream's output token ids). */
  readonly tokenIds: number[] = [];
  /** Generated text, cut at a stop string once one matched. */
  text = '';
  finishReason: FinishReason | null = null;
  stopReason: string | number | null = null;
  private emittedChars = 0;
  private readonly maxStopLen: number;
  private readonly sampler: Sampler;
  private readonly detokenizer: Detokenizer = createDetokenizer();

  constructor(
    private readonly params: SequenceParams,
    initialTokens: readonly number[] = [],
  ) {
    this.maxStopLen = params.stop.reduce((m, s) => Math.max(m, s.length), 0);
    // ignore_eos and min_tokens are sampling rules of the generator: EOS is never drawn while they forbid it.
    this.sampler = createSampler({
      promptTokenIds: params.promptTokenIds,
      seed: params.seed,
      temperature: params.temperature,
      topP: params.topP,
      ignoreEos: params.shouldIgnoreEos,
      minTokens: params.minTokens,
    });
    if (params.maxNewTokens <= 0) this.finishReason = 'length';
    for (const token of initialTokens) {
      if (this.finishReason !== null) break;
      this.push(token);
    }
  }

  get isFinished(): boolean {
    return this.finishReason !== null;
  }

  /** Draws the next token from the generator and applies it. */
  advance(): number {
    const token = this.sampler.next(this.tokenIds);
    this.push(token);
    return token;
  }

  /** Applies one token: EOS / stop token / stop string / length rules. */
  push(token: number): void {
    if (this.finishReason !== null) return;
    if (
      token === EOS_TOKEN_ID &&
      !this.params.shouldIgnoreEos &&
      this.tokenIds.length >= this.params.minTokens
    ) {
      this.finishReason = 'stop';
      this.text += this.detokenizer.flush();
      return;
    }
    this.tokenIds.push(token);
    const before = this.text.length;
    this.text += this.detokenizer.push(token);
    if (this.params.stopTokenIds.includes(token) && this.tokenIds.length >= this.params.minTokens) {
      // The stop token itself is not part of the text.
      this.text = this.text.slice(0, before);
      this.finishReason = 'stop';
      this.stopReason = token;
      return;
    }
    if (this.maxStopLen > 0 && this.tokenIds.length >= this.params.minTokens) {
      const from = Math.max(0, before - this.maxStopLen + 1);
      const hit = findStop(this.text.slice(from), this.params.stop);
      if (hit !== null) {
        const at = from + hit.index;
        this.text = this.text.slice(
          0,
          this.params.shouldIncludeStopStr ? at + hit.stop.length : at,
        );
        this.finishReason = 'stop';
        this.stopReason = hit.stop;
        return;
      }
    }
    if (this.tokenIds.length >= this.params.maxNewTokens) this.finishReason = 'length';
    if (this.finishReason !== null) this.text += this.detokenizer.flush();
  }

  /**
   * Text not yet streamed. While the sequence runs, a tail that could still become a stop string is held
   * back (upstream never streams text that a stop string later removes).
   */
  takeDelta(): string {
    let end = this.text.length;
    if (!this.isFinished && this.maxStopLen > 0) {
      end -= partialStopLength(this.text.slice(this.emittedChars), this.params.stop);
    }
    if (end <= this.emittedChars) return '';
    const delta = this.text.slice(this.emittedChars, end);
    this.emittedChars = end;
    return delta;
  }
}

/**
 * The simulated model's chat template: one `<|role|>` line per message and, with add_generation_prompt, an
 * open assistant turn. Deterministic, so the context worker's `prompt_token_ids` equal what an aggregated
 * worker would tokenize.
 */
export function renderChatPrompt(
  messages: readonly ChatMessageIn[],
  shouldAddGenerationPrompt: boolean,
): string {
  const parts = messages.map((m) => `<|${m.role}|>\n${m.content}\n`);
  if (shouldAddGenerationPrompt) parts.push('<|assistant|>\n');
  return parts.join('');
}

/** Token ids of a chat request's prompt (after the template). */
export function chatPromptTokenIds(
  messages: readonly ChatMessageIn[],
  shouldAddGenerationPrompt: boolean,
): number[] {
  return tokenize(renderChatPrompt(messages, shouldAddGenerationPrompt));
}
