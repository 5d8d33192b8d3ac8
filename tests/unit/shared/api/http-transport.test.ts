import { describe, expect, it } from 'vitest';

import { parseEnvelope } from '../../../../shared/api/envelope';
import { TinySseParser } from '../../../../shared/api/http-transport';

describe('TinySseParser', () => {
  it.each([
    {
      name: 'one chunk',
      chunks: ['event: a\ndata: {"x":1}\n\n'],
      events: [{ event: 'a', data: '{"x":1}' }],
    },
    {
      name: 'split everywhere',
      chunks: ['ev', 'ent: a\nda', 'ta: 1', '\n', '\n'],
      events: [{ event: 'a', data: '1' }],
    },
    {
      name: 'CRLF split between CR and LF',
      chunks: ['data: 1\r', '\n\r', '\n'],
      events: [{ event: 'message', data: '1' }],
    },
    {
      name: 'bare CR line ends',
      chunks: ['data: 1\r\rdata: 2\r\r', ': end\n'],
      events: [
        { event: 'message', data: '1' },
        { event: 'message', data: '2' },
      ],
    },
    {
      name: 'comments and multi-line data',
      chunks: [': ping\n\ndata: a\ndata: b\n\n'],
      events: [{ event: 'message', data: 'a\nb' }],
    },
    {
      name: 'no space after colon',
      chunks: ['event:x\ndata:y\n\n'],
      events: [{ event: 'x', data: 'y' }],
    },
    {
      name: 'an event name does not leak into the next event',
      chunks: ['event: a\ndata: 1\n\ndata: 2\n\n'],
      events: [
        { event: 'a', data: '1' },
        { event: 'message', data: '2' },
      ],
    },
    { name: 'incomplete event waits', chunks: ['data: 1\n'], events: [] },
  ])('$name', ({ chunks, events }) => {
    const p = new TinySseParser();
    expect(chunks.flatMap((c) => p.push(c))).toEqual(events);
  });
});

describe('parseEnvelope', () => {
  it.each([
    [
      { ok: true, value: 3 },
      { ok: true, value: 3 },
    ],
    [
      { ok: false, error: { code: 'PORT_IN_USE', message: 'm', details: { port: 1 } } },
      { ok: false, error: { code: 'PORT_IN_USE', message: 'm', details: { port: 1 } } },
    ],
    [
      { ok: false, error: { code: 'NOPE', message: 'm' } },
      { ok: false, error: { code: 'INTERNAL', message: 'malformed response envelope' } },
    ],
    ['<html>', { ok: false, error: { code: 'INTERNAL', message: 'malformed response envelope' } }],
  ])('%j', (raw, expected) => {
    expect(parseEnvelope(raw)).toEqual(expected);
  });
});
