// Dataset files: JSON arrays and JSONL with the accepted item shapes, output lengths, repetition, errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadDatasetFile, parseDatasetText } from '../../../../electron/core/bench/dataset-file';
import { countTokens } from '../../../../shared/logic/text-generator';

const O = { defaultOutputLen: 32 };

describe('dataset file', () => {
  it('reads a JSON array of strings (the disagg_client prompts.json shape)', () => {
    const reqs = parseDatasetText('["The capital of Germany is", "Tell me about asyncio"]', O);
    expect(reqs.map((r) => r.prompt)).toEqual([
      'The capital of Germany is',
      'Tell me about asyncio',
    ]);
    expect(reqs[0]?.promptLen).toBe(countTokens('The capital of Germany is'));
    expect(reqs.every((r) => r.outputLen === 32)).toBe(true);
  });

  it.each([
    [
      'custom JSONL',
      '{"prompt": "a b c", "output_tokens": 7}\n\n{"prompt": "d e"}\n',
      ['a b c', 'd e'],
      [7, 32],
    ],
    [
      'trtllm_custom',
      '{"input": {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hello there"}], "max_tokens": 5}}',
      ['hello there'],
      [5],
    ],
    [
      'ShareGPT',
      '[{"conversations": [{"from": "human", "value": "why is the sky blue"}, {"from": "gpt", "value": "because of the light"}]}]',
      ['why is the sky blue'],
      [countTokens('because of the light')],
    ],
  ])('reads %s', (_name, text, prompts, outputs) => {
    const reqs = parseDatasetText(text, O);
    expect(reqs.map((r) => r.prompt)).toEqual(prompts);
    expect(reqs.map((r) => r.outputLen)).toEqual(outputs);
  });

  it('overrides output lengths on request and repeats items up to numPrompts', () => {
    const reqs = parseDatasetText('[{"prompt": "x", "output_tokens": 3}, "y"]', {
      defaultOutputLen: 9,
      shouldOverrideOutputLen: true,
      numPrompts: 5,
    });
    expect(reqs.map((r) => r.prompt)).toEqual(['x', 'y', 'x', 'y', 'x']);
    expect(reqs.every((r) => r.outputLen === 9)).toBe(true);
  });

  it.each([
    ['[1, 2]', /item 1/],
    ['{"prompt": 3}', /item 1/],
    ['["ok", ""]', /item 2: the prompt is empty/],
    ['{"prompt": "a"}\n{bad', /line 2/],
    ['[', /not valid JSON/],
    ['[]', /no prompts/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDatasetText(text, O)).toThrow(message);
  });

  it('loads a file and names a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-ds-'));
    const path = join(dir, 'p.json');
    writeFileSync(path, '["one two"]');
    expect((await loadDatasetFile(path, O))[0]?.promptLen).toBe(2);
    await expect(loadDatasetFile(join(dir, 'missing.json'), O)).rejects.toThrow(
      /cannot read dataset/,
    );
  });
});
