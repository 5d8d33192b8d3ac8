// `node bin/disagg-console.mjs bench` end to end against a simulated worker: summary table on stdout,
// progress on stderr, the result file with benchmark_serving's field names, sweeps and saved runs.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type RunningProcess, startSimWorker } from '../../../electron/core/planner/sim-cluster';
import { GPU_PROFILES } from '../../../shared/logic/gpu-profiles';
import { type CliRun, runCliToExit } from '../../helpers/run-cli';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

function runCli(args: string[], timeoutMs = 30_000): Promise<CliRun> {
  return runCliToExit('bench', args, { timeoutMs });
}

describe('disagg-console bench', () => {
  let w: RunningProcess;
  beforeAll(async () => {
    w = await startSimWorker({
      model: MODEL,
      gpu: GPU_PROFILES.h100,
      env: { DISAGG_SIM_ZERO_DELAY: '1', DISAGG_SIM_FAULTS: '{"extraIterationMs":2}' },
    });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('runs, prints the summary and writes a result file that benchmark_serving readers understand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
    const r = await runCli([
      '--base-url',
      w.url,
      '--model',
      MODEL,
      '--num-prompts',
      '12',
      '--max-concurrency',
      '4',
      '--random-input-len',
      '20',
      '--random-output-len',
      '5',
      '--ignore-eos',
      '--goodput',
      'ttft:5000',
      'tpot:5000',
      '--result-dir',
      dir,
      '--result-filename',
      'result.json',
      '--metric-percentiles',
      '50,99',
      '--metadata',
      'topology=1agg',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('============ Serving Benchmark Result ============');
    expect(r.stdout).toMatch(/Successful requests: +12/);
    expect(r.stderr).toMatch(/Benchmarking: 100%/);
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    for (const key of [
      'completed',
      'duration',
      'total_input_tokens',
      'total_output_tokens',
      'request_throughput',
      'output_throughput',
      'total_token_throughput',
      'mean_ttft_ms',
      'median_ttft_ms',
      'std_ttft_ms',
      'p99_ttft_ms',
      'p50_tpot_ms',
      'p99_itl_ms',
      'mean_e2el_ms',
      'ttfts',
      'itls',
      'input_lens',
      'output_lens',
      'errors',
      'request_goodput',
    ]) {
      expect(json, key).toHaveProperty(key);
    }
    expect(json.completed).toBe(12);
    expect(json.total_output_tokens).toBe(60);
    expect(json.request_goodput).toBeCloseTo(json.request_throughput as number, 6);
    expect(json.topology).toBe('1agg');
    expect(json.max_concurrency).toBe(4);
    expect((json.ttfts as number[]).length).toBe(12);
  });

  it('sweeps concurrency, writes one file per step and saves the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sweep-'));
    const r = await runCli([
      '--base-url',
      w.url,
      '--model',
      MODEL,
      '--random-input-len',
      '8',
      '--random-output-len',
      '3',
      '--ignore-eos',
      '--sweep-concurrency',
      '1,4',
      '--multi-round',
      '2',
      '--save-result',
      '--result-dir',
      dir,
      '--result-filename',
      'sweep.json',
      '--save-run',
      'my sweep',
      '--runs-dir',
      join(dir, 'runs'),
      '--disable-tqdm',
      '--no-test-input',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Sweep over concurrency:/);
    expect(r.stdout).toMatch(/^concurrency +1 \|/m);
    expect(r.stdout).toMatch(/^concurrency +4 \|/m);
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(['sweep.concurrency1.json', 'sweep.concurrency4.json']);
    const step4 = JSON.parse(readFileSync(join(dir, 'sweep.concurrency4.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(step4.completed).toBe(8);
    const saved = readdirSync(join(dir, 'runs'));
    expect(saved).toHaveLength(1);
    const run = JSON.parse(readFileSync(join(dir, 'runs', saved[0] ?? ''), 'utf8')) as {
      name: string;
      steps: unknown[];
    };
    expect(run.name).toBe('my sweep');
    expect(run.steps).toHaveLength(2);
  });

  it('exits 1 with the reason when the server cannot be reached, 2 on a usage error', async () => {
    const down = await runCli([
      '--base-url',
      'http://127.0.0.1:9',
      '--model',
      MODEL,
      '--num-prompts',
      '1',
      '--request-timeout',
      '5',
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Initial test run failed/);
    const usage = await runCli(['--num-prompts', '3']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--model is required/);
  });
});
