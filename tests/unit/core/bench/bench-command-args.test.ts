// `disagg-console bench` flags: benchmark_serving's names, defaults and meanings, multi-value --goodput,
// sweeps, datasets, and the errors for bad input. (The command lives in electron/cli/bench-command.ts.)
import { describe, expect, it } from 'vitest';

import { defaultResultFilename, parseBenchArgs } from '../../../../electron/cli/bench-command';
import type { BenchResult } from '../../../../electron/core/bench/bench-types';

function ok(argv: string[], env: Record<string, string | undefined> = {}) {
  const p = parseBenchArgs(argv, env);
  if (p.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(p)}`);
  return p.args;
}

describe('parseBenchArgs', () => {
  it('applies benchmark_serving defaults', () => {
    const a = ok(['--model', 'm']);
    expect(a.options).toMatchObject({
      baseUrl: 'http://127.0.0.1:8000',
      endpoint: '/v1/completions',
      model: 'm',
      numPrompts: 1000,
      requestRate: Infinity,
      burstiness: 1,
      maxConcurrency: null,
      isStreaming: true,
      shouldIgnoreEos: false,
      seed: 0,
      metricPercentiles: [99],
      goodput: null,
      shouldTestFirst: true,
      dataset: { kind: 'random', inputLen: 1024, outputLen: 128, rangeRatio: 0, prefixLen: 0 },
    });
    expect(a.saveResult).toBe(false);
    expect(a.sweep).toBeNull();
  });

  it('reads every flag of the issue', () => {
    const a = ok(
      [
        '--base-url',
        'http://10.0.0.1:8333/',
        '--endpoint',
        '/v1/chat/completions',
        '--model',
        'TinyLlama',
        '--max-concurrency',
        '64',
        '--request-rate',
        '12.5',
        '--num-prompts',
        '200',
        '--random-input-len',
        '100',
        '--random-output-len=10',
        '--ignore-eos',
        '--non-streaming',
        '--percentile-metrics',
        'ttft,tpot,itl,e2el',
        '--metric-percentiles',
        '50,90,99',
        '--goodput',
        'ttft:200',
        'tpot:20',
        '--result-filename',
        'out.json',
        '--seed',
        '7',
        '--metadata',
        'tp=1',
        'gpu=h100',
      ],
      { OPENAI_API_KEY: 'sk-x' },
    );
    expect(a.options).toMatchObject({
      baseUrl: 'http://10.0.0.1:8333',
      endpoint: '/v1/chat/completions',
      maxConcurrency: 64,
      requestRate: 12.5,
      numPrompts: 200,
      shouldIgnoreEos: true,
      isStreaming: false,
      percentileMetrics: ['ttft', 'tpot', 'itl', 'e2el'],
      metricPercentiles: [50, 90, 99],
      goodput: { ttft: 200, tpot: 20 },
      seed: 7,
      apiKey: 'sk-x',
      dataset: { kind: 'random', inputLen: 100, outputLen: 10 },
    });
    expect(a.saveResult).toBe(true);
    expect(a.resultFilename).toBe('out.json');
    expect(a.metadata).toEqual({ tp: '1', gpu: 'h100' });
  });

  it('builds the base URL from --host/--port, picks chat with --backend openai-chat, and reads a dataset path', () => {
    const a = ok([
      '--model',
      'm',
      '--host',
      'localhost',
      '--port',
      '8333',
      '--backend',
      'openai-chat',
      '--dataset-path',
      'p.jsonl',
      '--random-output-len',
      '50',
    ]);
    expect(a.options.baseUrl).toBe('http://localhost:8333');
    expect(a.options.endpoint).toBe('/v1/chat/completions');
    expect(a.options.dataset).toEqual({
      kind: 'file',
      path: 'p.jsonl',
      outputLen: 50,
      shouldOverrideOutputLen: false,
    });
  });

  it('parses sweeps', () => {
    expect(
      ok(['--model', 'm', '--sweep-concurrency', '1,2,4', '--multi-round', '3']).sweep,
    ).toEqual({ kind: 'concurrency', values: [1, 2, 4], multiRound: 3 });
    expect(ok(['--model', 'm', '--sweep-rate', '0.5,1']).sweep).toEqual({
      kind: 'rate',
      values: [0.5, 1],
    });
  });

  it.each([
    [[], /--model is required/],
    [['--model', 'm', '--endpoint', '/v1/responses'], /--endpoint must be/],
    [['--model', 'm', '--max-concurrency', '0'], /--max-concurrency expects an integer >= 1/],
    [['--model', 'm', '--request-rate', '0'], /must be positive/],
    [['--model', 'm', '--goodput', 'ttft=3'], /KEY:VALUE/],
    [['--model', 'm', '--goodput'], /needs at least one value/],
    [['--model', 'm', '--sweep-concurrency', '1,x'], /invalid sweep steps/],
    [['--model', 'm', '--sweep-concurrency', '1', '--sweep-rate', '1'], /either/],
    [['--model', 'm', '--dataset-name', 'sharegpt'], /needs --dataset-path/],
    [['--model', 'm', '--bogus'], /^unknown flag --bogus$/],
    [
      ['--model', 'm', '--num-promts', '5'],
      /^unknown flag --num-promts; did you mean --num-prompts\?$/,
    ],
    [['--model', 'm', '--port', '70000'], /--port expects an integer from 1 to 65535, got '70000'/],
    [['--model'], /--model needs a value/],
  ])('rejects %j', (argv, message) => {
    const p = parseBenchArgs(argv, {});
    expect(p.kind).toBe('error');
    if (p.kind === 'error') expect(p.message).toMatch(message);
  });

  it('answers --help', () => {
    expect(parseBenchArgs(['--help'], {}).kind).toBe('help');
  });

  it('names result files like benchmark_serving', () => {
    const r = {
      backend: 'openai',
      request_rate: 'inf',
      max_concurrency: 8,
      model_id: 'org/Model-8B',
      date: '20251001-120000',
    } as unknown as BenchResult;
    expect(defaultResultFilename(r)).toBe(
      'openai-infqps-concurrency8-Model-8B-20251001-120000.json',
    );
  });
});
