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
import {
  choiceFlag,
  CliError,
  type CommandSpec,
  type FlagSpec,
  type FlagValue,
  formatHelp,
  numberFlag,
  parseFlags,
  portFlag,
  usageErrorLine,
} from '../core/cli-args';

type BenchFlag =
  | 'baseUrl'
  | 'host'
  | 'port'
  | 'endpoint'
  | 'backend'
  | 'model'
  | 'apiKey'
  | 'numPrompts'
  | 'maxConcurrency'
  | 'requestRate'
  | 'burstiness'
  | 'ignoreEos'
  | 'nonStreaming'
  | 'seed'
  | 'temperature'
  | 'topP'
  | 'topK'
  | 'requestTimeout'
  | 'noTestInput'
  | 'randomInputLen'
  | 'randomOutputLen'
  | 'randomRangeRatio'
  | 'randomPrefixLen'
  | 'datasetPath'
  | 'datasetName'
  | 'percentileMetrics'
  | 'metricPercentiles'
  | 'goodput'
  | 'saveResult'
  | 'resultDir'
  | 'resultFilename'
  | 'metadata'
  | 'disableTqdm'
  | 'saveRun'
  | 'runsDir'
  | 'sweepConcurrency'
  | 'sweepRate'
  | 'multiRound'
  | 'servedModelName'
  | 'tokenizer'
  | 'sharegptOutputLen'
  | 'customOutputLen'
  | 'saveDetailed';

const value = (
  key: BenchFlag,
  name: string,
  metavar: string,
  help: string,
): FlagSpec<BenchFlag> => ({ key, names: [name], takes: 'value', metavar, help });
const list = (
  key: BenchFlag,
  name: string,
  metavar: string,
  help: string,
): FlagSpec<BenchFlag> => ({ key, names: [name], takes: 'list', metavar, help });
const toggle = (key: BenchFlag, name: string, help: string): FlagSpec<BenchFlag> => ({
  key,
  names: [name],
  takes: 'switch',
  help,
});

