// The byte-splicing path the server runs agrees with the object-based flow rules (section 5), and the
// member scanner frames JSON correctly, including strings holding quotes, braces and escapes.
import { describe, expect, it } from 'vitest';

import {
  scanObjectMembers,
  setMembers,
  unwrapTokenListText,
} from '../../../../electron/core/proxy/json-splice';
import type {
  ContextResult,
  Endpoint,
  JsonObject,
} from '../../../../electron/core/proxy/request-flow';
import {
  buildContextRequest,
  buildContextRequestBytes,
  buildGenerationRequest,
  buildGenerationRequestBytes,
  buildGenOnlyBenchmarkBytes,
  buildGenOnlyBenchmarkRequest,
  checkContextResponse,
  checkContextResponseText,
  directGenerationBytes,
  finishedContextBody,
  finishedContextBytes,
  joinChunks,
  memberValue,
  rawJsonOf,
  validateClientRequest,
  validateRawClientRequest,
} from '../../../../electron/core/proxy/request-flow';

/** A payload (chunks) parsed as the worker would. */
function parsed(chunks: readonly Buffer[]): unknown {
  return JSON.parse(joinChunks(chunks).toString('utf8'));
}

describe('scanObjectMembers', () => {
  it('frames members, nested values and tricky strings', () => {
    const text =
      ' { "a" : 1, "b":"x\\"}{[", "c": {"d": [1, {"e": "]"}]}, "f": null , "g": -1.5e3, "h": "\\\\" } ';
    const m = scanObjectMembers(text);
    expect(m && [...m.keys()]).toEqual(['a', 'b', 'c', 'f', 'g', 'h']);
    const val = (k: string): unknown => {
      const r = m?.get(k);
      return r ? JSON.parse(text.slice(r.start, r.end)) : undefined;
    };
    expect(val('b')).toBe('x"}{[');
    expect(val('c')).toEqual({ d: [1, { e: ']' }] });
    expect(val('g')).toBe(-1500);
    expect(val('h')).toBe('\\');
  });
  it('keeps the last of repeated keys, like JSON.parse', () => {
    const text = '{"a":1,"a":2}';
    const m = scanObjectMembers(text);
    const r = m?.get('a');
    expect(r && text.slice(r.start, r.end)).toBe('2');
  });
  it.each([
    '',
    '[]',
    '{',
    '{"a"}',
    '{"a":}',
    '{"a":1,}',
    '{"a":1} x',
    '{"a":"unterminated}',
    'null',
  ])('refuses %j', (text) => {
    expect(scanObjectMembers(text)).toBeUndefined();
  });
  it.each([
    ['[[1,2,3]]', '[1,2,3]'],
    ['[ [1, 2] ]', '[1, 2]'],
    ['[1,2]', '[1,2]'],
    ['[[1],[2]]', undefined],
    ['["a"]', undefined],
  ])('unwrapTokenListText(%s) = %s', (raw, expected) => {
    expect(unwrapTokenListText(raw)).toBe(expected);
  });
});

const bodies: Array<[Endpoint, JsonObject]> = [
  [
    'completions',
    {
      model: 'm',
      prompt: 'The capital of "Germany" is',
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    },
  ],
  ['completions', { model: 'm', prompt: ['one prompt'], temperature: 0 }],
  ['completions', { model: 'm', prompt: [[1, 2, 3]], max_tokens: 1 }],
  ['completions', { model: 'm', prompt: [4, 5, 6], disaggregated_params: { request_type: 'x' } }],
  [
    'chat',
    {
      model: 'm',
      messages: [{ role: 'user', content: 'hi {"x": ]' }],
      max_tokens: 8,
      stream: true,
    },
  ],
  [
    'chat',
    {
      messages: [
        { role: 'system', content: 'a' },
        { role: 'user', content: 'b' },
      ],
      prompt_token_ids: [9, 9],
      model: 'm',
    },
  ],
];

const ctxAnswer = {
  id: 'cmpl-1',
  object: 'text_completion',
  choices: [
    {
      index: 0,
      text: ' Berlin',
      finish_reason: 'not_finished',
      disaggregated_params: {
        request_type: 'context_only',
        first_gen_tokens: [5],
        ctx_request_id: 42,
        encoded_opaque_state: 'abc',
        draft_tokens: null,
        disagg_request_id: 7,
      },
    },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 1 },
  prompt_token_ids: [1, 2, 3],
};

