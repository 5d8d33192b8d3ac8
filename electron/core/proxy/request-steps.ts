// The request-shaping steps of the lifecycle, each one function with one home, so rules can be added
// in one place: `validateRequest` (entry checks, trtllm-protocol.md 5.1), and the bodies sent to the
// workers (`contextPayload` 5.3, `generationPayload` 5.4, `directGenerationPayload` for conditional
// disaggregation 5.2 and the gen-only benchmark 5.7). The client's body is scanned once, here; the
// payloads are lists of views of the bytes it came in (and of the context answer's), written as they
// are (request-flow.ts). Layer: core (no I/O).
import type { Endpoint, FlowCheck, RawContextResult, RawJson } from './request-flow';
import {
  buildContextRequestBytes,
  buildGenerationRequestBytes,
  buildGenOnlyBenchmarkBytes,
  directGenerationBytes,
  memberText,
  rawJsonOf,
  validateRawClientRequest,
} from './request-flow';
import { checkUpstreamRules, type ValidationOptions } from './request-validate';

/** Client bodies below this are also checked with JSON.parse; larger ones are only framed. */
const FULL_PARSE_MAX_BYTES = 64 * 1024;

/** A request that passed validation: its bytes and top-level members, the unwrapped prompt. */
export interface ValidRequest {
  endpoint: Endpoint;
  body: RawJson;
  /** Completions: the prompt's bytes after unwrapping a one-element list. */
  prompt: Buffer | undefined;
  isStream: boolean;
}

/** A request body for a worker: chunks written in order (views of the bodies they came from). */
export type Payload = readonly Buffer[];

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
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
  // Small bodies are checked with JSON.parse (a clean 400 for garbage); large ones only framed, so a
  // 1 MB history is never decoded or parsed on this loop: the worker validates what it receives.
  if (raw.length < FULL_PARSE_MAX_BYTES && !isValidJson(raw.toString('utf8'))) {
    return { ok: false, status: 400, message: 'Request body is not valid JSON' };
  }
  const body = rawJsonOf(raw);
  if (!body) return { ok: false, status: 400, message: 'Request body must be a JSON object' };
  const valid = validateRawClientRequest(endpoint, body);
  if (!valid.ok) return valid;
  if (rules) {
    const verdict = checkUpstreamRules(endpoint, body, rules);
    if (!verdict.ok) return verdict;
  }
  const isStream = memberText(body, 'stream')?.trim() === 'true';
  return { ok: true, value: { endpoint, body, prompt: valid.value.prompt, isStream } };
}

/** The context-only request (5.3). */
export function contextPayload(input: ValidRequest): Payload {
  return buildContextRequestBytes(input.body, input.prompt);
}

/** The generation-only request built from the context answer (5.4). */
export function generationPayload(input: ValidRequest, ctx: RawContextResult): Payload {
  return buildGenerationRequestBytes(input.endpoint, input.body, ctx, input.prompt);
}

/** The generation request when there is no context phase: conditional disaggregation (5.2) or the gen-only benchmark (5.7). */
export function directGenerationPayload(input: ValidRequest, isGenOnlyBenchmark: boolean): Payload {
  if (isGenOnlyBenchmark) return buildGenOnlyBenchmarkBytes(input.body, input.prompt);
  return directGenerationBytes(input.body, input.prompt);
}
