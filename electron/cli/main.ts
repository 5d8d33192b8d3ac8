// The `disagg-console` command line: dispatches to one module per subcommand. Layer: core (plain Node).
import { runBenchCommand } from './bench-command';
import { runBenchProxyCommand } from './bench-proxy-command';
import { runProxyCommand } from './proxy-command';
import { runServeCommand } from './serve-command';
import { runSimWorkerCommand } from './sim-worker-command';

interface Subcommand {
  summary: string;
  run: (args: string[]) => Promise<number | undefined>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: {
    summary: 'Run the console headless: prints the console URL (with its token) and the proxy URL.',
    run: runServeCommand,
  },
  proxy: {
    summary: 'Run the disaggregated proxy: a drop-in for `trtllm-serve disaggregated` (same files and flags).',
    run: runProxyCommand,
  },
  bench: {
    summary: 'Load test an OpenAI endpoint (benchmark_serving flags and result fields), with sweeps.',
    run: runBenchCommand,
  },
  'bench-proxy': {
    summary: 'Benchmark the proxy against zero-delay workers, a direct connection, a bare relay and nginx.',
    run: runBenchProxyCommand,
  },
  'sim-worker': {
    summary: 'Run a simulated trtllm-serve worker (same flags, same HTTP API). Simulated: no GPU is used.',
    run: runSimWorkerCommand,
  },
};

function usage(): string {
  const lines = ['Usage: disagg-console <subcommand> [options]', '', 'Subcommands:'];
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(12)} ${sub.summary}`);
  lines.push('', 'Run `disagg-console <subcommand> --help` for the options of one subcommand.');
  return lines.join('\n');
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
    process.stderr.write(`disagg-console: unknown subcommand '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return sub.run(rest);
}
