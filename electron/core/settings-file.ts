// The console settings file (<dataDir>/settings.json), written atomically: temp file, fsync, rename, so a
// crash mid-write leaves the previous settings. Layer: core.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Writes value as pretty JSON to path atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
