// The SSE framing parser against every framing case of reliability.md item 17.
import { describe, expect, it } from 'vitest';

import { formatSseError, isDoneEvent, isErrorEvent, SseParser } from '../../../../shared/logic/sse';

function feed(chunks: string[], end = true): string[] {
  const p = new SseParser();
  const out = chunks.flatMap((c) => p.push(c));
  if (end) out.push(...p.end());
  return out.map((e) => e.data);
}

describe('SseParser', () => {
  it.each([
    ['one event per chunk', ['data: a\n\n', 'data: b\n\n'], ['a', 'b']],
    ['split inside a line', ['da', 'ta: a\n', '\ndata: b\n\n'], ['a', 'b']],
    ['CRLF endings', ['data: a\r\n\r\ndata: b\r\n\r\n'], ['a', 'b']],
    ['CRLF split between CR and LF', ['data: a\r', '\n\r', '\ndata: b\r\n\r\n'], ['a', 'b']],
    ['bare CR endings', ['data: a\r\rdata: b\r\r'], ['a', 'b']],
    ['comments and keep-alives', [': ping\n\ndata: a\n\n:\n\n'], ['a']],
    ['multi-line data', ['data: {\ndata: "x": 1\ndata: }\n\n'], ['{\n"x": 1\n}']],
    ['missing final blank line at EOF', ['data: a\n\ndata: [DONE]'], ['a', '[DONE]']],
    ['no space after colon', ['data:a\n\n'], ['a']],
    [
      'trailing space before newlines (trtllm chat role event)',
      ['data: {"x":1} \n\n'],
      ['{"x":1} '],
    ],
    [
      'several events in one chunk',
      ['data: a\n\ndata: b\n\ndata: [DONE]\n\n'],
      ['a', 'b', '[DONE]'],
    ],
  ])('%s', (_n, chunks, expected) => {
    expect(feed(chunks)).toEqual(expected);
  });

  it('delivers nothing for an incomplete event until the end', () => {
    const p = new SseParser();
    expect(p.push('data: a')).toEqual([]);
    expect(p.push('\n')).toEqual([]);
    expect(p.push('\n').map((e) => e.data)).toEqual(['a']);
  });

  it('classifies [DONE] and error events', () => {
    expect(isDoneEvent({ data: '[DONE]' })).toBe(true);
    expect(isDoneEvent({ data: '{"choices":[]}' })).toBe(false);
    expect(isErrorEvent({ data: '{"error":{"message":"x"}}' })).toBe(true);
    expect(isErrorEvent({ data: '{"object":"error","message":"x","code":400}' })).toBe(true);
    expect(isErrorEvent({ data: '{"choices":[{"text":"error"}]}' })).toBe(false);
  });

  it('formats an OpenAI error event followed by [DONE]', () => {
    const out = feed([formatSseError('boom', 502)]);
    expect(out).toHaveLength(2);
    expect(JSON.parse(out[0] as string)).toEqual({
      error: { message: 'boom', type: 'server_error', param: null, code: 502 },
    });
    expect(out[1]).toBe('[DONE]');
  });
});
