// One error shape (issue #15): our own errors and every worker error shape map to OpenAI's
// {"error":{"message","type","param","code"}} with the status as code.
import { describe, expect, it } from 'vitest';

import { errorBody, workerErrorBody } from '../../../../electron/core/proxy/openai-error';

const parse = (s: string): unknown => JSON.parse(s);

describe('errorBody', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [408, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [503, 'server_error'],
  ])('%i -> %s', (status, type) => {
    expect(parse(errorBody('m', status))).toEqual({ error: { message: 'm', type, param: null, code: status } });
  });
});

describe('workerErrorBody', () => {
  it("maps trtllm-serve's {object: error} answer, keeping its type, param and status", () => {
    const worker = { object: 'error', message: 'max_tokens must be at least 1', type: 'BadRequestError', param: 'max_tokens', code: 400 };
    expect(parse(workerErrorBody(Buffer.from(JSON.stringify(worker)), 400))).toEqual({
      error: { message: 'max_tokens must be at least 1', type: 'BadRequestError', param: 'max_tokens', code: 400 },
    });
  });
  it("maps FastAPI's {detail} and the disaggregated server's {error: text}", () => {
    expect(parse(workerErrorBody(Buffer.from('{"detail":"Not Found"}'), 404))).toEqual({ error: { message: 'Not Found', type: 'invalid_request_error', param: null, code: 404 } });
    expect(parse(workerErrorBody(Buffer.from('{"error":"bad prompt"}'), 400))).toEqual({ error: { message: 'bad prompt', type: 'invalid_request_error', param: null, code: 400 } });
  });
  it('keeps an answer already in the OpenAI shape byte for byte', () => {
    const text = '{"error":{"message":"x","type":"invalid_request_error","param":null,"code":422}}';
    expect(workerErrorBody(Buffer.from(text), 422)).toBe(text);
  });
  it.each(['not json', '[1,2]', '{}'])('gives unreadable answers (%s) a generic message with the status', (text) => {
    expect(parse(workerErrorBody(Buffer.from(text), 409))).toEqual({ error: { message: 'Worker returned HTTP 409', type: 'invalid_request_error', param: null, code: 409 } });
  });
});