/** benchmark_serving's flags, with its spellings, plus sweeps and saved runs. */
export const BENCH_COMMAND: CommandSpec<BenchFlag> = {
  usage: 'Usage: disagg-console bench --model MODEL [options]',
  description:
    "Load test of an OpenAI-compatible server (the proxy or one worker). Flags follow TensorRT-LLM's\nbenchmark_serving; the result file uses its field names.",
  groups: [
    {
      title: 'Target',
      flags: [
        value('baseUrl', '--base-url', 'URL', 'server base URL (default http://HOST:PORT)'),
        value('host', '--host', 'HOST', 'used when --base-url is absent (default 127.0.0.1)'),
        value('port', '--port', 'PORT', 'used when --base-url is absent (default 8000)'),
        value(
          'endpoint',
          '--endpoint',
          'PATH',
          '/v1/completions (default) or /v1/chat/completions',
        ),
        value(
          'backend',
          '--backend',
          'NAME',
          'openai | openai-chat (openai-chat selects /v1/chat/completions)',
        ),
        value('model', '--model', 'MODEL', 'model name sent in each request (required)'),
        value(
          'apiKey',
          '--api-key',
          'KEY',
          '"Authorization: Bearer KEY" (default: $OPENAI_API_KEY when set)',
        ),
      ],
    },
    {
      title: 'Load',
      flags: [
        value('numPrompts', '--num-prompts', 'N', 'requests to send (default 1000)'),
        value(
          'maxConcurrency',
          '--max-concurrency',
          'N',
          'at most N requests in flight (closed loop when --request-rate is inf)',
        ),
        value(
          'requestRate',
          '--request-rate',
          'R',
          "requests/s with Poisson arrivals (default inf: all at once); latency is\ncounted from each request's scheduled time (no coordinated omission)",
        ),
        value(
          'burstiness',
          '--burstiness',
          'B',
          'gamma-distributed gaps instead of Poisson when B != 1 (default 1)',
        ),
        toggle(
          'ignoreEos',
          '--ignore-eos',
          'set ignore_eos so every request generates its full output length',
        ),
        toggle(
          'nonStreaming',
          '--non-streaming',
          "stream: false (TTFT is then the whole answer's latency)",
        ),
        value('seed', '--seed', 'N', 'random seed for prompts and arrivals (default 0)'),
        value('temperature', '--temperature', 'T', 'sampling temperature (default 0)'),
        value('topP', '--top-p', 'P', 'sampling top_p'),
        value('topK', '--top-k', 'K', 'sampling top_k'),
        value(
          'requestTimeout',
          '--request-timeout',
          'S',
          'bound for one request in seconds (default 600)',
        ),
        toggle('noTestInput', '--no-test-input', 'skip the initial single-request test'),
      ],
    },
    {
      title: 'Dataset (default: random)',
      flags: [
        value('randomInputLen', '--random-input-len', 'N', 'prompt tokens (default 1024)'),
        value(
          'randomOutputLen',
          '--random-output-len',
          'N',
          'output tokens (default 128); also the output length of dataset items\nthat do not give one',
        ),
        value(
          'randomRangeRatio',
          '--random-range-ratio',
          'R',
          'draw lengths from [len*(1-R), len*(1+R)] (default 0)',
        ),
        value(
          'randomPrefixLen',
          '--random-prefix-len',
          'N',
          'tokens of one prefix shared by every prompt (default 0)',
        ),
        value(
          'datasetPath',
          '--dataset-path',
          'FILE',
          'prompts file: JSON array of strings, or JSON/JSONL items with\n{prompt, output_tokens}, {input: {messages, max_tokens}} or ShareGPT\n{conversations: [...]}',
        ),
        value(
          'datasetName',
          '--dataset-name',
          'NAME',
          'random | custom | trtllm_custom | sharegpt (implied by --dataset-path)',
        ),
        value(
          'sharegptOutputLen',
          '--sharegpt-output-len',
          'N',
          'output tokens of every dataset item (overrides the file)',
        ),
        value(
          'customOutputLen',
          '--custom-output-len',
          'N',
          'the same, under its trtllm_custom name',
        ),
      ],
    },
    {
      title: 'Metrics and output',
      flags: [
        value(
          'percentileMetrics',
          '--percentile-metrics',
          'LIST',
          'metrics with mean/median/std/percentiles (default ttft,tpot,itl,e2el)',
        ),
        value(
          'metricPercentiles',
          '--metric-percentiles',
          'LIST',
          'percentiles to report (default 99), e.g. 50,90,99',
        ),
        list('goodput', '--goodput', 'KEY:MS', 'SLOs for goodput: ttft:MS tpot:MS e2el:MS'),
        toggle('saveResult', '--save-result', 'write the result JSON'),
        value('resultDir', '--result-dir', 'DIR', 'directory for the result file'),
        value(
          'resultFilename',
          '--result-filename',
          'NAME',
          'result file name (implies --save-result)',
        ),
        list('metadata', '--metadata', 'KEY=VALUE', 'extra fields for the result file'),
        toggle('disableTqdm', '--disable-tqdm', 'no progress bar'),
        toggle(
          'saveDetailed',
          '--save-detailed',
          "accepted for benchmark_serving's scripts; per-request fields are always saved",
        ),
        value(
          'saveRun',
          '--save-run',
          'NAME',
          "also save the run under --runs-dir (the console's saved runs)",
        ),
        value('runsDir', '--runs-dir', 'DIR', 'saved runs directory (default ./bench-runs)'),
        value(
          'servedModelName',
          '--served-model-name',
          'NAME',
          'model name sent in requests when it differs from --model',
        ),
        value(
          'tokenizer',
          '--tokenizer',
          'NAME',
          "accepted for benchmark_serving's scripts; token counts come from the server",
        ),
      ],
    },
    {
      title: 'Sweeps (one run per step, a summary line per step)',
      flags: [
        value(
          'sweepConcurrency',
          '--sweep-concurrency',
          'LIST',
          'e.g. 1,2,4,8,16: each step sets --max-concurrency',
        ),
        value('sweepRate', '--sweep-rate', 'LIST', 'e.g. 1,2,4: each step sets --request-rate'),
        value(
          'multiRound',
          '--multi-round',
          'N',
          'concurrency sweeps: num prompts = concurrency x N',
        ),
      ],
    },
  ],
};

