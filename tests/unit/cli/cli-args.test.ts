// The one argument parser of every subcommand (electron/core/cli-args.ts): flag forms, spellings, list
// flags, one-line errors with the nearest flag, and --help generated from the same table; then each
// subcommand's table through it.
import { describe, expect, it } from 'vitest';

import { BENCH_COMMAND, parseBenchArgs } from '../../../electron/cli/bench-command';
import { parseProxyArgs, PROXY_COMMAND } from '../../../electron/cli/proxy-command';
import { parseServeArgs, SERVE_COMMAND } from '../../../electron/cli/serve-command';
import {
  choiceFlag,
  CliError,
  type CommandSpec,
  formatHelp,
  nearestName,
  numberFlag,
  parseFlags,
  portFlag,
} from '../../../electron/core/cli-args';
import { parseServeArgs as parseSimArgs } from '../../../electron/sim/sim-cli-args';

type Key = 'config' | 'port' | 'apiKey' | 'isDemo' | 'goodput' | 'maxConcurrency';

const SPEC: CommandSpec<Key> = {
  usage: 'Usage: t [options]',
  groups: [
    {
      title: 'Flags',
      flags: [
        {
          key: 'config',
          names: ['-c', '--config_file'],
          takes: 'value',
          metavar: 'FILE',
          help: 'the file',
        },
        { key: 'port', names: ['--port'], takes: 'value', help: 'a port' },
        { key: 'apiKey', names: ['--api-key'], takes: 'value', help: 'a key' },
        { key: 'isDemo', names: ['--demo'], takes: 'switch', help: 'demo' },
        { key: 'goodput', names: ['--goodput'], takes: 'list', metavar: 'KEY:MS', help: 'SLOs' },
        {
          key: 'maxConcurrency',
          names: ['--max-concurrency', '--max_concurrency_alias'],
          takes: 'value',
          help: 'limit',
        },
      ],
    },
  ],
};

function ok(argv: string[]): {
  values: Record<string, unknown>;
  positionals: string[];
  isHelp: boolean;
} {
  const r = parseFlags(SPEC, argv);
  if (!r.ok) throw new Error(r.message);
  return r;
}

