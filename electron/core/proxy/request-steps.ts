// The request-shaping steps of the lifecycle, each one function with one home, so rules can be added
// in one place: `validateRequest` (entry checks, trtllm-protocol.md 5.1), and the bodies sent to the
// workers (`contextPayload` 5.3, `generationPayload` 5.4, `directGenerationPayload` for conditional
// disaggregation 5.2 and the gen-only benchmark 5.7). Pure text functions over request-flow.ts.
// Layer: core (no I/O).
import type { Endpoint, FlowCheck, RawContextResult, RawJson } from './request-flow';
import {
  buildContextRequestText,
  buildGenerationRequestText,
  buildGenOnlyBenchmarkText,
  memberText,
  rawJsonOf,
  spliceJson,
  validateRawClientRequest,
} from './request-flow';
import { checkUpstreamRules, type ValidationOptions } from './request-validate';

/** Client bodies below this are also checked with JSON.parse; larger ones are only framed. */
const FULL_PARSE_MAX_BYTES = 64 * 1024;

/** A request that passed validation: its text, its top-level members, the unwrapped prompt. */
export interface ValidRequest {
  endpoint: Endpoint;
  body: RawJson;
  /** Completions: the prompt's text after unwrapping a one-element list. */
  promptText: string | undefined;
  isStream: boolean;
}

/**
 * Entry validation of a client body: JSON object, the prompt/messages rules of 5.1, then the workers'
 * release's own request rules (request-validate.ts), all before any worker is called.
 */
export function validateRequest(
  endpoint: Endpoint,
  raw: Buffer,
  rules?: ValidationOptions,
): FlowCheck<ValidRequest> {
  const text = raw.toString('utf8');
  // Small bodies are checked with JSON.parse (a clean 400 for garbage); large ones only framed, so a
  // 1 MB history is never parsed on this loop: the worker validates what it receives.
  if (raw.length < FULL_PARSE_MAX_BYTES) {
    try {
      JSON.parse(text);
    } catch {
      return { ok: false, status: 400, message: 'Request body is not valid JSON' };
    }
  }
  const body = rawJsonOf(text);
  if (!body) return { ok: false, status: 400, message: 'Request body must be a JSON object' };
  const valid = validateRawClientRequest(endpoint, body);
  if (!valid.ok) return valid;
  if (rules) {
    const verdict = checkUpstreamRules(endpoint, body, rules);
    if (!verdict.ok) return verdict;
  }
  const isStream = memberText(body, 'stream')?.trim() === 'true';
  return { ok: true, value: { endpoint, body, promptText: valid.value.promptText, isStream } };
}

/** The context-only request (5.3). */
export function contextPayload(input: ValidRequest): string {
  return buildContextRequestText(input.body, input.promptText);
}

/** The generation-only request built from the context answer (5.4). */
export function generationPayload(input: ValidRequest, ctx: RawContextResult): string {
  return buildGenerationRequestText(input.endpoint, input.body, ctx, input.promptText);
}

/** The generation request when there is no context phase: conditional disaggregation (5.2) or the gen-only benchmark (5.7). */
export function directGenerationPayload(input: ValidRequest, isGenOnlyBenchmark: boolean): string {
  if (isGenOnlyBenchmark) return buildGenOnlyBenchmarkText(input.body, input.promptText);
  if (input.promptText === undefined) return input.body.text;
  return spliceJson(input.body, new Map([['prompt', input.promptText]]));
}
