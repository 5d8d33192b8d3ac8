// The topology store (features K3-K5) on disk: `<dataDir>/topologies/<name>/` holds the current files
// (the upstream files plus console.yaml) and `versions/<n>/` every applied version with a meta.json.
// Writes are atomic per file; a version folder is complete before it is numbered (built under a temp name,
// then renamed), so a crash never leaves half a version. Layer: core.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '../../../shared/api/envelope';
import type { TopologyFiles, TopologyVersionInfo } from '../../../shared/model/topology';
import { fsyncDir, writeFileAtomic } from '../fs/atomic-write';

const META_FILE = 'meta.json';
/** Names a topology file may have: no directories, no dot files (those are the store's own). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const TOPOLOGY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

interface VersionMeta {
  version: number;
  appliedAtMs: number;
  note: string;
  fileNames: string[];
}

/** Options of TopologyStore. */
export interface TopologyStoreOptions {
  dataDir: string;
  /** Default 'default'. */
  name?: string;
  /** Default Date.now. */
  now?: () => number;
}

function checkFileNames(files: TopologyFiles): void {
  for (const name of Object.keys(files)) {
    if (!FILE_NAME.test(name) || name === META_FILE) {
      throw new AppError('INVALID_ARGUMENT', `'${name}' is not a valid topology file name`);
    }
  }
}

async function readFolder(dir: string): Promise<TopologyFiles> {
  const files: TopologyFiles = {};
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isFile() || !FILE_NAME.test(e.name) || e.name === META_FILE) continue;
    files[e.name] = await readFile(join(dir, e.name), 'utf8');
  }
  return files;
}

/** One topology folder: current files, versions, atomic writes. */
export class TopologyStore {
  /** The topology folder. */
  readonly dir: string;
  readonly name: string;
  private readonly now: () => number;

  constructor(opts: TopologyStoreOptions) {
    this.name = opts.name ?? 'default';
    if (!TOPOLOGY_NAME.test(this.name)) {
      throw new AppError('INVALID_ARGUMENT', `'${this.name}' is not a valid topology name`);
    }
    this.dir = join(opts.dataDir, 'topologies', this.name);
    this.now = opts.now ?? Date.now;
  }

  /** The folder of version n (it may not exist). */
  versionDir(version: number): string {
    return join(this.dir, 'versions', String(version));
  }

  /** The current files; {} when the topology was never written. */
  async readCurrent(): Promise<TopologyFiles> {
    try {
      return await readFolder(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  /** Replaces the current files: each written atomically, files not in `files` removed afterwards. */
  async writeCurrent(files: TopologyFiles): Promise<void> {
    checkFileNames(files);
    await mkdir(this.dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await writeFileAtomic(join(this.dir, name), text);
    }
    const existing = await readFolder(this.dir);
    for (const name of Object.keys(existing)) {
      if (!(name in files)) await rm(join(this.dir, name), { force: true });
    }
    await fsyncDir(this.dir);
  }

  /** The version folder numbers, highest first (not yet checked for a meta.json). */
  private async versionNumbers(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'versions'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => /^[1-9][0-9]*$/.test(n))
      .map(Number)
      .sort((a, b) => b - a);
  }

  /** Version n's info; null for a folder without a readable meta.json (not a version, e.g. a foreign folder). */
  private async versionInfo(version: number): Promise<TopologyVersionInfo | null> {
    try {
      const meta = JSON.parse(
        await readFile(join(this.versionDir(version), META_FILE), 'utf8'),
      ) as VersionMeta;
      return { version, appliedAtMs: meta.appliedAtMs, note: meta.note, fileNames: meta.fileNames };
    } catch {
      return null;
    }
  }

  /** Every version, newest first. */
  async listVersions(): Promise<TopologyVersionInfo[]> {
    const out: TopologyVersionInfo[] = [];
    for (const n of await this.versionNumbers()) {
      const info = await this.versionInfo(n);
      if (info) out.push(info);
    }
    return out;
  }

  /** The newest version's number, null when there is none (reads one meta.json, not every version's). */
  async latestVersion(): Promise<number | null> {
    for (const n of await this.versionNumbers()) if (await this.versionInfo(n)) return n;
    return null;
  }

  /** The files of version n; NOT_FOUND when there is none. */
  async readVersion(version: number): Promise<TopologyFiles> {
    const dir = this.versionDir(version);
    const isVersion = await stat(join(dir, META_FILE)).then(
      () => true,
      () => false,
    );
    if (!isVersion) {
      throw new AppError('NOT_FOUND', `topology version ${version} does not exist`, { version });
    }
    return readFolder(dir);
  }

  /**
   * Writes `files` as the next version folder and returns its number. The folder is built under a temp
   * name and renamed into place, so a version either exists completely or not at all.
   */
  async addVersion(files: TopologyFiles, note: string): Promise<number> {
    checkFileNames(files);
    const root = join(this.dir, 'versions');
    await mkdir(root, { recursive: true });
    const latest = (await this.latestVersion()) ?? 0;
    const version = latest + 1;
    const tmp = join(root, `.tmp-${version}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    try {
      for (const [name, text] of Object.entries(files)) {
        await writeFileAtomic(join(tmp, name), text);
      }
      const meta: VersionMeta = {
        version,
        appliedAtMs: this.now(),
        note,
        fileNames: Object.keys(files).sort(),
      };
      await writeFileAtomic(join(tmp, META_FILE), JSON.stringify(meta, null, 2) + '\n');
      await rename(tmp, this.versionDir(version));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    await fsyncDir(root);
    return version;
  }

  /** Deletes a version folder (used when an apply using it failed). */
  async removeVersion(version: number): Promise<void> {
    await rm(this.versionDir(version), { recursive: true, force: true });
  }
}