function error(argv: string[]): string {
  const r = parseFlags(SPEC, argv);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(argv)}`);
  return r.message;
}

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('parseFlags', () => {
  it.each([
    [['--port=8000'], { port: '8000' }],
    [['--port', '8000'], { port: '8000' }],
    [['--api-key=a=b'], { apiKey: 'a=b' }],
    [['--api-key='], { apiKey: '' }],
    [['-c', 'x.yaml'], { config: 'x.yaml' }],
    [['--config_file=x.yaml'], { config: 'x.yaml' }],
    [['--port', '1', '--port', '2'], { port: '2' }],
    [['--max_concurrency_alias', '3'], { maxConcurrency: '3' }],
    [['--demo'], { isDemo: true }],
    [['--goodput', 'ttft:1', 'tpot:2', '--demo'], { goodput: ['ttft:1', 'tpot:2'], isDemo: true }],
    [['--goodput=ttft:1', '--goodput', 'e2el:3'], { goodput: ['ttft:1', 'e2el:3'] }],
  ])('%j', (argv, values) => {
    expect(ok(argv).values).toEqual(values);
  });

  it('--help and -h', () => {
    expect(ok(['--help']).isHelp).toBe(true);
    expect(ok(['--port', '1', '-h']).isHelp).toBe(true);
  });

  it.each([
    [['--max-concurency', '3'], 'unknown flag --max-concurency; did you mean --max-concurrency?'],
    [['--max_concurrency', '3'], 'unknown flag --max_concurrency; did you mean --max-concurrency?'],
    [['--prot', '3'], 'unknown flag --prot; did you mean --port?'],
    [['--completely-different'], 'unknown flag --completely-different'],
    [['-x'], 'unknown flag -x'],
    [['--port'], '--port needs a value'],
    [['-c'], '-c needs a value'],
    [['--goodput'], '--goodput needs at least one value'],
    [['--demo=yes'], '--demo takes no value'],
    [['stray'], "unexpected argument 'stray'"],
  ])('%j -> %s', (argv, message) => {
    expect(error(argv)).toBe(message);
  });

  it('positionals when the command takes them, and -- ends the flags', () => {
    const r = parseFlags({ ...SPEC, allowPositionals: true }, ['m', '--port', '1', '--', '--demo']);
    expect(r.ok && r.positionals).toEqual(['m', '--demo']);
  });

  it('nearestName suggests only near misses', () => {
    const names = ['--max-concurrency', '--max-queue', '--port'];
    expect(nearestName('--max-queu', names)).toBe('--max-queue');
    expect(nearestName('--max_queue', names)).toBe('--max-queue');
    expect(nearestName('--queue', names)).toBeUndefined();
    expect(nearestName('--max-concurrency=5', names)).toBe('--max-concurrency');
  });
});

describe('values', () => {
  it('numbers, ports and choices: one line naming the flag and the value', () => {
    expect(numberFlag('--rate', 'inf', { min: 0, allowInf: true })).toBe(Infinity);
    expect(numberFlag('--n', ' 4 ', { min: 1, isInteger: true })).toBe(4);
    expect(thrown(() => numberFlag('--n', '1.5', { min: 1, isInteger: true }))).toBe(
      "--n expects an integer >= 1, got '1.5'",
    );
    expect(thrown(() => numberFlag('--t', '', { min: 0 }))).toBe(
      "--t expects a number >= 0, got ''",
    );
    expect(thrown(() => numberFlag('--t', 'inf', { min: 0 }))).toBe(
      "--t expects a number >= 0, got 'inf'",
    );
    expect(thrown(() => portFlag('--port', '65536', true))).toBe(
      "--port expects an integer from 0 to 65535, got '65536'",
    );
    expect(thrown(() => portFlag('--port', '0', false))).toBe(
      "--port expects an integer from 1 to 65535, got '0'",
    );
    expect(thrown(() => choiceFlag('--backend', 'onnx', ['openai', 'openai-chat']))).toBe(
      "--backend must be one of openai, openai-chat, got 'onnx'",
    );
  });
});

describe('every subcommand reads its flags through parseFlags', () => {
  it.each([
    ['proxy', PROXY_COMMAND],
    ['bench', BENCH_COMMAND],
    ['serve', SERVE_COMMAND],
  ] as const)('%s: --help lists every spelling of every flag', (_name, spec) => {
    const help = formatHelp(spec);
    for (const group of spec.groups) {
      for (const flag of group.flags) for (const n of flag.names) expect(help).toContain(n);
    }
    expect(help).toContain('--help');
  });

  it('a typo gets the nearest flag, in one line, from each subcommand', () => {
    const proxy = parseProxyArgs(['-c', 'a.yaml', '--max-concurency', '4']);
    expect(!proxy.ok && proxy.message).toBe(
      'unknown flag --max-concurency; did you mean --max-concurrency?',
    );
    const bench = parseBenchArgs(['--model', 'm', '--request_rate', '4'], {});
    expect(bench.kind === 'error' && bench.message).toBe(
      'unknown flag --request_rate; did you mean --request-rate?',
    );
    const serve = parseServeArgs(['--data-dri', '/tmp/x'], {});
    expect(!serve.ok && serve.message).toBe('unknown flag --data-dri; did you mean --data-dir?');
    const sim = parseSimArgs(['m', '--max_batch_sze', '4']);
    expect(sim.kind === 'error' && sim.message).toBe(
      'No such option: --max_batch_sze Did you mean --max_batch_size?',
    );
  });

  it('upstream spellings are kept: trtllm-serve disaggregated and benchmark_serving', () => {
    const proxy = parseProxyArgs([
      '--config_file',
      'a.yaml',
      '--server_start_timeout',
      '5',
      '--request_timeout',
      '7',
      '--log_level',
      'debug',
    ]);
    expect(proxy.ok && proxy.args).toMatchObject({
      configFile: 'a.yaml',
      startTimeoutS: 5,
      requestTimeoutS: 7,
      logLevel: 'debug',
    });
    const bench = parseBenchArgs(
      [
        '--model',
        'm',
        '--num-prompts',
        '5',
        '--max-concurrency',
        '2',
        '--random-input-len',
        '10',
        '--goodput',
        'ttft:100',
        'tpot:20',
      ],
      {},
    );
    expect(bench.kind === 'ok' && bench.args.options).toMatchObject({
      numPrompts: 5,
      maxConcurrency: 2,
      goodput: { ttft: 100, tpot: 20 },
    });
  });

  it('serve: a bad port is one clear line', () => {
    const r = parseServeArgs(['--port', 'abc'], {});
    expect(!r.ok && r.message).toBe("--port expects an integer from 0 to 65535, got 'abc'");
  });
});
