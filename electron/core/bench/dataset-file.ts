// A dataset file of prompts for the load test (`--dataset-path`). Accepted shapes, as a JSON array or as
// JSONL (one item per line): a plain string; `{prompt, output_tokens | output_len | max_tokens}`
// (benchmark_serving's custom JSONL); `{input: {messages, max_tokens}}` (TensorRT-LLM's trtllm_custom);
// ShareGPT-like `{conversations: [{from|role, value|content}, ...]}` where the first turn is the prompt and
// the second, when present, sets the output length. The disagg_client's prompts.json (a JSON array of
// strings, trtllm-protocol.md 9.1) is the first shape. Token counts use the simulated tokenizer (exact on
// the simulated worker; the run reports the server's usage for real ones). Layer: core.
import { readFile } from 'node:fs/promises';

import { countTokens } from '../../../shared/logic/text-generator';
import type { SampleRequest } from './bench-types';

export interface DatasetFileOptions {
  /** Output tokens for items that do not say (and for all items when `shouldOverrideOutputLen`). */
  defaultOutputLen: number;
  shouldOverrideOutputLen?: boolean;
  /** Repeat the items in order until there are this many; undefined: every item once. */
  numPrompts?: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function textOfTurn(turn: unknown): string | undefined {
  if (!isObject(turn)) return undefined;
  const v = turn.value ?? turn.content;
  return typeof v === 'string' ? v : undefined;
}

/** One item to {prompt, outputLen?}, or a message saying why it is not usable. */
function itemOf(item: unknown): { prompt: string; outputLen?: number } | string {
  if (typeof item === 'string') return { prompt: item };
  if (!isObject(item)) return 'an item must be a string or an object';
  if (typeof item.prompt === 'string') {
    return {
      prompt: item.prompt,
      outputLen:
        positiveInt(item.output_tokens) ??
        positiveInt(item.output_len) ??
        positiveInt(item.max_tokens),
    };
  }
  if (isObject(item.input) && Array.isArray(item.input.messages)) {
    const users = item.input.messages.filter((m) => isObject(m) && m.role === 'user');
    const prompt = textOfTurn(users[users.length - 1]);
    if (prompt === undefined) return 'input.messages has no user message with text content';
    return { prompt, outputLen: positiveInt(item.input.max_tokens) };
  }
  if (Array.isArray(item.conversations)) {
    const prompt = textOfTurn(item.conversations[0]);
    if (prompt === undefined) return 'conversations[0] has no text (value or content)';
    const answer = textOfTurn(item.conversations[1]);
    return {
      prompt,
      outputLen: answer !== undefined ? Math.max(1, countTokens(answer)) : undefined,
    };
  }
  return 'an object item needs `prompt`, `input.messages` or `conversations`';
}

/** Parses the text of a dataset file (JSON array or JSONL); throws an Error naming the bad item. */
export function parseDatasetText(text: string, o: DatasetFileOptions): SampleRequest[] {
  const trimmed = text.trim();
  let items: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      items = JSON.parse(trimmed) as unknown[];
    } catch (err) {
      throw new Error(`dataset: not valid JSON: ${(err as Error).message}`);
    }
  } else {
    items = [];
    for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
      if (line.trim() === '') continue;
      try {
        items.push(JSON.parse(line) as unknown);
      } catch (err) {
        throw new Error(`dataset line ${i + 1}: not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  const base: SampleRequest[] = [];
  for (const [i, raw] of items.entries()) {
    const item = itemOf(raw);
    if (typeof item === 'string') throw new Error(`dataset item ${i + 1}: ${item}`);
    if (item.prompt.length === 0) throw new Error(`dataset item ${i + 1}: the prompt is empty`);
    const outputLen =
      o.shouldOverrideOutputLen === true
        ? o.defaultOutputLen
        : (item.outputLen ?? o.defaultOutputLen);
    base.push({ prompt: item.prompt, promptLen: countTokens(item.prompt), outputLen });
  }
  if (base.length === 0) throw new Error('dataset: no prompts');
  const n = o.numPrompts ?? base.length;
  return Array.from({ length: n }, (_, i) => base[i % base.length] as SampleRequest);
}

/** Reads and parses a dataset file. */
export async function loadDatasetFile(
  path: string,
  o: DatasetFileOptions,
): Promise<SampleRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read dataset ${path}: ${(err as Error).message}`);
  }
  return parseDatasetText(text, o);
}
