// `disagg-console bench`: the load test from the command line, with benchmark_serving's flag names and
// meanings where they exist (trtllm-protocol.md 9.2), its summary table and its result-file fields, plus
// sweeps (--sweep-concurrency / --sweep-rate) that run one step per value. Layer: core (cli).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import {
  parseGoodput,
  parseMetricPercentiles,
  parsePercentileMetrics,
} from '../core/bench/bench-metrics';
import type { BenchResult } from '../core/bench/bench-types';
import { createProgressReporter } from '../core/bench/progress-reporter';
import {
  type BenchOptions,
  DEFAULT_METRIC_PERCENTILES,
  DEFAULT_PERCENTILE_METRICS,
  parseSweepValues,
  runBenchmark,
  runSweep,
  type SweepSpec,
} from '../core/bench/run-benchmark';
import { RunStore } from '../core/bench/run-store';
import { formatSummary } from '../core/bench/summary-table';
import { splitFlag } from './cli-flags';

export const BENCH_HELP = `Usage: disagg-console bench --model MODEL [options]

Load test of an OpenAI-compatible server (the proxy or one worker). Flags follow TensorRT-LLM's
benchmark_serving; the result file uses its field names.

Target:
  --base-url URL              server base URL (default http://HOST:PORT)
  --host HOST / --port PORT   used when --base-url is absent (default 127.0.0.1:8000)
  --endpoint PATH             /v1/completions (default) or /v1/chat/completions
  --backend openai|openai-chat  openai-chat selects /v1/chat/completions
  --model MODEL               model name sent in each request (required)
  --api-key KEY               "Authorization: Bearer KEY" (default: $OPENAI_API_KEY when set)

Load:
  --num-prompts N             requests to send (default 1000)
  --max-concurrency N         at most N requests in flight (closed loop when --request-rate is inf)
  --request-rate R            requests/s with Poisson arrivals (default inf: all at once); latency is
                              counted from each request's scheduled time (no coordinated omission)
  --burstiness B              gamma-distributed gaps instead of Poisson when B != 1 (default 1)
  --ignore-eos                set ignore_eos so every request generates its full output length
  --non-streaming             stream: false (TTFT is then the whole answer's latency)
  --seed N                    random seed for prompts and arrivals (default 0)
  --temperature T / --top-p P / --top-k K   sampling parameters (default temperature 0)
  --request-timeout S         bound for one request in seconds (default 600)
  --no-test-input             skip the initial single-request test

Dataset (default: random):
  --random-input-len N        prompt tokens (default 1024)
  --random-output-len N       output tokens (default 128); also the output length of dataset items
                              that do not give one
  --random-range-ratio R      draw lengths from [len*(1-R), len*(1+R)] (default 0)
  --random-prefix-len N       tokens of one prefix shared by every prompt (default 0)
  --dataset-path FILE         prompts file: JSON array of strings, or JSON/JSONL items with
                              {prompt, output_tokens}, {input: {messages, max_tokens}} or ShareGPT
                              {conversations: [...]}
  --dataset-name NAME         random | custom | trtllm_custom | sharegpt (implied by --dataset-path)

Metrics and output:
  --percentile-metrics LIST   metrics with mean/median/std/percentiles (default ttft,tpot,itl,e2el)
  --metric-percentiles LIST   percentiles to report (default 99), e.g. 50,90,99
  --goodput KEY:MS ...        SLOs for goodput: ttft:MS tpot:MS e2el:MS
  --save-result               write the result JSON
  --result-dir DIR            directory for the result file
  --result-filename NAME      result file name (implies --save-result)
  --metadata KEY=VALUE ...    extra fields for the result file
  --disable-tqdm              no progress bar
  --save-run NAME             also save the run under --runs-dir (the console's saved runs)
  --runs-dir DIR              saved runs directory (default ./bench-runs)

Sweeps (one run per step, a summary line per step):
  --sweep-concurrency LIST    e.g. 1,2,4,8,16: each step sets --max-concurrency
  --sweep-rate LIST           e.g. 1,2,4: each step sets --request-rate
  --multi-round N             concurrency sweeps: num prompts = concurrency x N
`;

interface BenchArgs {
  options: BenchOptions;
  saveResult: boolean;
  resultDir: string | null;
  resultFilename: string | null;
  metadata: Record<string, string>;
  disableProgress: boolean;
  sweep: SweepSpec | null;
  saveRunName: string | null;
  runsDir: string;
}

