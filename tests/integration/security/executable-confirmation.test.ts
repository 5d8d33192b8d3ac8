// Workers run only executables the user confirmed (issue #15 item 6): a new trtllmServePath answers
// CONFIRMATION_REQUIRED with the real path and hash, a confirmed one is remembered (also across a restart),
// a replaced file needs a new confirmation, and paths that are not executable files are refused outright.

import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  confirmedListFromDisk,
  settingsAfterPatch,
} from '../../../electron/core/executable-allowlist';
import { startApiServer } from '../../../electron/core/http/api-server';
import { DEFAULT_SETTINGS } from '../../../electron/core/settings-service';
import type { ConsoleSettings } from '../../../shared/model/settings';
import { appErrorOf } from '../../helpers/app-error';
import { startTestBackend } from '../core/backend/backend-kit';

let dir: string;
let tool: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exe-confirm-'));
  tool = join(dir, 'trtllm-serve');
  writeFileSync(tool, '#!/bin/sh\necho fake\n');
  chmodSync(tool, 0o755);
  symlinkSync(tool, join(dir, 'link-to-serve'));
  writeFileSync(join(dir, 'plain.txt'), 'not a program');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = (): ConsoleSettings => ({ ...DEFAULT_SETTINGS, confirmedExecutables: [] });

describe('settingsAfterPatch', () => {
  it('asks for confirmation of a new executable, naming its real path and hash', async () => {
    const err = await appErrorOf(
      settingsAfterPatch(fresh(), { trtllmServePath: join(dir, 'link-to-serve') }, 1),
    );
    expect(err.code).toBe('CONFIRMATION_REQUIRED');
    expect(err.details).toEqual({
      kind: 'executable',
      path: join(dir, 'link-to-serve'),
      realPath: tool,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      sizeBytes: 20,
    });
    expect(err.message).toContain(tool);
  });

  it('applies it once confirmed and remembers it by real path and content', async () => {
    const confirmed = await settingsAfterPatch(
      fresh(),
      { trtllmServePath: tool, confirmExecutable: true },
      42,
    );
    expect(confirmed.trtllmServePath).toBe(tool);
    expect(confirmed.confirmedExecutables).toEqual([
      {
        path: tool,
        realPath: tool,
        sha256: expect.any(String) as unknown,
        sizeBytes: 20,
        confirmedAtMs: 42,
      },
    ]);
    expect(confirmed).not.toHaveProperty('confirmExecutable');
    // Back to PATH and then to the same file through a symlink: no new question.
    const viaPath = await settingsAfterPatch(confirmed, { trtllmServePath: null }, 43);
    const viaLink = await settingsAfterPatch(
      viaPath,
      { trtllmServePath: join(dir, 'link-to-serve') },
      44,
    );
    expect(viaLink.trtllmServePath).toBe(join(dir, 'link-to-serve'));
    expect(viaLink.confirmedExecutables).toHaveLength(1);
  });

  it('asks again when the confirmed file was replaced by other content', async () => {
    const other = join(dir, 'swapped');
    writeFileSync(other, '#!/bin/sh\necho one\n');
    chmodSync(other, 0o755);
    const confirmed = await settingsAfterPatch(
      fresh(),
      { trtllmServePath: other, confirmExecutable: true },
      1,
    );
    const away = await settingsAfterPatch(confirmed, { trtllmServePath: null }, 2);
    writeFileSync(other, '#!/bin/sh\necho two; curl evil\n');
    expect((await appErrorOf(settingsAfterPatch(away, { trtllmServePath: other }, 3))).code).toBe(
      'CONFIRMATION_REQUIRED',
    );
  });

  it('needs no confirmation when the path does not change or is cleared', async () => {
    const current = { ...fresh(), trtllmServePath: '/opt/old/trtllm-serve' };
    expect(
      (
        await settingsAfterPatch(
          current,
          { trtllmServePath: '/opt/old/trtllm-serve', proxyPort: 9000 },
          1,
        )
      ).proxyPort,
    ).toBe(9000);
    expect(
      (await settingsAfterPatch(current, { trtllmServePath: null }, 1)).trtllmServePath,
    ).toBeNull();
  });

  it.each([
    ['a relative path', 'bin/trtllm-serve', /must be an absolute path/],
    ['a missing file', '/nonexistent/trtllm-serve', /does not exist/],
    ['a directory', '/tmp', /is not a regular file/],
    ['a file without the execute bit', 'PLAIN', /is not executable/],
  ])('refuses %s with INVALID_ARGUMENT, confirmed or not', async (_name, path, message) => {
    const p = path === 'PLAIN' ? join(dir, 'plain.txt') : path;
    for (const confirmExecutable of [false, true]) {
      const err = await appErrorOf(
        settingsAfterPatch(fresh(), { trtllmServePath: p, confirmExecutable }, 1),
      );
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
  });

  it('treats the path of a settings file from before confirmation existed as confirmed, and ignores a bad list', () => {
    expect(confirmedListFromDisk({ trtllmServePath: tool }, 5)).toEqual([
      {
        path: tool,
        realPath: tool,
        sha256: expect.any(String) as unknown,
        sizeBytes: 20,
        confirmedAtMs: 5,
      },
    ]);
    expect(confirmedListFromDisk({ trtllmServePath: '/nonexistent/x' }, 5)).toEqual([]);
    expect(
      confirmedListFromDisk({ trtllmServePath: tool, confirmedExecutables: 'junk' }, 5),
    ).toEqual([]);
    expect(confirmedListFromDisk({ confirmedExecutables: [{ path: 1 }] }, 5)).toEqual([]);
  });
});

describe('settings:set through the backend and the HTTP API', () => {
  it('answers 409 CONFIRMATION_REQUIRED, then applies and persists the confirmed executable', async () => {
    const h = await startTestBackend();
    const dataDir = h.dataDir;
    const server = await startApiServer({ backend: h.backend, log: () => undefined });
    try {
      const call = (patch: unknown): Promise<Response> =>
        fetch(`${server.url}/api/settings:set`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}` },
          body: JSON.stringify([patch]),
        });
      const asked = await call({ trtllmServePath: tool });
      expect(asked.status).toBe(409);
      expect(await asked.json()).toMatchObject({
        ok: false,
        error: { code: 'CONFIRMATION_REQUIRED', details: { kind: 'executable', realPath: tool } },
      });
      expect((await h.client.invoke('settings:get')).trtllmServePath).toBeNull();

      const smuggled = await call({ confirmedExecutables: [{ path: '/bin/sh' }] });
      expect(smuggled.status).toBe(400);

      expect((await call({ trtllmServePath: tool, confirmExecutable: true })).status).toBe(200);
      expect((await h.client.invoke('settings:get')).trtllmServePath).toBe(tool);
    } finally {
      await server.close();
      await h.backend.dispose();
    }
    const again = await startTestBackend({ dataDir });
    try {
      const settings = await again.client.invoke('settings:get');
      expect(settings.confirmedExecutables.map((e) => e.realPath)).toEqual([tool]);
      // Cleared and chosen again after the restart: still confirmed.
      await again.client.invoke('settings:set', { trtllmServePath: null });
      expect(
        (await again.client.invoke('settings:set', { trtllmServePath: tool })).trtllmServePath,
      ).toBe(tool);
    } finally {
      await again.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
