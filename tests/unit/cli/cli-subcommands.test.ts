// Every `disagg-console` subcommand through runCli (electron/cli/main.ts), as a user meets it: `--help`
// generated from the subcommand's flag table (exit 0), an unknown flag answered in one line naming the
// nearest flag (exit 2), a bad value in one line naming the flag (exit 2), and an unknown subcommand with
// the nearest one. The sim worker speaks click's usage error on purpose (it emulates trtllm-serve). Nothing
// here starts a server: every case ends in the parser.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { runCli } from '../../../electron/cli/main';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const oneLine = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('disagg-console <subcommand>', () => {
  it.each([
    ['serve', '--data-dir'],
    ['proxy', '--config_file'],
    ['bench', '--max-concurrency'],
    ['bench-proxy', '--only-long-prompts'],
    ['sim-worker', '--max_batch_size'],
  ])('%s --help: generated help naming %s, exit 0', async (sub, flag) => {
    expect(await runCli([sub, '--help'])).toBe(0);
    expect(out).toContain(flag);
    expect(out).toMatch(/Usage/);
    expect(err).toBe('');
  });

  it.each([
    ['serve', ['--prot', '1'], 'unknown flag --prot; did you mean --port?'],
    [
      'serve',
      ['--log_level', 'loud'],
      "--log_level must be one of debug, info, warn, error, got 'loud'",
    ],
    [
      'proxy',
      ['-c', 'a.yaml', '--max-concurency', '4'],
      'unknown flag --max-concurency; did you mean --max-concurrency?',
    ],
    ['proxy', ['-c', 'a.yaml', '--request_timeout', 'soon'], '--request_timeout expects a number'],
    ['proxy', ['--log_level', 'debug'], '-c/--config_file is required'],
    [
      'bench',
      ['--model', 'm', '--request_rate', '4'],
      'unknown flag --request_rate; did you mean --request-rate?',
    ],
    ['bench-proxy', ['--qiuck'], 'unknown flag --qiuck; did you mean --quick?'],
    ['bench-proxy', ['--runs', '0'], "--runs expects an integer >= 1, got '0'"],
    [
      'bench-proxy',
      ['--only-overload', '--only-long-prompts'],
      'choose one of --only-overload, --only-long-prompts',
    ],
    [
      'bench-proxy',
      ['--only-streams', '--only-overload'],
      'choose one of --only-overload, --only-streams',
    ],
  ])('%s %j: one line, exit 2', async (sub, args, message) => {
    expect(await runCli([sub, ...args])).toBe(2);
    const lines = oneLine(err);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`disagg-console ${sub}: ${message}`);
    expect(lines[0]).toContain(`disagg-console ${sub} --help`);
    expect(out).toBe('');
  });

  it("sim-worker: click's usage error with the nearest option, exit 2", async () => {
    expect(await runCli(['sim-worker', 'm', '--max_batch_sze', '4'])).toBe(2);
    expect(err).toContain('Error: No such option: --max_batch_sze Did you mean --max_batch_size?');
  });

  it.each([
    ['prxy', "disagg-console: unknown subcommand 'prxy'; did you mean 'proxy'?"],
    ['sevre', "disagg-console: unknown subcommand 'sevre'; did you mean 'serve'?"],
    ['frobnicate', "disagg-console: unknown subcommand 'frobnicate' ("],
  ])('unknown subcommand %s: one line with the nearest, exit 2', async (sub, text) => {
    expect(await runCli([sub])).toBe(2);
    expect(oneLine(err)).toHaveLength(1);
    expect(err).toContain(text);
  });

  it('no subcommand: the list of subcommands on stdout, exit 1; --help exit 0', async () => {
    expect(await runCli([])).toBe(1);
    for (const sub of ['serve', 'proxy', 'bench', 'bench-proxy', 'sim-worker']) {
      expect(out).toContain(`  ${sub} `);
    }
    out = '';
    expect(await runCli(['--help'])).toBe(0);
    expect(out).toContain('Subcommands:');
  });
});
