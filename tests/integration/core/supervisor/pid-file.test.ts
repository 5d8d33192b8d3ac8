// The pid file and leftover handling with real processes: identity by /proc start time, stop only what is ours.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  checkProcess,
  createPidFile,
  isProcessAlive,
  type PidFileRecord,
  readLeftovers,
  readProcessIdentity,
  stopLeftover,
} from '../../../../electron/core/supervisor/pid-file';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-pid-'));
});
afterEach(() => {
  for (const c of children.splice(0)) {
    if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

const sleeperCode = (isDeaf: boolean): string =>
  `${isDeaf ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1000); process.stdout.write('up');`;
/** The command line sleeper() launches. */
const sleeperCommand = (isDeaf = false): string[] => [process.execPath, '-e', sleeperCode(isDeaf)];

/** A detached sleeper in its own process group, like a worker; optionally deaf to SIGTERM. */
async function sleeper(isDeaf = false): Promise<number> {
  const [command, ...args] = sleeperCommand(isDeaf) as [string, ...string[]];
  const c = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  // "up" comes after the SIGTERM handler is installed.
  await new Promise((r) => c.stdout?.once('data', r));
  c.stdout?.destroy();
  return c.pid ?? -1;
}

describe('pid file', () => {
  it('reads a process identity from /proc', () => {
    const id = readProcessIdentity(process.pid);
    expect(id?.cmdline[0]).toBe(process.execPath);
    expect(Number(id?.startTime)).toBeGreaterThan(0);
    expect(readProcessIdentity(2 ** 22 + 12345)).toBeNull();
  });

  it('tells running, gone and reused pids apart', async () => {
    const pid = await sleeper();
    const identity = readProcessIdentity(pid);
    expect(checkProcess(pid, identity)).toBe('running');
    expect(checkProcess(pid, identity && { ...identity, startTime: '1' })).toBe('reused');
    expect(checkProcess(pid, null)).toBe('unverifiable');
    expect(checkProcess(pid, identity, sleeperCommand())).toBe('running');
    // Same pid and start time but another command line: not the recorded worker.
    expect(checkProcess(pid, identity, ['node', '-e', 'something else'])).toBe('reused');
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(checkProcess(pid, identity)).toBe('gone');
  });

  it('writes atomically, lists leftovers of a crashed console, and is removed on a clean exit', async () => {
    const pid = await sleeper();
    const path = join(dir, 'console.pid.json');
    expect(readLeftovers(path)).toBeNull();
    const file = createPidFile(path, () => 5);
    file.update([{ id: 'ctx0', pid, host: '127.0.0.1', port: 8001, command: sleeperCommand() }]);
    const record = JSON.parse(readFileSync(path, 'utf8')) as PidFileRecord;
    expect(record).toMatchObject({
      consolePid: process.pid,
      writtenAtMs: 5,
      workers: [{ id: 'ctx0', pid, port: 8001, command: sleeperCommand() }],
    });
    expect(readLeftovers(path)?.workers).toEqual([expect.objectContaining({ state: 'running' })]);
    file.remove();
    expect(readLeftovers(path)).toBeNull();
  });

  it('sees that the console which wrote the file is still alive', async () => {
    const other = await sleeper();
    const path = join(dir, 'console.pid.json');
    const record: PidFileRecord = {
      consolePid: other,
      consoleIdentity: readProcessIdentity(other),
      writtenAtMs: 1,
      workers: [],
    };
    writeFileSync(path, JSON.stringify(record));
    expect(readLeftovers(path)?.consoleAlive).toBe(true);
  });

  it('stopLeftover: SIGTERM for a well-behaved process, SIGKILL for a deaf one, never a reused pid', async () => {
    const polite = await sleeper();
    const deaf = await sleeper(true);
    const entry = (pid: number, isDeaf = false) => ({
      id: 'w',
      pid,
      host: 'h',
      port: 1,
      command: sleeperCommand(isDeaf),
      identity: readProcessIdentity(pid),
    });
    const politeEntry = entry(polite);
    expect(
      await stopLeftover(
        {
          ...politeEntry,
          identity: politeEntry.identity && { ...politeEntry.identity, startTime: '1' },
        },
        300,
      ),
    ).toBe('not-ours');
    expect(await stopLeftover({ ...politeEntry, command: ['node', 'other.js'] }, 300)).toBe(
      'not-ours',
    );
    expect(isProcessAlive(polite)).toBe(true);
    expect(await stopLeftover(politeEntry, 3000)).toBe('stopped');
    expect(await stopLeftover(entry(deaf, true), 300)).toBe('killed');
    await new Promise((r) => setTimeout(r, 100));
    expect(isProcessAlive(deaf)).toBe(false);
    expect(await stopLeftover(politeEntry, 300)).toBe('gone');
  });
});