export const BENCH_HELP = formatHelp(BENCH_COMMAND);

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

const int = (flag: string, v: string, min: number): number =>
  numberFlag(flag, v, { min, isInteger: true });
const float = (flag: string, v: string, min: number): number =>
  numberFlag(flag, v, { min, allowInf: true });

/** Parses the command line (`--flag value`, `--flag=value`; --goodput and --metadata take several values). */
export function parseBenchArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Parsed {
  const parsed = parseFlags(BENCH_COMMAND, argv);
  if (!parsed.ok) return { kind: 'error', message: parsed.message };
  if (parsed.isHelp) return { kind: 'help' };
  try {
    return { kind: 'ok', args: benchArgsOf(parsed.values, env) };
  } catch (err) {
    if (err instanceof CliError) return { kind: 'error', message: err.message };
    throw err;
  }
}

type BenchValues = Partial<Record<BenchFlag, FlagValue>>;

/** The parsed flags as run options; throws CliError on a bad or missing value. */
function benchArgsOf(values: BenchValues, env: Record<string, string | undefined>): BenchArgs {
  const str = (key: BenchFlag): string | undefined => values[key] as string | undefined;
  const model = str('model');
  if (model === undefined) throw new CliError('--model is required');
  const backend = str('backend');
  const isChat =
    backend !== undefined &&
    choiceFlag('--backend', backend, ['openai', 'openai-chat']) === 'openai-chat';
  const endpoint = isChat
    ? '/v1/chat/completions'
    : choiceFlag('--endpoint', str('endpoint') ?? '/v1/completions', [
        '/v1/completions',
        '/v1/chat/completions',
      ] as const);
  const baseUrl =
    str('baseUrl') ??
    `http://${str('host') ?? '127.0.0.1'}:${portFlag('--port', str('port') ?? '8000', false)}`;
  const extraBody: Record<string, unknown> = {};
  const temperature = str('temperature');
  if (temperature !== undefined) extraBody.temperature = float('--temperature', temperature, 0);
  const topP = str('topP');
  if (topP !== undefined) extraBody.top_p = float('--top-p', topP, 0);
  const topK = str('topK');
  if (topK !== undefined) extraBody.top_k = int('--top-k', topK, 0);
  const maxConcurrency = str('maxConcurrency');
  const requestRate = float('--request-rate', str('requestRate') ?? 'inf', 0);
  if (requestRate === 0) throw new CliError('--request-rate must be positive (or inf)');
  const burstiness = float('--burstiness', str('burstiness') ?? '1', 0);
  if (burstiness === 0) throw new CliError('--burstiness must be positive');
  const percentileMetrics = str('percentileMetrics');
  const metricPercentiles = str('metricPercentiles');
  const goodput = values.goodput as string[] | undefined;
  const options: BenchOptions = {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    endpoint,
    model: str('servedModelName') ?? model,
    dataset: datasetOf(values),
    numPrompts: int('--num-prompts', str('numPrompts') ?? '1000', 1),
    requestRate,
    burstiness,
    maxConcurrency:
      maxConcurrency !== undefined ? int('--max-concurrency', maxConcurrency, 1) : null,
    isStreaming: values.nonStreaming !== true,
    shouldIgnoreEos: values.ignoreEos === true,
    seed: int('--seed', str('seed') ?? '0', 0),
    percentileMetrics:
      percentileMetrics !== undefined
        ? checked('--percentile-metrics', () => parsePercentileMetrics(percentileMetrics))
        : DEFAULT_PERCENTILE_METRICS,
    metricPercentiles:
      metricPercentiles !== undefined
        ? checked('--metric-percentiles', () => parseMetricPercentiles(metricPercentiles))
        : DEFAULT_METRIC_PERCENTILES,
    goodput: goodput !== undefined ? checked('--goodput', () => parseGoodput(goodput)) : null,
    apiKey: str('apiKey') ?? env.OPENAI_API_KEY,
    extraBody,
    requestTimeoutMs: float('--request-timeout', str('requestTimeout') ?? '600', 0.001) * 1000,
    shouldTestFirst: values.noTestInput !== true,
  };
  return {
    options,
    saveResult: values.saveResult === true || str('resultFilename') !== undefined,
    resultDir: str('resultDir') ?? null,
    resultFilename: str('resultFilename') ?? null,
    metadata: metadataOf((values.metadata as string[] | undefined) ?? []),
    disableProgress: values.disableTqdm === true,
    sweep: sweepOf(values),
    saveRunName: str('saveRun') ?? null,
    runsDir: str('runsDir') ?? 'bench-runs',
  };
}

