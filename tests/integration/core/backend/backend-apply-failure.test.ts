// A failed apply leaves the previous topology running and says why: a new worker whose binary is missing,
// and a changed worker that cannot start again (its old run is brought back).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { AppError } from '../../../../shared/api/envelope';
import { type BackendHarness, MODEL, startTestBackend } from './backend-kit';

let h: BackendHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const states = async (hh: BackendHarness): Promise<string[]> =>
  (await hh.client.invoke('workers:list')).map((w) => `${w.id}:${w.status.state}`).sort();

describe('failed applies', () => {
  it('keeps the previous topology running when a new or changed worker cannot start', async () => {
    h = await startTestBackend({ isDemo: true });
    const hh = h;
    await expect
      .poll(() => states(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0:ready', 'gen0:ready']);
    // A confirmed trtllm-serve that has since disappeared (settings refuse a path that is missing when set).
    const binary = join(hh.dataDir, 'trtllm-serve');
    writeFileSync(binary, '#!/bin/sh\n', { mode: 0o755 });
    await hh.client.invoke('settings:set', { trtllmServePath: binary, confirmExecutable: true });
    rmSync(binary);

    const added = await failure(
      hh.client.invoke('workers:add', {
        role: 'generation',
        gpus: [2],
        model: MODEL,
        engine: 'trtllm-serve',
      }),
    );
    expect(added.code).toBe('WORKER_START_FAILED');
    expect(added.message).toMatch(/previous topology keeps running.*gen1.*not found/s);
    expect(await states(hh)).toEqual(['ctx0:ready', 'gen0:ready']);
    expect((await hh.client.invoke('topology:history')).map((v) => v.version)).toEqual([1]);

    // Changing gen0 to the missing binary: gen0 is swapped back to its old simulated run.
    const view = await hh.client.invoke('topology:get');
    const files = {
      ...view.files,
      'console.yaml': (view.files['console.yaml'] ?? '').replace(
        /(name: gen0[\s\S]*?engine: )simulated/,
        '$1trtllm-serve',
      ),
    };
    expect(files['console.yaml']).not.toEqual(view.files['console.yaml']);
    const changed = await failure(hh.client.invoke('topology:apply', files));
    expect(changed.code).toBe('WORKER_START_FAILED');
    await expect
      .poll(() => states(hh), { timeout: 20_000, interval: 100 })
      .toEqual(['ctx0:ready', 'gen0:ready']);
    const gen0 = (await hh.client.invoke('workers:list')).find((w) => w.id === 'gen0');
    expect(gen0?.spec?.engine).toBe('simulated');
    expect((await hh.client.invoke('topology:get')).files['console.yaml']).toBe(
      view.files['console.yaml'],
    );
  }, 60_000);
});
