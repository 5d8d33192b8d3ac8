// Which programs the console may run as `trtllm-serve` (issue #15 item 6): a settings change that points
// trtllmServePath at an executable the user has not confirmed is not applied; it answers CONFIRMATION_REQUIRED
// with the executable's real path and SHA-256, and only a second settings:set carrying `confirmExecutable`
// adds it to the persisted list. A confirmed entry matches by real path and content, so a symlink to a
// confirmed file is fine while a file replaced at the same path needs a new confirmation. Layer: core.

import { createHash } from 'node:crypto';
import { constants, createReadStream, readFileSync, realpathSync } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

import { AppError } from '../../shared/api/envelope';
import type {
  ConfirmedExecutable,
  ConsoleSettings,
  ConsoleSettingsPatch,
  ExecutableConfirmationDetails,
  ExecutableIdentity,
} from '../../shared/model/settings';

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where `path` really is and what it holds; INVALID_ARGUMENT when it is not an executable file. */
export async function executableIdentity(path: string): Promise<ExecutableIdentity> {
  const refuse = (why: string): AppError =>
    new AppError('INVALID_ARGUMENT', `trtllmServePath ${JSON.stringify(path)} ${why}`, {
      field: 'trtllmServePath',
      path,
    });
  // A relative path would depend on the directory the console happened to start in.
  if (!isAbsolute(path)) {
    throw refuse('must be an absolute path (leave it blank to find trtllm-serve on PATH)');
  }
  const realPath = await realpath(path).catch(() => null);
  if (realPath === null) throw refuse('does not exist');
  const info = await stat(realPath);
  if (!info.isFile()) throw refuse(`is not a regular file (it resolves to ${realPath})`);
  const isExecutable = await access(realPath, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!isExecutable) throw refuse(`is not executable (${realPath} lacks the execute permission)`);
  return { path, realPath, sha256: await sha256OfFile(realPath), sizeBytes: info.size };
}

/**
 * Checked at every spawn of a worker that runs a binary (not the simulated worker): `command` must be an
 * executable the user confirmed, with the same real path and content as when they did, or this throws
 * CONFIRMATION_REQUIRED (details: ExecutableConfirmationDetails) and nothing is started. So a file replaced
 * after confirmation, or a path that reached the topology without settings:set (console.yaml's binaryPath,
 * an import), does not run unseen. A bare name (`trtllm-serve`, found on the worker's PATH) is the one case
 * settings:set needs no confirmation for either, and is not checked here.
 */
export async function assertConfirmedAtSpawn(
  command: string,
  confirmed: readonly ConfirmedExecutable[],
): Promise<void> {
  if (!command.includes('/')) return;
  // A missing file runs nothing: the spawn's own "not found" says more than a refusal would.
  if (isAbsolute(command) && (await realpath(command).catch(() => null)) === null) return;
  let id: ExecutableIdentity;
  try {
    id = await executableIdentity(command);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    throw new AppError('CONFIRMATION_REQUIRED', `refusing to run ${err.message}`, {
      kind: 'executable',
      path: command,
    });
  }
  if (isConfirmed(confirmed, id)) return;
  const earlier = confirmed.find((e) => e.realPath === id.realPath);
  const why =
    earlier === undefined
      ? 'is not a confirmed trtllm-serve executable'
      : `changed since it was confirmed (sha256 ${earlier.sha256.slice(0, 16)}…, ${earlier.sizeBytes} bytes then; ${id.sha256.slice(0, 16)}…, ${id.sizeBytes} bytes now)`;
  const details: ExecutableConfirmationDetails = { kind: 'executable', ...id };
  throw new AppError(
    'CONFIRMATION_REQUIRED',
    `refusing to start a worker with ${id.realPath}: it ${why}; choose it again in Settings and confirm it`,
    { ...details },
  );
}

function isConfirmed(list: readonly ConfirmedExecutable[], id: ExecutableIdentity): boolean {
  return list.some((e) => e.realPath === id.realPath && e.sha256 === id.sha256);
}

/**
 * The settings after `patch`, or a throw: CONFIRMATION_REQUIRED (details: ExecutableConfirmationDetails) for
 * a new trtllmServePath nobody confirmed, INVALID_ARGUMENT for one that is not an executable file. A patch
 * that leaves trtllmServePath as it is, or sets it blank (PATH lookup), needs no confirmation.
 */
export async function settingsAfterPatch(
  current: ConsoleSettings,
  patch: ConsoleSettingsPatch,
  nowMs: number,
): Promise<ConsoleSettings> {
  const { confirmExecutable, ...changes } = patch;
  const next: ConsoleSettings = {
    ...current,
    ...changes,
    // Neither list is writable through the API (the patch type excludes them; this holds against a cast).
    confirmedExecutables: current.confirmedExecutables,
    allowedHosts: current.allowedHosts,
  };
  const path = changes.trtllmServePath;
  if (path === undefined || path === null || path === current.trtllmServePath) return next;
  const id = await executableIdentity(path);
  if (isConfirmed(current.confirmedExecutables, id)) return next;
  if (confirmExecutable !== true) {
    const details: ExecutableConfirmationDetails = { kind: 'executable', ...id };
    throw new AppError(
      'CONFIRMATION_REQUIRED',
      `workers would run ${id.realPath} (sha256 ${id.sha256.slice(0, 16)}…, ${id.sizeBytes} bytes) as trtllm-serve; confirm that you trust this program`,
      { ...details },
    );
  }
  return {
    ...next,
    confirmedExecutables: [...current.confirmedExecutables, { ...id, confirmedAtMs: nowMs }],
  };
}

/**
 * The confirmed list of settings read from disk. A file written before confirmation existed has no list; the
 * trtllmServePath it holds was typed by the user into the settings, so that one executable counts as confirmed.
 */
export function confirmedListFromDisk(
  raw: { confirmedExecutables?: unknown; trtllmServePath?: unknown },
  nowMs: number,
): ConfirmedExecutable[] {
  if (raw.confirmedExecutables !== undefined) {
    return Array.isArray(raw.confirmedExecutables)
      ? (raw.confirmedExecutables as unknown[]).filter(isConfirmedEntry)
      : [];
  }
  if (typeof raw.trtllmServePath !== 'string') return [];
  const path = raw.trtllmServePath;
  try {
    const realPath = realpathSync(path);
    const bytes = readFileSync(realPath);
    return [
      {
        path,
        realPath,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sizeBytes: bytes.length,
        confirmedAtMs: nowMs,
      },
    ];
  } catch {
    // Missing or unreadable: nothing to confirm; choosing it again goes through the confirmation.
    return [];
  }
}

function isConfirmedEntry(v: unknown): v is ConfirmedExecutable {
  const e = v as Partial<ConfirmedExecutable> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.path === 'string' &&
    typeof e.realPath === 'string' &&
    typeof e.sha256 === 'string' &&
    typeof e.sizeBytes === 'number' &&
    typeof e.confirmedAtMs === 'number'
  );
}
