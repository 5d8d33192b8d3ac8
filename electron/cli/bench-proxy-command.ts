// `disagg-console bench-proxy` (npm run bench:proxy): reads its flags through the one argument parser
// (core/cli-args.ts) and runs bench/proxy-bench.ts. Layer: core (cli).
import { type ProxyBenchOptions, runProxyBench } from '../../bench/proxy-bench';
import {
  CliError,
  type CommandSpec,
  formatHelp,
  numberFlag,
  parseFlags,
  usageErrorLine,
} from '../core/cli-args';

type BenchProxyFlag =
  | 'isQuick'
  | 'runs'
  | 'jsonOut'
  | 'proxyRoot'
  | 'baseRoot'
  | 'isOverloadSkipped'
  | 'isOverloadOnly'
  | 'isSlowClientsOnly'
  | 'isLongSkipped'
  | 'isLongOnly'
  | 'isStreamsOnly'
  | 'streamWindowS'
  | 'bundles'
  | 'nginx';

export const BENCH_PROXY_COMMAND: CommandSpec<BenchProxyFlag> = {
  usage: 'Usage: disagg-console bench-proxy [options]   (npm run bench:proxy -- [options])',
  description:
    'Benchmarks the proxy against zero-delay workers, a direct connection, a bare relay and nginx\n(bench/README.md).',
  groups: [
    {
      title: 'Options',
      flags: [
        { key: 'isQuick', names: ['--quick'], takes: 'switch', help: 'short windows, one run' },
        {
          key: 'runs',
          names: ['--runs'],
          takes: 'value',
          metavar: 'N',
          help: 'interleaved runs per case, medians reported (default 3; --quick 1)',
        },
        {
          key: 'jsonOut',
          names: ['--json'],
          takes: 'value',
          metavar: 'FILE',
          help: 'also write the results as JSON',
        },
        {
          key: 'proxyRoot',
          names: ['--proxy-root'],
          takes: 'value',
          metavar: 'DIR',
          help: 'benchmark the proxy of another checkout (compare builds in one sitting)',
        },
        {
          key: 'baseRoot',
          names: ['--base-root'],
          takes: 'value',
          metavar: 'DIR',
          help: 'also run the proxy of another checkout beside this one in run 5 and --only-streams',
        },
        {
          key: 'isLongSkipped',
          names: ['--no-long-prompts'],
          takes: 'switch',
          help: 'skip run 5 (20 KB, 200 KB and 1 MB prompts)',
        },
        {
          key: 'isLongOnly',
          names: ['--only-long-prompts'],
          takes: 'switch',
          help: 'run only run 5',
        },
        {
          key: 'isStreamsOnly',
          names: ['--only-streams'],
          takes: 'switch',
          help: "run only run 2 (256 streams: the TTFT tail per run, with the proxy's diagnostics)",
        },
        {
          key: 'streamWindowS',
          names: ['--stream-window'],
          takes: 'value',
          metavar: 'S',
          help: "run 2's measured window in seconds (default 2; longer windows steady its p99)",
        },
        {
          key: 'bundles',
          names: ['--bundles'],
          takes: 'value',
          metavar: 'DIR',
          help: 'run the esbuild bundles in DIR instead of the sources (scripts/device/proxy-bench.sh)',
        },
        {
          key: 'nginx',
          names: ['--nginx'],
          takes: 'value',
          metavar: 'PATH',
          help: 'nginx binary for the one-hop floor (default /usr/sbin/nginx)',
        },
        {
          key: 'isOverloadSkipped',
          names: ['--no-overload'],
          takes: 'switch',
          help: 'skip run 3 (overload with capacity set by bounded workers)',
        },
        {
          key: 'isOverloadOnly',
          names: ['--only-overload'],
          takes: 'switch',
          help: 'run only run 3',
        },
        {
          key: 'isSlowClientsOnly',
          names: ['--only-slow-clients'],
          takes: 'switch',
          help: 'run only run 4 (normal latency beside slow-body and slow-header clients)',
        },
      ],
    },
  ],
};

export type BenchProxyArgs =
  | { kind: 'run'; options: ProxyBenchOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/** Parses the bench-proxy flags; at most one `--only-*`. */
export function parseBenchProxyArgs(argv: readonly string[]): BenchProxyArgs {
  const parsed = parseFlags(BENCH_PROXY_COMMAND, argv);
  if (!parsed.ok) return { kind: 'error', message: parsed.message };
  if (parsed.isHelp) return { kind: 'help' };
  const v = parsed.values;
  const onlies = (
    [
      ['overload', v.isOverloadOnly],
      ['slow-clients', v.isSlowClientsOnly],
      ['long-prompts', v.isLongOnly],
      ['streams', v.isStreamsOnly],
    ] as const
  ).filter(([, on]) => on === true);
  if (onlies.length > 1) {
    return {
      kind: 'error',
      message: `choose one of ${onlies.map(([name]) => `--only-${name}`).join(', ')}`,
    };
  }
  try {
    const runs =
      typeof v.runs === 'string'
        ? numberFlag('--runs', v.runs, { min: 1, isInteger: true })
        : undefined;
    const streamWindowS =
      typeof v.streamWindowS === 'string'
        ? numberFlag('--stream-window', v.streamWindowS, { min: 0.5, max: 600 })
        : undefined;
    return {
      kind: 'run',
      options: {
        isQuick: v.isQuick === true,
        runs,
        streamWindowS,
        jsonOut: typeof v.jsonOut === 'string' ? v.jsonOut : undefined,
        proxyRoot: typeof v.proxyRoot === 'string' ? v.proxyRoot : undefined,
        baseRoot: typeof v.baseRoot === 'string' ? v.baseRoot : undefined,
        only: onlies[0]?.[0],
        isOverloadSkipped: v.isOverloadSkipped === true,
        isLongSkipped: v.isLongSkipped === true,
        bundles: typeof v.bundles === 'string' ? v.bundles : undefined,
        nginx: typeof v.nginx === 'string' ? v.nginx : undefined,
      },
    };
  } catch (err) {
    if (err instanceof CliError) return { kind: 'error', message: err.message };
    throw err;
  }
}

export async function runBenchProxyCommand(argv: string[]): Promise<number> {
  const args = parseBenchProxyArgs(argv);
  switch (args.kind) {
    case 'error':
      process.stderr.write(usageErrorLine('bench-proxy', args.message));
      return 2;
    case 'help':
      process.stdout.write(formatHelp(BENCH_PROXY_COMMAND));
      return 0;
    case 'run':
      return runProxyBench(args.options);
  }
}
