// The desktop app takes the same data dir lock as `serve` (issue #15 item 3): electron/main.ts calls
// claimDataDirForDesktop and, when refused, shows the refusal and quits. Tested here under plain Node with
// real processes holding the lock; a real `serve` is refused by a lock the desktop app holds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ENDPOINT_FILE } from '../../../electron/core/lifecycle/console-endpoint';
import {
  LOCK_FILE,
  type LockHolder,
  readLockHolder,
} from '../../../electron/core/lifecycle/data-dir-lock';
import { claimDataDirForDesktop } from '../../../electron/core/lifecycle/desktop-claim';
import { readProcessIdentity } from '../../../electron/core/supervisor/pid-file';
import { startServe, startSleeper } from './serve-kit';

let dir = '';
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-desktop-lock-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A live process (a sleeper) recorded as the holder of dir's lock. */
async function liveHolder(over: Partial<LockHolder>): Promise<LockHolder> {
  const sleeper = await startSleeper();
  cleanups.push(sleeper.stop);
  const holder: LockHolder = {
    pid: sleeper.pid,
    startTime: readProcessIdentity(sleeper.pid)?.startTime ?? null,
    url: null,
    acquiredAtMs: 1,
    kind: 'headless',
    ...over,
  };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
  return holder;
}

const TOKEN = 'tok_abcdefghijklmnopqrstuvwxyz';

describe('the desktop app and the data dir lock', () => {
  it('takes a free dir as the desktop app and releases it', async () => {
    const claim = await claimDataDirForDesktop(join(dir, 'not-yet-created'));
    expect(claim.ok).toBe(true);
    if (!claim.ok) return;
    expect(readLockHolder(claim.lock.path)).toMatchObject({ pid: process.pid, kind: 'desktop' });
    claim.lock.release();
    expect(readLockHolder(claim.lock.path)).toBeNull();
  });

  it('is refused by a running serve and offers its page with the token of the dir', async () => {
    const holder = await liveHolder({ url: 'http://127.0.0.1:5555' });
    writeFileSync(join(dir, ENDPOINT_FILE), JSON.stringify({ port: 5555, token: TOKEN }));
    const before = readLockHolder(join(dir, LOCK_FILE));
    const claim = await claimDataDirForDesktop(dir);
    expect(claim.ok).toBe(false);
    if (claim.ok) return;
    expect(claim.refusal.openUrl).toBe(`http://127.0.0.1:5555/?token=${TOKEN}`);
    expect(claim.refusal.message).toContain('http://127.0.0.1:5555');
    expect(claim.refusal.detail).toContain(`pid ${holder.pid}`);
    // The holder's lock is left exactly as it was.
    expect(readLockHolder(join(dir, LOCK_FILE))).toEqual(before);
  });

  it('offers the bare URL when the endpoint file names another port', async () => {
    await liveHolder({ url: 'http://127.0.0.1:5555' });
    writeFileSync(join(dir, ENDPOINT_FILE), JSON.stringify({ port: 6000, token: TOKEN }));
    const claim = await claimDataDirForDesktop(dir);
    expect(!claim.ok && claim.refusal.openUrl).toBe('http://127.0.0.1:5555');
  });

  it('names another desktop app, with nothing to open', async () => {
    const holder = await liveHolder({ kind: 'desktop' });
    const claim = await claimDataDirForDesktop(dir);
    expect(claim.ok).toBe(false);
    if (claim.ok) return;
    expect(claim.refusal.openUrl).toBeNull();
    expect(claim.refusal.message).toContain('Another Disagg Console window');
    expect(claim.refusal.detail).toContain(`desktop app (pid ${holder.pid})`);
  });

  it('takes over the lock of a desktop app that died', async () => {
    const sleeper = await startSleeper();
    const startTime = readProcessIdentity(sleeper.pid)?.startTime ?? null;
    await sleeper.stop();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: sleeper.pid, startTime, url: null, acquiredAtMs: 1, kind: 'desktop' }),
    );
    const claim = await claimDataDirForDesktop(dir);
    expect(claim.ok && claim.lock.tookOverFrom?.pid).toBe(sleeper.pid);
    if (claim.ok) claim.lock.release();
  });

  it('refuses a serve on the dir while the desktop app holds it', async () => {
    const holder = await liveHolder({ kind: 'desktop' });
    const serve = startServe(dir);
    cleanups.push(async () => {
      if (serve.proc.exitCode === null && serve.proc.signalCode === null) {
        serve.proc.kill('SIGKILL');
      }
      await serve.exited;
    });
    const exit = await Promise.race([
      serve.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('serve did not exit')), 60_000)),
    ]);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(serve.stderr()).toContain(`the Disagg Console desktop app (pid ${holder.pid})`);
  }, 70_000);
});
