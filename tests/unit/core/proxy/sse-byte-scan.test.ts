// The byte-level SSE fast path agrees with the full parser on the chunks it accepts, and refuses every
// chunk the full parser must see (split events, CR, comments, other fields, error and role events).
import { describe, expect, it } from 'vitest';

import { scanPlainSseChunk, SseChunkScan } from '../../../../electron/core/proxy/sse-byte-scan';
import { isDoneEvent, SseParser } from '../../../../shared/logic/sse';

const tok = (i: number): string =>
  `data: {"choices":[{"index":0,"text":" t${i}","finish_reason":null}],"usage":null}\n\n`;

describe('scanPlainSseChunk', () => {
  it.each([
    ['one token event', tok(1), 1, false],
    ['several token events', tok(1) + tok(2) + tok(3), 3, false],
    ['[DONE] alone', 'data: [DONE]\n\n', 0, true],
    ['last token then [DONE]', tok(9) + 'data: [DONE]\n\n', 1, true],
    ['no space after the colon', 'data:{"choices":[{"text":"x"}]}\n\n', 1, false],
    [
      'a chat token that repeats the role',
      'data: {"choices":[{"delta":{"role":"assistant","content":"x"}}]}\n\n',
      1,
      false,
    ],
    ['[DONE] with trailing spaces', 'data: [DONE]  \n\n', 0, true],
    ['UTF-8 text in a token', 'data: {"choices":[{"text":"héllo ✓"}]}\n\n', 1, false],
  ])('accepts %s like the full parser', (_n, text, tokens, isDone) => {
    const scan = new SseChunkScan();
    expect(scanPlainSseChunk(Buffer.from(text), scan)).toBe(true);
    expect(scan.tokens).toBe(tokens);
    expect(scan.isDone).toBe(isDone);
    const events = new SseParser().push(Buffer.from(text).toString('latin1'));
    expect(events.filter((e) => !isDoneEvent(e)).length).toBe(tokens);
    expect(events.some(isDoneEvent)).toBe(isDone);
  });

  it('points at the last data event text', () => {
    const text = tok(1) + tok(2) + 'data: [DONE]\n\n';
    const buf = Buffer.from(text);
    const scan = new SseChunkScan();
    expect(scanPlainSseChunk(buf, scan)).toBe(true);
    expect(buf.toString('latin1', scan.lastDataStart, scan.lastDataEnd)).toBe(tok(2).slice(6, -2));
  });

  it.each([
    ['an event split across chunks', 'data: {"choices":[{"text":"x"'],
    ['a chunk ending after one newline', tok(1).slice(0, -1)],
    ['CRLF line endings', 'data: {"choices":[]}\r\n\r\n'],
    ['a comment line', ': ping\n\n'],
    ['an event field', 'event: message\ndata: {"x":1}\n\n'],
    ['multi-line data', 'data: {\ndata: "x": 1}\n\n'],
    ['an error event', 'data: {"error":{"message":"x","code":502}}\n\n'],
    ['a role-only chat event', 'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'],
    ['a usage-only final event', 'data: {"choices":[],"usage":{"completion_tokens":3}}\n\n'],
    ['a run of blank lines', tok(1) + '\n\n'],
    ['an event without choices', 'data: {"id":"x","object":"chat.completion.chunk"}\n\n'],
    ['choices only in a later event', 'data: {"id":"x"}\n\n' + tok(2)],
    ['an empty chunk', ''],
  ])('refuses %s', (_n, text) => {
    expect(scanPlainSseChunk(Buffer.from(text), new SseChunkScan())).toBe(false);
  });
});

describe('SseParser.isIdle', () => {
  it('is true only at an event boundary', () => {
    const p = new SseParser();
    expect(p.isIdle()).toBe(true);
    p.push('data: a');
    expect(p.isIdle()).toBe(false);
    p.push('\n');
    expect(p.isIdle()).toBe(false);
    p.push('\n');
    expect(p.isIdle()).toBe(true);
    p.push('data: b\r');
    expect(p.isIdle()).toBe(false);
  });
});
