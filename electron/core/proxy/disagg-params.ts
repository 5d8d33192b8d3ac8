// `disaggregated_params` handed from the context answer to the generation request as text
// (docs/upstream-versions.md section 1): upstream's proxy copies the context worker's object and changes
// only `request_type`. We do the same on bytes, so fields this proxy does not know (ctx_dp_rank,
// ctx_info_endpoint, ctx_usage, the 2026 handoff fields, whatever comes next) reach the generation worker
// exactly as the context worker wrote them. Fields are read from a lossless parse, never rebuilt.
// Layer: core (pure).
import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import { firstArrayElement, quoteKey, scanObjectMembers } from './json-splice';

const GENERATION_ONLY = '"generation_only"';

/** The raw text of `choices[0].disaggregated_params` in a context answer's `choices` (bytes or text), or undefined. */
export function contextParamsText(choices: Buffer | string): string | undefined {
  const bytes = typeof choices === 'string' ? Buffer.from(choices) : choices;
  const first = firstArrayElement(bytes);
  if (!first) return undefined;
  const choice = bytes.subarray(first.start, first.end);
  const member = scanObjectMembers(choice)?.get('disaggregated_params');
  if (!member) return undefined;
  return choice[member.start] === 0x7b /* { */
    ? choice.toString('utf8', member.start, member.end)
    : undefined;
}

/**
 * The generation request's params: the context's object text with the `request_type` value replaced by
 * "generation_only" (added first when missing); every other byte kept. Undefined when not an object.
 */
export function generationParamsText(ctxParamsText: string): string | undefined {
  const bytes = Buffer.from(ctxParamsText);
  const members = scanObjectMembers(bytes);
  if (!members) return undefined;
  const requestType = members.get('request_type');
  if (requestType) {
    // Ranges are byte offsets: the text around the value is cut from the bytes.
    return (
      bytes.toString('utf8', 0, requestType.start) +
      GENERATION_ONLY +
      bytes.toString('utf8', requestType.end)
    );
  }
  const open = ctxParamsText.indexOf('{');
  const rest = ctxParamsText.slice(open + 1);
  const separator = members.size > 0 ? ',' : '';
  return (
    ctxParamsText.slice(0, open + 1) +
    quoteKey('request_type') +
    ':' +
    GENERATION_ONLY +
    separator +
    rest
  );
}

/** The params as data for reading (ints beyond 2^53 stay exact as bigint); undefined when not an object. */
export function readParams(paramsText: string): Record<string, unknown> | undefined {
  try {
    const v = parseJsonLossless(paramsText);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