function datasetOf(values: BenchValues): BenchOptions['dataset'] {
  const str = (key: BenchFlag): string | undefined => values[key] as string | undefined;
  const outputLen = int('--random-output-len', str('randomOutputLen') ?? '128', 1);
  const datasetPath = str('datasetPath');
  const datasetName = choiceFlag(
    '--dataset-name',
    str('datasetName') ?? (datasetPath !== undefined ? 'custom' : 'random'),
    ['random', 'custom', 'trtllm_custom', 'sharegpt'],
  );
  if (datasetName === 'random') {
    return {
      kind: 'random',
      inputLen: int('--random-input-len', str('randomInputLen') ?? '1024', 1),
      outputLen,
      rangeRatio: float('--random-range-ratio', str('randomRangeRatio') ?? '0', 0),
      prefixLen: int('--random-prefix-len', str('randomPrefixLen') ?? '0', 0),
    };
  }
  if (datasetPath === undefined) {
    throw new CliError(`--dataset-name ${datasetName} needs --dataset-path`);
  }
  const fixedOutput = str('sharegptOutputLen') ?? str('customOutputLen');
  return {
    kind: 'file',
    path: datasetPath,
    outputLen: fixedOutput !== undefined ? int('--custom-output-len', fixedOutput, 1) : outputLen,
    shouldOverrideOutputLen: fixedOutput !== undefined,
  };
}

function sweepOf(values: BenchValues): SweepSpec | null {
  const sc = values.sweepConcurrency as string | undefined;
  const sr = values.sweepRate as string | undefined;
  if (sc !== undefined && sr !== undefined) {
    throw new CliError('use either --sweep-concurrency or --sweep-rate, not both');
  }
  if (sr !== undefined) {
    return { kind: 'rate', values: checked('--sweep-rate', () => parseSweepValues(sr)) };
  }
  if (sc === undefined) return null;
  const sweep: SweepSpec = {
    kind: 'concurrency',
    values: checked('--sweep-concurrency', () => parseSweepValues(sc)),
  };
  if (sweep.values.some((v) => !Number.isInteger(v))) {
    throw new CliError('--sweep-concurrency steps must be integers');
  }
  const rounds = values.multiRound as string | undefined;
  if (rounds !== undefined) sweep.multiRound = int('--multi-round', rounds, 1);
  return sweep;
}

/** The bench modules' value parsers throw a plain Error; as a CLI error it names the flag. */
function checked<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new CliError(`${flag}: ${(err as Error).message}`);
  }
}

function metadataOf(items: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new CliError(`--metadata expects KEY=VALUE, got '${item}'`);
    metadata[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return metadata;
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
    process.stderr.write(usageErrorLine('bench', parsed.message));
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