type Parsed =
  { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; args: BenchArgs };

const FLAGS_WITH_VALUE = new Set([
  '--base-url',
  '--host',
  '--port',
  '--endpoint',
  '--backend',
  '--model',
  '--api-key',
  '--num-prompts',
  '--max-concurrency',
  '--request-rate',
  '--burstiness',
  '--seed',
  '--temperature',
  '--top-p',
  '--top-k',
  '--request-timeout',
  '--random-input-len',
  '--random-output-len',
  '--random-range-ratio',
  '--random-prefix-len',
  '--dataset-path',
  '--dataset-name',
  '--percentile-metrics',
  '--metric-percentiles',
  '--result-dir',
  '--result-filename',
  '--sweep-concurrency',
  '--sweep-rate',
  '--multi-round',
  '--save-run',
  '--runs-dir',
  '--served-model-name',
  '--tokenizer',
  '--sharegpt-output-len',
  '--custom-output-len',
]);
const FLAGS_MULTI = new Set(['--goodput', '--metadata']);
const FLAGS_BOOL = new Set([
  '--ignore-eos',
  '--non-streaming',
  '--save-result',
  '--disable-tqdm',
  '--no-test-input',
  '--save-detailed',
  '--help',
  '-h',
]);

function int(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= min)) {
    throw new Error(`${flag} expects an integer >= ${min}, got '${v}'`);
  }
  return n;
}

function float(flag: string, v: string, min: number): number {
  const n = v === 'inf' ? Infinity : Number(v);
  if (!(n >= min) || Number.isNaN(n)) {
    throw new Error(`${flag} expects a number >= ${min}, got '${v}'`);
  }
  return n;
}

