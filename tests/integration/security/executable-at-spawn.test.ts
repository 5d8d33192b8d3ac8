// The trtllm-serve executable is confirmed at every spawn, not only when settings change (issue #15 item 6):
// the supervisor, wired as the backend wires it (checkExecutable over the confirmed list), refuses with
// CONFIRMATION_REQUIRED and starts nothing when the binary was never confirmed or its content changed since;
// a confirmed, unchanged binary (the fake trtllm-serve, copied so the test may change it) starts and serves.
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  assertConfirmedAtSpawn,
  settingsAfterPatch,
} from '../../../electron/core/executable-allowlist';
import { DEFAULT_SETTINGS } from '../../../electron/core/settings-service';
import { createLogStore, type LogStore } from '../../../electron/core/supervisor/log-store';
import {
  createNodeProcessLauncher,
  type ProcessLauncher,
} from '../../../electron/core/supervisor/process-launcher';
import {
  createWorkerSupervisor,
  type WorkerSupervisor,
} from '../../../electron/core/supervisor/worker-supervisor';
import type { ConfirmedExecutable } from '../../../shared/model/settings';
import { appErrorOf } from '../../helpers/app-error';
import { getFreePort } from '../../helpers/free-port';
import { workerSpec } from '../../helpers/worker-spec';

const FAKE = resolve(import.meta.dirname, '../../fixtures/fake-trtllm-serve/trtllm-serve');

let dir = '';
let binary = '';
let logs: LogStore;
let sup: WorkerSupervisor | null = null;
let confirmed: ConfirmedExecutable[] = [];
let launches = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-exe-spawn-'));
  binary = join(dir, 'trtllm-serve');
  copyFileSync(FAKE, binary);
  logs = createLogStore({ dir: join(dir, 'logs') });
  confirmed = [];
  launches = 0;
});

afterEach(async () => {
  await sup?.dispose();
  sup = null;
  logs.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A supervisor checking executables against `confirmed` at each spawn, counting real launches. */
function make(): WorkerSupervisor {
  const real = createNodeProcessLauncher();
  const counting: ProcessLauncher = {
    launch(req) {
      launches++;
      return real.launch(req);
    },
  };
  sup = createWorkerSupervisor({
    logStore: logs,
    launcher: counting,
    policy: { readyTimeoutMs: 15_000, probeIntervalMs: 100, killTimeoutMs: 3000, maxRestarts: 0 },
    commandOptions: { baseEnv: process.env, nodeBinary: process.execPath, cliScript: FAKE },
    checkExecutable: (command) => assertConfirmedAtSpawn(command, confirmed),
  });
  return sup;
}

/** Confirms `path` the way settings:set does after the user's yes. */
async function confirm(path: string): Promise<void> {
  const next = await settingsAfterPatch(
    { ...DEFAULT_SETTINGS, confirmedExecutables: confirmed },
    { trtllmServePath: path, confirmExecutable: true },
    1,
  );
  confirmed = next.confirmedExecutables;
}

describe('executable confirmed at every spawn', () => {
  it('refuses a binary nobody confirmed: CONFIRMATION_REQUIRED, nothing launched, worker errored', async () => {
    const s = make();
    s.add(workerSpec({ port: await getFreePort(), binaryPath: binary }));
    const err = await appErrorOf(s.start('ctx0'));
    expect(err.code).toBe('CONFIRMATION_REQUIRED');
    expect(err.message).toContain('is not a confirmed trtllm-serve executable');
    expect(err.details).toMatchObject({ kind: 'executable', realPath: binary });
    expect(launches).toBe(0);
    expect(s.status('ctx0')).toMatchObject({ state: 'errored', pid: null });
    expect(s.status('ctx0').message).toContain(binary);
    expect(logs.search('ctx0', { text: 'refusing to start' })).toHaveLength(1);
  });

  it('starts a confirmed binary, and refuses it once its content changed, until confirmed again', async () => {
    await confirm(binary);
    const s = make();
    s.add(workerSpec({ port: await getFreePort(), binaryPath: binary }));
    await s.start('ctx0');
    await s.waitFor('ctx0', ['ready'], 20_000);
    expect(launches).toBe(1);
    await s.stop('ctx0');

    appendFileSync(binary, '\n// replaced after confirmation\n');
    const err = await appErrorOf(s.start('ctx0'));
    expect(err.code).toBe('CONFIRMATION_REQUIRED');
    expect(err.message).toContain('changed since it was confirmed');
    expect(launches).toBe(1);
    expect(s.status('ctx0').state).toBe('errored');

    await confirm(binary);
    await s.start('ctx0');
    await s.waitFor('ctx0', ['ready'], 20_000);
    expect(launches).toBe(2);
  }, 60_000);

  it('accepts a symlink to a confirmed binary (matched by real path and content)', async () => {
    await confirm(binary);
    const link = join(dir, 'link-to-serve');
    symlinkSync(binary, link);
    await expect(assertConfirmedAtSpawn(link, confirmed)).resolves.toBeUndefined();
  });

  it('refuses a relative path and a non-executable; leaves a bare name to PATH, a missing file to the spawn', async () => {
    const relative = await appErrorOf(assertConfirmedAtSpawn('bin/trtllm-serve', confirmed));
    expect(relative.code).toBe('CONFIRMATION_REQUIRED');
    expect(relative.message).toContain('must be an absolute path');
    const notExecutable = join(dir, 'plain.txt');
    copyFileSync(FAKE, notExecutable);
    chmodSync(notExecutable, 0o644);
    expect((await appErrorOf(assertConfirmedAtSpawn(notExecutable, confirmed))).message).toContain(
      'is not executable',
    );
    await expect(assertConfirmedAtSpawn('trtllm-serve', [])).resolves.toBeUndefined();
    // Missing: nothing would run; the launcher's ENOENT becomes "not found" (backend-apply-failure.test.ts).
    await expect(assertConfirmedAtSpawn(join(dir, 'nope'), [])).resolves.toBeUndefined();
  });

  it('never checks the simulated worker (the console runs its own Node)', async () => {
    const s = make();
    s.add(workerSpec({ port: await getFreePort(), engine: 'simulated' }));
    // cliScript is the fake binary here, which serves /health like the sim worker would.
    await s.start('ctx0');
    expect(launches).toBe(1);
  });
});
