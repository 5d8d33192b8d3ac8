// The config draft on disk (<dataDir>/draft.json), so a backend restart keeps what the user was editing:
// written atomically (temp file, fsync, rename), removed when the draft is discarded or applied. A file
// that does not read back as a draft is set aside (draft.json.bad) and reported, never silently used.
// Layer: core.

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { ConfigDraft } from '../../../shared/model/cluster-state';
import { writeFileAtomic } from '../fs/atomic-write';

const DRAFT_FILE = 'draft.json';

function isDraft(v: unknown): v is ConfigDraft {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  const files = d.files;
  const isFiles =
    typeof files === 'object' &&
    files !== null &&
    Object.values(files).every((t) => typeof t === 'string');
  const base = d.baseTopologyVersion;
  return (
    isFiles &&
    (base === null || Number.isInteger(base)) &&
    Array.isArray(d.issues) &&
    typeof d.updatedAtMs === 'number'
  );
}

/** Reads and writes the draft of one data dir; keeps the current one in memory. */
export class DraftStore {
  private readonly path: string;
  private draft: ConfigDraft | null;

  constructor(
    dataDir: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.path = join(dataDir, DRAFT_FILE);
    this.draft = this.load();
  }

  /** The current draft (null: none). */
  current(): ConfigDraft | null {
    return this.draft;
  }

  private load(): ConfigDraft | null {
    if (!existsSync(this.path)) return null;
    try {
      const value: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      if (isDraft(value)) return value;
      throw new Error('it is not a draft (files, baseTopologyVersion, issues, updatedAtMs)');
    } catch (err) {
      renameSync(this.path, `${this.path}.bad`);
      this.log(
        `${this.path} is unreadable and was moved to ${DRAFT_FILE}.bad: ${err instanceof Error ? err.message : String(err)}`,
      );
      return null;
    }
  }

  /** Saves the draft, or removes the file for null. */
  async save(draft: ConfigDraft | null): Promise<void> {
    if (draft === null) rmSync(this.path, { force: true });
    else await writeFileAtomic(this.path, JSON.stringify(draft, null, 2) + '\n', 0o600);
    this.draft = draft;
  }
}
