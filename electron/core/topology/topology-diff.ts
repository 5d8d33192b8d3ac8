// Per-file unified diff between two versions of a topology (feature K5). Layer: core (pure code).

import type { FileDiff, TopologyFiles } from '../../../shared/model/topology';
import { unifiedDiff } from './line-diff';

/** One FileDiff per file present in either version, sorted by name (console.yaml and disagg_config.yaml first). */
export function diffTopologyFiles(
  from: TopologyFiles,
  to: TopologyFiles,
  labels: { from: string; to: string } = { from: 'a', to: 'b' },
): FileDiff[] {
  const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort(compareFileNames);
  return names.map((file): FileDiff => {
    const a = from[file];
    const b = to[file];
    const aName = a === undefined ? '/dev/null' : `${labels.from}/${file}`;
    const bName = b === undefined ? '/dev/null' : `${labels.to}/${file}`;
    const unified = unifiedDiff(a ?? '', b ?? '', { aName, bName });
    const status =
      a === undefined ? 'added' : b === undefined ? 'removed' : a === b ? 'unchanged' : 'changed';
    return { file, status, unified: status === 'unchanged' ? '' : unified };
  });
}

const FIRST = ['console.yaml', 'disagg_config.yaml', 'metadata_config.yaml'];

function compareFileNames(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? FIRST.length : ia) - (ib < 0 ? FIRST.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}
