import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { writeFileAtomic } from '../../../../electron/core/fs/atomic-write';
import { TopologyStore } from '../../../../electron/core/topology/topology-store';
import { AppError } from '../../../../shared/api/envelope';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'topo-store-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file behind', async () => {
    const path = join(dataDir, 'x.yaml');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dataDir)).toEqual(['x.yaml']);
  });

  it('leaves the old file intact when the write cannot complete', async () => {
    const path = join(dataDir, 'sub', 'x.yaml');
    await expect(writeFileAtomic(path, 'new')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('TopologyStore', () => {
  it('keeps the current files in <dataDir>/topologies/<name> and drops files no longer listed', async () => {
    const store = new TopologyStore({ dataDir, name: 'lab' });
    expect(await store.readCurrent()).toEqual({});
    await store.writeCurrent({ 'console.yaml': 'a', 'ctx.yaml': 'c' });
    await store.writeCurrent({ 'console.yaml': 'b', 'gen.yaml': 'g' });
    expect(await store.readCurrent()).toEqual({ 'console.yaml': 'b', 'gen.yaml': 'g' });
    expect(readdirSync(join(dataDir, 'topologies', 'lab')).sort()).toEqual([
      'console.yaml',
      'gen.yaml',
    ]);
  });

  it.each(['../x.yaml', '.hidden', 'a/b.yaml', 'meta.json'])(
    'refuses the file name %s',
    async (name) => {
      const store = new TopologyStore({ dataDir });
      await expect(store.writeCurrent({ [name]: 'x' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    },
  );

  it('numbers versions, keeps every one, and lists them newest first', async () => {
    let t = 1000;
    const store = new TopologyStore({ dataDir, now: () => t++ });
    expect(await store.addVersion({ 'console.yaml': 'v1' }, 'apply')).toBe(1);
    expect(await store.addVersion({ 'console.yaml': 'v2', 'gen.yaml': 'g' }, 'rollback to 1')).toBe(
      2,
    );
    expect(await store.listVersions()).toEqual([
      {
        version: 2,
        appliedAtMs: 1001,
        note: 'rollback to 1',
        fileNames: ['console.yaml', 'gen.yaml'],
      },
      { version: 1, appliedAtMs: 1000, note: 'apply', fileNames: ['console.yaml'] },
    ]);
    expect(await store.readVersion(1)).toEqual({ 'console.yaml': 'v1' });
    expect(readFileSync(join(store.versionDir(2), 'gen.yaml'), 'utf8')).toBe('g');
  });

  it('ignores a half-written version folder left by a crash', async () => {
    const store = new TopologyStore({ dataDir });
    await store.addVersion({ 'console.yaml': 'v1' }, 'apply');
    mkdirSync(join(store.dir, 'versions', '.tmp-2-abcd'));
    mkdirSync(join(store.dir, 'versions', '7'));
    expect((await store.listVersions()).map((v) => v.version)).toEqual([1]);
    expect(await store.latestVersion()).toBe(1);
    expect(await store.addVersion({ 'console.yaml': 'v2' }, 'apply')).toBe(2);
    expect(await store.latestVersion()).toBe(2);
  });

  it('has no latest version before the first one', async () => {
    expect(await new TopologyStore({ dataDir }).latestVersion()).toBeNull();
  });

  it('answers NOT_FOUND for a version that does not exist', async () => {
    const store = new TopologyStore({ dataDir });
    const err = await store.readVersion(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'topology version 3 does not exist' });
  });
});