describe('text path == object path', () => {
  it.each(bodies)(
    '%s body %#: validation, context, generation and gen-only requests agree',
    (endpoint, body) => {
      const text = JSON.stringify(body);
      const raw = rawJsonOf(text);
      expect(raw).toBeDefined();
      if (!raw) return;
      const objValid = validateClientRequest(endpoint, body);
      const rawValid = validateRawClientRequest(endpoint, raw);
      expect(rawValid.ok).toBe(objValid.ok);
      if (!objValid.ok || !rawValid.ok) return;
      const prompt = rawValid.value.prompt;
      expect(parsed(buildContextRequestBytes(raw, prompt))).toEqual(
        buildContextRequest(objValid.value),
      );

      const objCtx = checkContextResponse(ctxAnswer);
      const rawCtx = checkContextResponseText(rawJsonOf(JSON.stringify(ctxAnswer)) ?? raw);
      expect(objCtx.ok && rawCtx.ok).toBe(true);
      if (!objCtx.ok || !rawCtx.ok) return;
      expect(rawCtx.value.params).toEqual(objCtx.value.params);
      expect(rawCtx.value.promptTokenIdsBytes?.toString()).toBe('[1,2,3]');
      const ctx: ContextResult = objCtx.value;
      expect(parsed(buildGenerationRequestBytes(endpoint, raw, rawCtx.value, prompt))).toEqual(
        buildGenerationRequest(endpoint, objValid.value, ctx),
      );
      expect(parsed(buildGenOnlyBenchmarkBytes(raw, prompt))).toEqual(
        buildGenOnlyBenchmarkRequest(objValid.value),
      );
      expect(parsed(directGenerationBytes(raw, prompt))).toEqual(objValid.value);
    },
  );

  it('refuses the same completions prompts', () => {
    for (const prompt of [['a', 'b'], [[1], [2]], 5, { x: 1 }]) {
      const raw = rawJsonOf(JSON.stringify({ model: 'm', prompt }));
      expect(raw && validateRawClientRequest('completions', raw).ok).toBe(false);
      expect(validateClientRequest('completions', { model: 'm', prompt }).ok).toBe(false);
    }
  });

  it('the finished-context answer and the context checks agree', () => {
    const text = JSON.stringify(ctxAnswer);
    const raw = rawJsonOf(text);
    expect(raw && JSON.parse(finishedContextBytes(raw).toString())).toEqual(
      finishedContextBody(ctxAnswer),
    );
    for (const bad of [
      { choices: [] },
      { choices: [{ disaggregated_params: null }] },
      { choices: [{}, {}] },
    ]) {
      const r = rawJsonOf(JSON.stringify(bad));
      expect(r && checkContextResponseText(r).ok).toBe(false);
    }
  });

  it('keeps a large token array as a byte copy (same text as the worker sent)', () => {
    const ids = Array.from({ length: 40_000 }, (_, i) => i);
    const answerText = JSON.stringify({ ...ctxAnswer, prompt_token_ids: ids }).replace(
      '"prompt_token_ids":[',
      '"prompt_token_ids": [ ',
    );
    const a = rawJsonOf(answerText);
    const c = a ? checkContextResponseText(a) : undefined;
    expect(c?.ok).toBe(true);
    if (!c?.ok) return;
    const client = rawJsonOf(JSON.stringify({ model: 'm', prompt: 'x', stream: true }));
    if (!client) return;
    const chunks = buildGenerationRequestBytes('completions', client, c.value, undefined);
    const gen = joinChunks(chunks).toString();
    expect(gen).toContain('"prompt":[ 0,1,2');
    expect((JSON.parse(gen) as { prompt: number[] }).prompt).toHaveLength(40_000);
    // The ids are a view of the answer's bytes, not a copy.
    expect(chunks.some((b) => b.buffer === a?.bytes.buffer && b.length > 100_000)).toBe(true);
  });
});

describe('bodies forwarded as bytes', () => {
  it('keeps UTF-8 prompts, keys and values byte for byte, and reads small members decoded', () => {
    const body = {
      model: 'mödel-ü',
      prompt: 'Grüße, 世界 "quoted" \\ 🚀',
      'clé ✓': { nested: ['ß', '}'] },
      max_tokens: 4,
    };
    const bytes = Buffer.from(JSON.stringify(body));
    const raw = rawJsonOf(bytes);
    if (!raw) throw new Error('not scanned');
    expect(memberValue(raw, 'model')).toBe('mödel-ü');
    const valid = validateRawClientRequest('completions', raw);
    expect(valid.ok).toBe(true);
    if (!valid.ok) return;
    const ctxReq = parsed(buildContextRequestBytes(raw, valid.value.prompt));
    expect(ctxReq).toEqual(buildContextRequest(body));
    // The client's prompt bytes go out as a view of the body it sent.
    const chunks = buildContextRequestBytes(raw, valid.value.prompt);
    expect(chunks.some((c) => c.buffer === bytes.buffer)).toBe(true);
  });

  it('unwraps a one-element id list to a view of its inner list', () => {
    const raw = rawJsonOf('{"prompt": [ [1, 2,3] ] ,"model":"m"}');
    const valid = raw && validateRawClientRequest('completions', raw);
    expect(valid?.ok && valid.value.prompt?.toString()).toBe('[1, 2,3]');
  });

  it('setMembers replaces in place, appends what is missing, keeps every other byte', () => {
    const bytes = Buffer.from('{ "a" : 1 ,\n "b": "x" }');
    const members = scanObjectMembers(bytes);
    if (!members) throw new Error('not scanned');
    const out = joinChunks(
      setMembers(bytes, members, [
        ['b', Buffer.from('[2]')],
        ['c', Buffer.from('null')],
      ]),
    ).toString();
    expect(out).toBe('{ "a" : 1 ,\n "b": [2] ,"c":null}');
    const empty = joinChunks(
      setMembers(Buffer.from('{}'), new Map(), [['k', Buffer.from('1')]]),
    ).toString();
    expect(empty).toBe('{"k":1}');
  });

  it('frames flat arrays and nested ones, with byte offsets past multi-byte characters', () => {
    const text = '{"é":"ü]","ids": [ 7 , 8 ] ,"x":[[1],[2]],"y":[{"a":"]"}],"z":["s]"],"e":[]}';
    const bytes = Buffer.from(text);
    const m = scanObjectMembers(bytes);
    const val = (k: string): unknown => {
      const r = m?.get(k);
      return r ? JSON.parse(bytes.toString('utf8', r.start, r.end)) : undefined;
    };
    expect(m && [...m.keys()]).toEqual(['é', 'ids', 'x', 'y', 'z', 'e']);
    expect([val('é'), val('ids'), val('x'), val('y'), val('z'), val('e')]).toEqual([
      'ü]',
      [7, 8],
      [[1], [2]],
      [{ a: ']' }],
      ['s]'],
      [],
    ]);
  });
});
