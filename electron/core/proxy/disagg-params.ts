// `disaggregated_params` handed from the context answer to the generation request as text
// (docs/upstream-versions.md section 1): upstream's proxy copies the context worker's object and changes
// only `request_type`. We do the same on bytes, so fields this proxy does not know (ctx_dp_rank,
// ctx_info_endpoint, ctx_usage, the 2026 handoff fields, whatever comes next) reach the generation worker
// exactly as the context worker wrote them. Fields are read from a lossless parse, never rebuilt.
// Layer: core (pure).
import { parseJsonLossless } from '../../../shared/logic/lossless-json';
import { firstArrayElement, quoteKey, scanObjectMembers } from './json-splice';

const GENERATION_ONLY = '"generation_only"';

/** The raw text of `choices[0].disaggregated_params` in a context answer's `choices` text, or undefined. */
export function contextParamsText(choicesText: string): string | undefined {
  const first = firstArrayElement(choicesText);
  if (!first) return undefined;
  const choiceText = choicesText.slice(first.start, first.end);
  const member = scanObjectMembers(choiceText)?.get('disaggregated_params');
  if (!member) return undefined;
  const text = choiceText.slice(member.start, member.end);
  return text.trimStart()[0] === '{' ? text : undefined;
}

/**
 * The generation request's params: the context's object text with the `request_type` value replaced by
 * "generation_only" (added first when missing); every other byte kept. Undefined when not an object.
 */
export function generationParamsText(ctxParamsText: string): string | undefined {
  const members = scanObjectMembers(ctxParamsText);
  if (!members) return undefined;
  const requestType = members.get('request_type');
  if (requestType) {
    return (
      ctxParamsText.slice(0, requestType.start) +
      GENERATION_ONLY +
      ctxParamsText.slice(requestType.end)
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