/** Parses the command line (`--flag value`, `--flag=value`; --goodput and --metadata take several values). */
export function parseBenchArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Parsed {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const raw = argv[i] ?? '';
    const { flag, value: inline } = splitFlag(raw);
    if (FLAGS_BOOL.has(flag)) {
      bools.add(flag);
    } else if (FLAGS_WITH_VALUE.has(flag)) {
      const v = inline ?? argv[i + 1];
      if (v === undefined) return { kind: 'error', message: `${flag} needs a value` };
      if (inline === undefined) i += 1;
      single.set(flag, v);
    } else if (FLAGS_MULTI.has(flag)) {
      const values = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) {
        values.push(argv[i + 1] ?? '');
        i += 1;
      }
      if (values.length === 0) {
        return { kind: 'error', message: `${flag} needs at least one value` };
      }
      multi.set(flag, [...(multi.get(flag) ?? []), ...values]);
    } else {
      return { kind: 'error', message: `unknown option '${raw}'` };
    }
  }
  if (bools.has('--help') || bools.has('-h')) return { kind: 'help' };
  try {
    const model = single.get('--model');
    if (model === undefined) throw new Error('--model is required');
    let endpoint = single.get('--endpoint') ?? '/v1/completions';
    const backend = single.get('--backend');
    if (backend === 'openai-chat') endpoint = '/v1/chat/completions';
    else if (backend !== undefined && backend !== 'openai') {
      throw new Error(`--backend must be openai or openai-chat, got '${backend}'`);
    }
    if (endpoint !== '/v1/completions' && endpoint !== '/v1/chat/completions') {
      throw new Error(
        `--endpoint must be /v1/completions or /v1/chat/completions, got '${endpoint}'`,
      );
    }
    const baseUrl =
      single.get('--base-url') ??
      `http://${single.get('--host') ?? '127.0.0.1'}:${int('--port', single.get('--port') ?? '8000', 1)}`;
    const outputLen = int('--random-output-len', single.get('--random-output-len') ?? '128', 1);
    const datasetPath = single.get('--dataset-path');
    const datasetName =
      single.get('--dataset-name') ?? (datasetPath !== undefined ? 'custom' : 'random');
    if (!['random', 'custom', 'trtllm_custom', 'sharegpt'].includes(datasetName)) {
      throw new Error(
        `--dataset-name must be random, custom, trtllm_custom or sharegpt, got '${datasetName}'`,
      );
    }
    if (datasetName !== 'random' && datasetPath === undefined) {
      throw new Error(`--dataset-name ${datasetName} needs --dataset-path`);
    }
    const fixedOutput = single.get('--sharegpt-output-len') ?? single.get('--custom-output-len');
    const dataset: BenchOptions['dataset'] =
      datasetName === 'random'
        ? {
            kind: 'random',
            inputLen: int('--random-input-len', single.get('--random-input-len') ?? '1024', 1),
            outputLen,
            rangeRatio: float('--random-range-ratio', single.get('--random-range-ratio') ?? '0', 0),
            prefixLen: int('--random-prefix-len', single.get('--random-prefix-len') ?? '0', 0),
          }
        : {
            kind: 'file',
            path: datasetPath ?? '',
            outputLen:
              fixedOutput !== undefined ? int('--custom-output-len', fixedOutput, 1) : outputLen,
            shouldOverrideOutputLen: fixedOutput !== undefined,
          };
    const extraBody: Record<string, unknown> = {};
    if (single.has('--temperature')) {
      extraBody.temperature = float('--temperature', single.get('--temperature') ?? '', 0);
    }
    if (single.has('--top-p')) extraBody.top_p = float('--top-p', single.get('--top-p') ?? '', 0);
    if (single.has('--top-k')) extraBody.top_k = int('--top-k', single.get('--top-k') ?? '', 0);
    const maxConcurrency = single.has('--max-concurrency')
      ? int('--max-concurrency', single.get('--max-concurrency') ?? '', 1)
      : null;
    const requestRate = float('--request-rate', single.get('--request-rate') ?? 'inf', 0);
    if (requestRate === 0) throw new Error('--request-rate must be positive (or inf)');
    const burstiness = float('--burstiness', single.get('--burstiness') ?? '1', 0);
    if (burstiness === 0) throw new Error('--burstiness must be positive');
    const options: BenchOptions = {
      baseUrl: baseUrl.replace(/\/+$/, ''),
      endpoint,
      model: single.get('--served-model-name') ?? model,
      dataset,
      numPrompts: int('--num-prompts', single.get('--num-prompts') ?? '1000', 1),
      requestRate,
      burstiness,
      maxConcurrency,
      isStreaming: !bools.has('--non-streaming'),
      shouldIgnoreEos: bools.has('--ignore-eos'),
      seed: int('--seed', single.get('--seed') ?? '0', 0),
      percentileMetrics: single.has('--percentile-metrics')
        ? parsePercentileMetrics(single.get('--percentile-metrics') ?? '')
        : DEFAULT_PERCENTILE_METRICS,
      metricPercentiles: single.has('--metric-percentiles')
        ? parseMetricPercentiles(single.get('--metric-percentiles') ?? '')
        : DEFAULT_METRIC_PERCENTILES,
      goodput: multi.has('--goodput') ? parseGoodput(multi.get('--goodput') ?? []) : null,
      apiKey: single.get('--api-key') ?? env.OPENAI_API_KEY,
      extraBody,
      requestTimeoutMs:
        float('--request-timeout', single.get('--request-timeout') ?? '600', 0.001) * 1000,
      shouldTestFirst: !bools.has('--no-test-input'),
    };
    const sc = single.get('--sweep-concurrency');
    const sr = single.get('--sweep-rate');
    if (sc !== undefined && sr !== undefined) {
      throw new Error('use either --sweep-concurrency or --sweep-rate, not both');
    }
    let sweep: SweepSpec | null = null;
    if (sc !== undefined) {
      sweep = { kind: 'concurrency', values: parseSweepValues(sc) };
      if (sweep.values.some((v) => !Number.isInteger(v))) {
        throw new Error('--sweep-concurrency steps must be integers');
      }
      if (single.has('--multi-round')) {
        sweep.multiRound = int('--multi-round', single.get('--multi-round') ?? '', 1);
      }
    } else if (sr !== undefined) {
      sweep = { kind: 'rate', values: parseSweepValues(sr) };
    }
    const metadata: Record<string, string> = {};
    for (const item of multi.get('--metadata') ?? []) {
      const at = item.indexOf('=');
      if (at <= 0) throw new Error(`--metadata expects KEY=VALUE, got '${item}'`);
      metadata[item.slice(0, at).trim()] = item.slice(at + 1).trim();
    }
    return {
      kind: 'ok',
      args: {
        options,
        saveResult: bools.has('--save-result') || single.has('--result-filename'),
        resultDir: single.get('--result-dir') ?? null,
        resultFilename: single.get('--result-filename') ?? null,
        metadata,
        disableProgress: bools.has('--disable-tqdm'),
        sweep,
        saveRunName: single.get('--save-run') ?? null,
        runsDir: single.get('--runs-dir') ?? 'bench-runs',
      },
    };
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
}

