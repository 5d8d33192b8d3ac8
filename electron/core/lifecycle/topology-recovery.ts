// After a crash the topology's current files can lag behind its newest version, or be half-rewritten: an
// apply writes the version folder (atomically, as a whole) first, then runs the workers, then copies the files
// into the current folder one by one. The version folder is the record of what was applied last, so on start
// the current files are made equal to it again (rolled forward: a removal the user asked for stays done).
// Layer: core.
import type { TopologyFiles } from '../../../shared/model/topology';
import type { TopologyStore } from '../topology/topology-store';

function sameFiles(a: TopologyFiles, b: TopologyFiles): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((n) => b[n] === a[n]);
}

/** Rewrites the current files from the newest version when they differ; returns that version, or null. */
export async function recoverCurrentTopology(
  store: TopologyStore,
  log: (message: string) => void,
): Promise<number | null> {
  const latest = await store.latestVersion();
  if (latest === null) return null;
  const [version, current] = await Promise.all([store.readVersion(latest), store.readCurrent()]);
  if (sameFiles(version, current)) return null;
  log(
    `the current topology files differ from version ${latest}, the last one applied (the console stopped during an apply); restoring them from that version`,
  );
  await store.writeCurrent(version);
  return latest;
}
