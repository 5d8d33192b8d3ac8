import { describe, expect, it } from 'vitest';

import {
  chatPromptTokenIds,
  renderChatPrompt,
  type SequenceParams,
  SimSequence,
} from '../../../../electron/sim/sim-sequence';
import { countTokens, EOS_TOKEN_ID, tokenize } from '../../../../shared/logic/text-generator';

const BASE: SequenceParams = {
  promptTokenIds: tokenize('Write a story about the river and the old bridge'),
  seed: 0,
  temperature: 0,
  topP: 1,
  maxNewTokens: 40,
  stop: [],
  stopTokenIds: [],
  shouldIncludeStopStr: false,
  shouldIgnoreEos: true,
  minTokens: 0,
};

function run(params: Partial<SequenceParams> = {}, initial: number[] = []): SimSequence {
  const seq = new SimSequence({ ...BASE, ...params }, initial);
  while (!seq.isFinished) seq.advance();
  return seq;
}

describe('SimSequence', () => {
  it('generates readable words and stops at max tokens with text consistent with the token count', () => {
    const seq = run();
    expect(seq.finishReason).toBe('length');
    expect(seq.tokenIds).toHaveLength(40);
    expect(seq.text).toMatch(/^[A-Za-z ,.!']+$/);
    expect(countTokens(seq.text)).toBe(40);
  });

  it('continues identically from initial tokens (the generation-only path)', () => {
    const whole = run();
    const first = whole.tokenIds.slice(0, 1);
    const cont = run({}, first);
    expect(cont.text).toBe(whole.text);
    expect(cont.tokenIds).toEqual(whole.tokenIds);
  });

  it('is reproducible with a seed and varies with it at temperature > 0', () => {
    const a = run({ temperature: 1, seed: 11 }).text;
    expect(run({ temperature: 1, seed: 11 }).text).toBe(a);
    const others = [12, 13, 14].map((seed) => run({ temperature: 1, seed }).text);
    expect(others.some((t) => t !== a)).toBe(true);
  });

  it('stops at a stop string, holding back a partial match while streaming', () => {
    const full = run().text;
    const stop = full.slice(10, 16);
    const seq = new SimSequence({ ...BASE, stop: [stop] });
    let streamed = '';
    while (!seq.isFinished) {
      seq.advance();
      streamed += seq.takeDelta();
      expect(full.startsWith(streamed)).toBe(true);
      expect(streamed.includes(stop)).toBe(false);
    }
    streamed += seq.takeDelta();
    const at = full.indexOf(stop);
    expect(seq.finishReason).toBe('stop');
    expect(seq.stopReason).toBe(stop);
    expect(seq.text).toBe(full.slice(0, at));
    expect(streamed).toBe(full.slice(0, at));
    expect(run({ stop: [stop], shouldIncludeStopStr: true }).text).toBe(
      full.slice(0, at + stop.length),
    );
  });

  it('stops at a stop token id and at EOS (EOS not in the output)', () => {
    const full = run();
    const target = full.tokenIds[5] ?? -1;
    const stopped = run({ stopTokenIds: [target] });
    expect(stopped).toMatchObject({ finishReason: 'stop', stopReason: target });
    const eos = new SimSequence({ ...BASE, shouldIgnoreEos: false }, [10, EOS_TOKEN_ID]);
    expect(eos.finishReason).toBe('stop');
    expect(eos.tokenIds).toEqual([10]);
    expect(eos.stopReason).toBeNull();
  });

  it('finishes immediately for max tokens reached by the initial tokens', () => {
    const seq = new SimSequence({ ...BASE, maxNewTokens: 1 }, [300]);
    expect(seq.finishReason).toBe('length');
  });
});

describe('chat template', () => {
  it('renders roles and the generation prompt deterministically', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(renderChatPrompt(messages, true)).toBe(
      '<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n',
    );
    expect(renderChatPrompt(messages, false)).toBe('<|system|>\nBe brief.\n<|user|>\nHi\n');
    expect(chatPromptTokenIds(messages, true)).toEqual(tokenize(renderChatPrompt(messages, true)));
  });
});
