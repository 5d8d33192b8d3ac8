// An alias bomb ("billion laughs") and an oversized file on every YAML entry point (issue #15 item 5): the
// console API answers with a validation issue in a 400-class envelope (never 500/INTERNAL), and the proxy
// command's -c/-m and the simulated worker's option files exit 1 with a located message, not a stack trace.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ApiServer, startApiServer } from '../../../electron/core/http/api-server';
import { DEFAULT_YAML_LIMITS } from '../../../shared/logic/yaml-guard';
import { billionLaughs } from '../../helpers/hostile-yaml';
import { runCliToExit } from '../../helpers/run-cli';
import { type BackendHarness, MODEL, startTestBackend } from '../core/backend/backend-kit';

const BOMB_MESSAGE = /aliases expand too far|too many aliases/;
const CONSOLE_YAML = `cluster_mode: static\nworkers:\n  - name: gen0\n    role: generation\n    gpus: [0]\n    port: 18001\n    model: ${MODEL}\n    engine: simulated\n    options_file: gen0.yaml\n`;
const DISAGG_YAML =
  'hostname: localhost\nport: 18000\ncontext_servers:\n  num_instances: 1\n  urls: ["localhost:18002"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:18001"]\n';

let h: BackendHarness;
let server: ApiServer;
let dir: string;

beforeAll(async () => {
  h = await startTestBackend();
  server = await startApiServer({ backend: h.backend, log: () => undefined });
  dir = mkdtempSync(join(tmpdir(), 'yaml-entry-'));
});

afterAll(async () => {
  await server.close();
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: {
    ok: boolean;
    value?: unknown;
    error?: {
      code: string;
      message: string;
      details?: { issues?: { file: string; message: string }[] };
    };
  };
}

async function call(channel: string, ...args: unknown[]): Promise<Answer> {
  const res = await fetch(`${server.url}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}` },
    body: JSON.stringify(args),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const filesWith = (file: string, text: string): Record<string, string> => ({
  'console.yaml': CONSOLE_YAML,
  'disagg_config.yaml': DISAGG_YAML,
  'gen0.yaml': 'disable_overlap_scheduler: true\n',
  [file]: text,
});

const hostile: [string, () => string, RegExp][] = [
  ['an alias bomb', billionLaughs, BOMB_MESSAGE],
  [
    'an oversized file',
    () => `# ${'x'.repeat(DEFAULT_YAML_LIMITS.maxChars)}\n`,
    /file is too large/,
  ],
];

describe.each(hostile)('%s through the console API', (_name, text, message) => {
  it.each(['console.yaml', 'disagg_config.yaml', 'metadata_config.yaml', 'gen0.yaml'])(
    'topology:apply with it as %s is 400 CONFIG_INVALID naming the file',
    async (file) => {
      const r = await call('topology:apply', filesWith(file, text()));
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe('CONFIG_INVALID');
      expect(
        r.body.error?.details?.issues?.some((i) => i.file === file && message.test(i.message)),
      ).toBe(true);
    },
  );

  it.each(['console.yaml', 'disagg_config.yaml', 'metadata_config.yaml', 'gen0.yaml'])(
    'topology:validate with it as %s reports the issue',
    async (file) => {
      const r = await call('topology:validate', filesWith(file, text()));
      expect(r.status).toBe(200);
      const report = r.body.value as { ok: boolean; issues: { file: string; message: string }[] };
      expect(report.ok).toBe(false);
      expect(report.issues.some((i) => i.file === file && message.test(i.message))).toBe(true);
    },
  );

  it('topology:import answers with the issue, never INTERNAL', async () => {
    const r = await call('topology:import', { 'disagg_config.yaml': text(), 'ctx.yaml': text() });
    expect(r.status).toBeLessThan(500);
    const issues = r.body.ok
      ? (r.body.value as { issues: { message: string }[] }).issues
      : (r.body.error?.details?.issues ?? []);
    expect(issues.some((i) => message.test(i.message))).toBe(true);
  });

  it('workers:add with it as the options file is refused as invalid (400)', async () => {
    const r = await call('workers:add', {
      role: 'generation',
      gpus: [1],
      model: MODEL,
      engine: 'simulated',
      optionsYaml: text(),
    });
    expect(r.status).toBe(400);
    // The argument validator's own length bound may answer first for the oversized text.
    expect(['CONFIG_INVALID', 'INVALID_ARGUMENT']).toContain(r.body.error?.code);
  });
});

describe('an alias bomb in the files of the command-line entry points', () => {
  const bombFile = (): string => {
    const path = join(dir, 'bomb.yaml');
    writeFileSync(path, billionLaughs());
    return path;
  };

  it('proxy -c: exit 1 with the located issue', async () => {
    const r = await runCliToExit('proxy', ['-c', bombFile()], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bomb\.yaml:1:1 YAML: aliases expand too far/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('proxy -m: exit 1 with the located issue', async () => {
    const config = join(dir, 'disagg.yaml');
    writeFileSync(config, DISAGG_YAML);
    const r = await runCliToExit('proxy', ['-c', config, '-m', bombFile()], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bomb\.yaml:1:1 YAML: aliases expand too far/);
  });

  it.each([['--extra_llm_api_options'], ['--metadata_server_config_file']])(
    'sim-worker %s: exit 1 with the located issue',
    async (flag) => {
      const r = await runCliToExit(
        'sim-worker',
        ['m', '--server_role', 'GENERATION', flag, bombFile()],
        { env: { DISAGG_SIM_LOAD_MS: '0', CUDA_VISIBLE_DEVICES: '0' }, timeoutMs: 20_000 },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bomb\.yaml:1:1 YAML: aliases expand too far/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );
});