/** benchmark_serving's default file name: {backend}-{rate}qps[-concurrency{C}]-{model}-{date}.json. */
export function defaultResultFilename(r: BenchResult): string {
  const rate = r.request_rate === 'inf' ? 'inf' : String(r.request_rate);
  const conc = r.max_concurrency !== null ? `-concurrency${r.max_concurrency}` : '';
  const model = r.model_id.split('/').pop() ?? r.model_id;
  return `${r.backend}-${rate}qps${conc}-${model}-${r.date}.json`;
}

function stepFilename(name: string, kind: string, value: number): string {
  const stem = name.endsWith('.json') ? name.slice(0, -'.json'.length) : name;
  return `${stem}.${kind}${value}.json`;
}

async function writeResult(
  path: string,
  result: BenchResult,
  metadata: Record<string, string>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ ...metadata, ...result }));
}

function sweepLine(kind: string, value: number, r: BenchResult): string {
  const ms = (k: string): string =>
    ((r as unknown as Record<string, number | undefined>)[k] ?? 0).toFixed(1).padStart(9);
  return `${kind.padEnd(11)} ${String(value).padStart(7)} | ${r.request_throughput.toFixed(2).padStart(8)} req/s ${r.output_throughput.toFixed(1).padStart(10)} tok/s | TTFT p50 ${ms('median_ttft_ms')} p99 ${ms('p99_ttft_ms')} | TPOT p50 ${ms('median_tpot_ms')} | failed ${r.failed}`;
}

/** Runs the command; resolves with the exit code (1 when no request succeeded). */
export async function runBenchCommand(argv: string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(
      `disagg-console bench: ${parsed.message}\nTry 'disagg-console bench --help'.\n`,
    );
    return 2;
  }
  const a = parsed.args;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  // One bar per run (a sweep starts a fresh bar for each step).
  const progress = (label: string): BenchOptions['onProgress'] => {
    if (a.disableProgress) return undefined;
    let reporter = createProgressReporter(process.stderr, { label });
    return (p) => {
      reporter.update(p);
      if (p.done === p.total) {
        reporter.done();
        reporter = createProgressReporter(process.stderr, { label });
      }
    };
  };
  try {
    const target = Array.isArray(a.options.baseUrl)
      ? a.options.baseUrl.join(',')
      : a.options.baseUrl;
    process.stdout.write(
      `Benchmarking ${target}${a.options.endpoint} (model ${a.options.model})\n`,
    );
    const results: Array<{
      step: { kind: 'concurrency' | 'rate'; value: number } | null;
      result: BenchResult;
    }> = [];
    if (a.sweep === null) {
      const result = await runBenchmark({
        ...a.options,
        signal: controller.signal,
        onProgress: progress('Benchmarking'),
      });
      process.stdout.write(formatSummary(result) + '\n');
      results.push({ step: null, result });
      if (a.saveResult) {
        const path = resolve(a.resultDir ?? '.', a.resultFilename ?? defaultResultFilename(result));
        await writeResult(path, result, a.metadata);
        process.stdout.write(`Result written to ${path}\n`);
      }
    } else {
      const sweep = a.sweep;
      const steps = await runSweep(
        { ...a.options, signal: controller.signal, onProgress: progress('Sweep step') },
        sweep,
        (step) => {
          process.stdout.write(formatSummary(step.result) + '\n');
        },
      );
      process.stdout.write(`\nSweep over ${sweep.kind}:\n`);
      for (const s of steps) {
        process.stdout.write(sweepLine(s.kind, s.value, s.result) + '\n');
        results.push({ step: { kind: s.kind, value: s.value }, result: s.result });
        if (a.saveResult) {
          const path = resolve(
            a.resultDir ?? '.',
            stepFilename(a.resultFilename ?? defaultResultFilename(s.result), s.kind, s.value),
          );
          await writeResult(path, s.result, a.metadata);
          process.stdout.write(`Result written to ${path}\n`);
        }
      }
    }
    if (a.saveRunName !== null && results.length > 0) {
      const saved = await new RunStore(a.runsDir).save({ name: a.saveRunName, steps: results });
      process.stdout.write(`Saved run ${saved.id} in ${a.runsDir}\n`);
    }
    return results.some((r) => r.result.completed > 0) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`disagg-console bench: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
