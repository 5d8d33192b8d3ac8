// The `disagg-console` command line: dispatches to one module per subcommand. Layer: core (plain Node).
// Each subcommand's module is loaded only when it runs: a sim worker then starts without compiling the
// proxy, the console and the benchmarks, and a broken module cannot take the other subcommands down.

import { nearestName } from '../core/cli-args';

interface Subcommand {
  summary: string;
  run: (args: string[]) => Promise<number | undefined>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: {
    summary: 'Run the console headless: prints the console URL (with its token) and the proxy URL.',
    run: async (args) => (await import('./serve-command')).runServeCommand(args),
  },
  proxy: {
    summary:
      'Run the disaggregated proxy: a drop-in for `trtllm-serve disaggregated` (same files and flags).',
    run: async (args) => (await import('./proxy-command')).runProxyCommand(args),
  },
  bench: {
    summary:
      'Load test an OpenAI endpoint (benchmark_serving flags and result fields), with sweeps.',
    run: async (args) => (await import('./bench-command')).runBenchCommand(args),
  },
  'bench-proxy': {
    summary:
      'Benchmark the proxy against zero-delay workers, a direct connection, a bare relay and nginx.',
    run: async (args) => (await import('./bench-proxy-command')).runBenchProxyCommand(args),
  },
  'sim-worker': {
    summary:
      'Run a simulated trtllm-serve worker (same flags, same HTTP API). Simulated: no GPU is used.',
    run: async (args) => (await import('./sim-worker-command')).runSimWorkerCommand(args),
  },
};

function usage(): string {
  const lines = ['Usage: disagg-console <subcommand> [options]', '', 'Subcommands:'];
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) {
    lines.push(`  ${name.padEnd(12)} ${sub.summary}`);
  }
  lines.push('', 'Run `disagg-console <subcommand> --help` for the options of one subcommand.');
  return lines.join('\n');
}

/** One line: "disagg-console: unknown subcommand 'prxy'; did you mean 'proxy'? (disagg-console --help ...)". */
export function unknownSubcommandLine(name: string): string {
  const nearest = nearestName(name, Object.keys(SUBCOMMANDS));
  const hint = nearest === undefined ? '' : `; did you mean '${nearest}'?`;
  return `disagg-console: unknown subcommand '${name}'${hint} (disagg-console --help lists them)\n`;
}

/** Runs the command line and resolves with the exit code (undefined while a server keeps running). */
export async function runCli(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 1 : 0;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    process.stderr.write(unknownSubcommandLine(name));
    return 2;
  }
  return sub.run(rest);
}
