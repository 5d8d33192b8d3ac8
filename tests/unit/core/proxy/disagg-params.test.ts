// disaggregated_params pass-through on bytes (docs/upstream-versions.md section 1).
import { describe, expect, it } from 'vitest';

import {
  contextParamsText,
  generationParamsText,
  readParams,
} from '../../../../electron/core/proxy/disagg-params';

const ctxParams =
  '{"request_type": "context_only","first_gen_tokens":[5],"ctx_request_id":18446744073709551615,"encoded_opaque_state":"abc","draft_tokens":null,"ctx_dp_rank":3,"ctx_info_endpoint":"tcp://10.0.0.1:5000","future_field":{"x":1.50}}';

describe('contextParamsText', () => {
  it('finds choices[0].disaggregated_params as the worker wrote it', () => {
    const choices = `[ {"index":0,"text":"a","disaggregated_params": ${ctxParams} ,"finish_reason":"length"}, {"index":1}]`;
    expect(contextParamsText(choices)).toBe(ctxParams);
  });

  it.each([
    ['[]'],
    ['[{"index":0}]'],
    ['[{"disaggregated_params":null}]'],
    ['{"x":1}'],
    ['[{"disaggregated_params":'],
  ])('undefined for %s', (choices) => {
    expect(contextParamsText(choices)).toBeUndefined();
  });
});

describe('generationParamsText', () => {
  it('changes only the request_type value; every other byte stays', () => {
    const out = generationParamsText(ctxParams);
    expect(out).toBe(
      ctxParams.replace('"request_type": "context_only"', '"request_type": "generation_only"'),
    );
  });

  it('adds request_type first when the context left it out', () => {
    expect(generationParamsText('{"ctx_request_id":1}')).toBe(
      '{"request_type":"generation_only","ctx_request_id":1}',
    );
    expect(generationParamsText('{ }')).toBe('{"request_type":"generation_only" }');
  });

  it('undefined for text that is not an object', () => {
    expect(generationParamsText('[1]')).toBeUndefined();
  });
});

describe('readParams', () => {
  it('reads ids beyond 2^53 exactly', () => {
    expect(readParams(ctxParams)?.['ctx_request_id']).toBe(18446744073709551615n);
    expect(readParams('nope')).toBeUndefined();
  });
});
