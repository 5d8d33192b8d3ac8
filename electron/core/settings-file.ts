// The console settings file (<dataDir>/settings.json), written atomically (fs/atomic-write.ts), so a crash
// mid-write leaves the previous settings. Layer: core.
import { writeFileAtomicSync } from './fs/atomic-write';

/** Writes value as pretty JSON to path atomically, readable by the user only. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, 2) + '\n', 0o600);
}
