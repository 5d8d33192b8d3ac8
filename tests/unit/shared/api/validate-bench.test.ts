// Argument validation of the load-test and planner channels (bench:*, planner:*): bad shapes are
// INVALID_ARGUMENT errors naming the argument path.
import { describe, expect, it } from 'vitest';

import type { ApiChannelName } from '../../../../shared/api/contract';
import { validationMessage } from './validation-message';

const RUN = {
  endpoint: '/v1/completions',
  isStreaming: true,
  inputLen: 128,
  outputLen: 32,
  numPrompts: 10,
};

describe('bench and planner validators', () => {
  it.each<[ApiChannelName, unknown[], string]>([
    ['bench:run', [RUN], 'valid'],
    [
      'bench:run',
      [{ ...RUN, endpoint: '/v1/embeddings' }],
      "argument 1.endpoint: must be one of '/v1/completions', '/v1/chat/completions', got \"/v1/embeddings\"",
    ],
    [
      'bench:run',
      [{ ...RUN, numPrompts: 0 }],
      'argument 1.numPrompts: must be between 1 and 100000, got 0',
    ],
    [
      'bench:run',
      [{ ...RUN, baseUrl: 'file:///etc/passwd' }],
      'argument 1.baseUrl: must match /^https?:\\/\\/[^\\s]+$/',
    ],
    ['bench:run', [{ ...RUN, slos: { itl: 5 } }], 'argument 1.slos.itl: is not a known field'],
    [
      'bench:run',
      [{ ...RUN, requestRate: 0 }],
      'argument 1.requestRate: must be between 0.001 and 1000000, got 0',
    ],
    ['bench:sweep', [RUN], 'argument 1.sweep: must be an object, got undefined'],
    [
      'bench:sweep',
      [{ ...RUN, sweep: { kind: 'concurrency', values: [] } }],
      'argument 1.sweep.values: must have at least one step',
    ],
    [
      'bench:sweep',
      [{ ...RUN, sweep: { kind: 'batch', values: [1] } }],
      "argument 1.sweep.kind: must be one of 'concurrency', 'rate', got \"batch\"",
    ],
    ['bench:get', ['../settings'], 'argument 1: must match /^[a-z0-9][a-z0-9-]*$/'],
    ['bench:compare', ['run-a'], 'argument 2: must be a string, got undefined'],
    ['bench:cancel', ['now'], 'arguments: expected at most 0, got 1'],
    [
      'planner:calibrate',
      [{ depth: 'long' }],
      "argument 1.depth: must be one of 'short', 'thorough', got \"long\"",
    ],
    [
      'planner:predict',
      [{ workload: { inputLen: 10, outputLen: 10, slos: {} }, gpus: 0 }],
      'argument 1.gpus: must be between 1 and 64, got 0',
    ],
    [
      'planner:apply',
      [{ kind: 'disaggregated', contextWorkers: 1, generationWorkers: 0, gpus: 1 }],
      'argument 1.generationWorkers: must be between 1 and 64, got 0',
    ],
  ])('%s %j -> %s', (channel, args, expected) => {
    expect(validationMessage(channel, args)).toBe(expected);
  });
});
