// One console per data dir (issues #12, #15 item 3): `<dataDir>/console.lock` names the console that owns the
// dir (pid, the process start time from /proc, its URL once it listens). It is created with O_EXCL, so of two
// consoles starting at once exactly one gets it; a lock whose pid is dead, or alive with another start time
// (the pid was reused), is stale and taken over, saying so. The lock is removed on release only while it is
// still ours, so stopping a console that was refused never touches the first one's files. Layer: core (Linux
// /proc for start times; elsewhere a live pid counts as the holder).
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { AppError } from '../../../shared/api/envelope';
import { writeFileAtomic } from '../fs/atomic-write';
import { isProcessAlive, readProcessIdentity } from '../supervisor/pid-file';

export const LOCK_FILE = 'console.lock';
/** A takeover marker older than this belongs to a console that died while taking over. */
const TAKEOVER_STALE_MS = 10_000;

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat; null where /proc is missing. */
  startTime: string | null;
  /** The console's URL (without its token), null while it is still starting. */
  url: string | null;
  acquiredAtMs: number;
  /** Which console holds it: the desktop app has no URL to name, `serve` has one once it listens. */
  kind: ConsoleKind;
}

/** The two ways a console runs; a lock written before this field existed reads as 'headless'. */
export type ConsoleKind = 'desktop' | 'headless';

/** A held data-dir lock. */
export interface DataDirLock {
  readonly path: string;
  /** The stale holder this console took the lock over from, null when the dir was free. */
  readonly tookOverFrom: LockHolder | null;
  /** Records the URL the console listens on, so a refused second console can name it. */
  setUrl(url: string): Promise<void>;
  /** Removes the lock if it is still ours; idempotent. */
  release(): void;
}

export interface AcquireLockOptions {
  log?: (message: string) => void;
  now?: () => number;
  /** Default 'headless'. */
  kind?: ConsoleKind;
}

function holderOf(pid: number, now: number, kind: ConsoleKind = 'headless'): LockHolder {
  return {
    pid,
    startTime: readProcessIdentity(pid)?.startTime ?? null,
    url: null,
    acquiredAtMs: now,
    kind,
  };
}

/** The holder in the lock file, null when it is missing or not (yet) readable. */
export function readLockHolder(path: string): LockHolder | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    return {
      pid: v.pid,
      startTime: typeof v.startTime === 'string' ? v.startTime : null,
      url: typeof v.url === 'string' ? v.url : null,
      acquiredAtMs: typeof v.acquiredAtMs === 'number' ? v.acquiredAtMs : 0,
      kind: v.kind === 'desktop' ? 'desktop' : 'headless',
    };
  } catch {
    return null;
  }
}

/** Whether the recorded holder is still the same live process (pid alive and same start time). */
export function isHolderAlive(holder: LockHolder): boolean {
  if (!isProcessAlive(holder.pid)) return false;
  const now = readProcessIdentity(holder.pid);
  // Without /proc (or a recorded start time) a live pid has to count as the holder: refusing is the safe side.
  if (now === null || holder.startTime === null) return true;
  return now.startTime === holder.startTime;
}

/** Creates `path` only if it does not exist, with the holder written and flushed; false when it exists. */
function createExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function ageMs(path: string, now: number): number | null {
  try {
    return now - statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function lockedError(dataDir: string, holder: LockHolder): AppError {
  const who =
    holder.kind === 'desktop'
      ? `the Disagg Console desktop app (pid ${holder.pid})`
      : `another console (pid ${holder.pid}) ${holder.url === null ? 'which is still starting' : `at ${holder.url}`}`;
  return new AppError(
    'DATA_DIR_LOCKED',
    `${who} already uses the data dir ${dataDir}; open that one, stop it first, or start this one with another --data-dir`,
    { pid: holder.pid, url: holder.url, dataDir, kind: holder.kind },
  );
}

/**
 * Removes a stale lock under a takeover marker (itself O_EXCL), re-reading the lock inside it, so two consoles
 * that both found the same stale lock cannot both remove it and each create their own.
 */
function removeStaleLock(path: string, stale: LockHolder, now: number): boolean {
  const marker = `${path}.takeover`;
  const markerAge = ageMs(marker, now);
  if (markerAge !== null && markerAge > TAKEOVER_STALE_MS) rmSync(marker, { force: true });
  if (!createExclusive(marker, holderOf(process.pid, now))) return false;
  try {
    const again = readLockHolder(path);
    if (again === null || again.pid !== stale.pid || again.startTime !== stale.startTime) {
      return false;
    }
    rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

/**
 * Takes the data dir's lock, or throws DATA_DIR_LOCKED naming the console that holds it. A lock file that
 * cannot be parsed is treated as being written right now for a short while, then as stale.
 */
export async function acquireDataDirLock(
  dataDir: string,
  opts: AcquireLockOptions = {},
): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const mine = holderOf(process.pid, now(), opts.kind);
  let tookOverFrom: LockHolder | null = null;
  // Each pass either creates the lock, refuses, or removes one stale lock; a few passes cover the races.
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(path, mine)) return heldLock(path, mine, tookOverFrom);
    const holder = readLockHolder(path);
    if (holder === null) {
      const age = ageMs(path, now());
      if (age !== null && age < 2000) {
        // Another console created it and has not written it yet (open then write is not one step).
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      log(`the lock file ${path} is unreadable; taking it over`);
      rmSync(path, { force: true });
      continue;
    }
    if (holder.pid === mine.pid && holder.startTime === mine.startTime) {
      return heldLock(path, holder, tookOverFrom);
    }
    if (isHolderAlive(holder)) throw lockedError(dataDir, holder);
    if (removeStaleLock(path, holder, now())) {
      tookOverFrom = holder;
      const why = isProcessAlive(holder.pid)
        ? 'its pid now belongs to another process'
        : 'that process is gone';
      log(
        `taking over the data dir lock of console pid ${holder.pid}${holder.url ? ` (${holder.url})` : ''}: ${why}`,
      );
    } else {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new AppError(
    'DATA_DIR_LOCKED',
    `could not take the lock ${path}: it keeps changing (several consoles starting at once?)`,
    { dataDir },
  );
}

function heldLock(path: string, holder: LockHolder, tookOverFrom: LockHolder | null): DataDirLock {
  let current = holder;
  let isReleased = false;
  const isStillOurs = (): boolean => {
    const onDisk = readLockHolder(path);
    return onDisk !== null && onDisk.pid === holder.pid && onDisk.startTime === holder.startTime;
  };
  return {
    path,
    tookOverFrom,
    async setUrl(url) {
      if (isReleased || !isStillOurs()) return;
      current = { ...current, url };
      // Replaced, not rewritten in place: a reader never sees a half-written holder.
      await writeFileAtomic(path, JSON.stringify(current) + '\n', 0o600);
    },
    release() {
      if (isReleased) return;
      isReleased = true;
      if (isStillOurs()) rmSync(path, { force: true });
    },
  };
}
