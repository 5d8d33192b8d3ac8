// The data dir lock with real processes: refused while the holder lives (naming its URL and pid), taken over
// when the holder is gone or its pid now belongs to another process, released only while it is still ours, and
// of several processes racing for one dir exactly one gets it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  acquireDataDirLock,
  LOCK_FILE,
  type LockHolder,
  readLockHolder,
} from '../../../electron/core/lifecycle/data-dir-lock';
import { isProcessAlive, readProcessIdentity } from '../../../electron/core/supervisor/pid-file';
import { startSleeper } from './serve-kit';

const TAKE_LOCK = resolve(import.meta.dirname, '../../fixtures/take-lock.mjs');
let dir = '';
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-lock-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function writeHolder(holder: Omit<LockHolder, 'kind'>): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
}

describe('data dir lock', () => {
  it('is taken on a free dir with pid and start time, records the URL, and is removed on release', async () => {
    const lock = await acquireDataDirLock(dir);
    expect(lock.tookOverFrom).toBeNull();
    expect(readLockHolder(lock.path)).toMatchObject({
      pid: process.pid,
      startTime: readProcessIdentity(process.pid)?.startTime,
      url: null,
    });
    await lock.setUrl('http://127.0.0.1:4321');
    expect(readLockHolder(lock.path)?.url).toBe('http://127.0.0.1:4321');
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('refuses while the holder lives, naming its URL and pid, and leaves its lock as it was', async () => {
    const first = await startSleeper();
    cleanups.push(first.stop);
    writeHolder({
      pid: first.pid,
      startTime: readProcessIdentity(first.pid)?.startTime ?? null,
      url: 'http://127.0.0.1:5555',
      acquiredAtMs: 1,
    });
    const before = readFileSync(join(dir, LOCK_FILE), 'utf8');
    const err = await acquireDataDirLock(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DATA_DIR_LOCKED',
      details: { pid: first.pid, url: 'http://127.0.0.1:5555' },
    });
    expect((err as Error).message).toContain('http://127.0.0.1:5555');
    expect((err as Error).message).toContain(`pid ${first.pid}`);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(before);
  });

  it('takes over a lock whose process is gone, saying so', async () => {
    const dead = await startSleeper();
    const startTime = readProcessIdentity(dead.pid)?.startTime ?? null;
    await dead.stop();
    writeHolder({ pid: dead.pid, startTime, url: 'http://127.0.0.1:5556', acquiredAtMs: 1 });
    const said: string[] = [];
    const lock = await acquireDataDirLock(dir, { log: (m) => said.push(m) });
    cleanups.push(() => lock.release());
    expect(lock.tookOverFrom?.pid).toBe(dead.pid);
    expect(said.join('\n')).toMatch(
      new RegExp(`pid ${dead.pid} \\(http://127.0.0.1:5556\\): that process is gone`),
    );
    expect(readLockHolder(lock.path)?.pid).toBe(process.pid);
  });

  it('takes over a lock whose pid was reused by another process, without touching that process', async () => {
    const other = await startSleeper();
    cleanups.push(other.stop);
    writeHolder({ pid: other.pid, startTime: '1', url: null, acquiredAtMs: 1 });
    const said: string[] = [];
    const lock = await acquireDataDirLock(dir, { log: (m) => said.push(m) });
    cleanups.push(() => lock.release());
    expect(said.join('\n')).toContain('its pid now belongs to another process');
    expect(isProcessAlive(other.pid)).toBe(true);
  });

  it('release leaves a lock that another console took over', async () => {
    const lock = await acquireDataDirLock(dir);
    const other = await startSleeper();
    cleanups.push(other.stop);
    writeHolder({
      pid: other.pid,
      startTime: readProcessIdentity(other.pid)?.startTime ?? null,
      url: null,
      acquiredAtMs: 2,
    });
    lock.release();
    expect(readLockHolder(join(dir, LOCK_FILE))?.pid).toBe(other.pid);
  });

  it('a lock file that stays unreadable is replaced (a console that died between create and write)', async () => {
    writeFileSync(join(dir, LOCK_FILE), '');
    const said: string[] = [];
    // Its age is what tells "being written" from "abandoned": pretend three seconds passed.
    const lock = await acquireDataDirLock(dir, {
      log: (m) => said.push(m),
      now: () => Date.now() + 3000,
    });
    cleanups.push(() => lock.release());
    expect(said.join('\n')).toContain('unreadable');
    expect(readLockHolder(lock.path)?.pid).toBe(process.pid);
  });

  it('of four processes racing for one dir, exactly one gets the lock', async () => {
    const racers: ChildProcess[] = [];
    const answers = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<string>((resolveAnswer, reject) => {
            const child = spawn(process.execPath, [TAKE_LOCK, dir], {
              stdio: ['pipe', 'pipe', 'inherit'],
            });
            racers[i] = child;
            cleanups.push(async () => {
              child.stdin?.end();
              if (child.exitCode === null && child.signalCode === null) {
                await new Promise((r) => child.once('exit', r));
              }
            });
            const timer = setTimeout(() => reject(new Error(`racer ${i} did not answer`)), 30_000);
            child.stdout?.once('data', (c: Buffer) => {
              clearTimeout(timer);
              resolveAnswer(c.toString().trim());
            });
          }),
      ),
    );
    expect(answers.filter((a) => a === 'got')).toHaveLength(1);
    expect(answers.filter((a) => a === 'refused DATA_DIR_LOCKED')).toHaveLength(3);
    const winner = racers[answers.indexOf('got')];
    expect(readLockHolder(join(dir, LOCK_FILE))?.pid).toBe(winner?.pid);
  });
});
