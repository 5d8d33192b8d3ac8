// The one atomic-write helper, async and sync alike: the target holds the old or the new bytes, the
// mode is the one asked for, and no temp file is left behind, also when the rename fails.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeFileAtomic, writeFileAtomicSync } from '../../../../electron/core/fs/atomic-write';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const writers = [
  ['async', (p: string, d: string | Uint8Array, mode?: number) => writeFileAtomic(p, d, mode)],
  [
    'sync',
    // The same test shape for both: a throw of the sync writer becomes a rejection.
    (p: string, d: string | Uint8Array, mode?: number) =>
      new Promise<void>((resolve) => {
        writeFileAtomicSync(p, d, mode);
        resolve();
      }),
  ],
] as const;

describe.each(writers)('writeFileAtomic (%s)', (_name, write) => {
  it('creates, then replaces, with nothing else left in the directory', async () => {
    const target = join(dir, 'settings.json');
    await write(target, '{"a":1}\n');
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n');
    writeFileSync(join(dir, 'unrelated'), 'x');
    await write(target, Buffer.from('{"a":2}\n'));
    expect(readFileSync(target, 'utf8')).toBe('{"a":2}\n');
    expect(readdirSync(dir).sort()).toEqual(['settings.json', 'unrelated']);
  });

  it('writes a large body whole', async () => {
    const target = join(dir, 'big');
    const body = 'x'.repeat(3 * 1024 * 1024 + 7);
    await write(target, body);
    expect(statSync(target).size).toBe(body.length);
  });

  it('uses the mode asked for', async () => {
    const target = join(dir, 'secret');
    await write(target, 'k', 0o600);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('a failed rename leaves the target as it was and no temp file', async () => {
    const target = join(dir, 'is-a-dir');
    mkdirSync(join(target, 'child'), { recursive: true });
    await expect(write(target, 'data')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['is-a-dir']);
    expect(readdirSync(target)).toEqual(['child']);
  });
});
