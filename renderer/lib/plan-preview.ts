// What Apply will do, shown before the user confirms (feature K5): workers to start, restart and stop,
// computed from console.yaml and each worker's options file in the applied and the edited files. The backend
// computes the authoritative plan when it applies; this preview uses the same rule (a worker whose entry or
// options text changed restarts). Layer: renderer (pure).

import { readYamlValue } from '../../shared/logic/yaml-guard';
import type { ApplyPlan, TopologyFiles } from '../../shared/model/topology';

const CONSOLE_FILE = 'console.yaml';
const PROXY_FILES = ['disagg_config.yaml', 'metadata_config.yaml'];

interface Entry {
  json: string;
  optionsFile: string | null;
}

function workerEntries(files: TopologyFiles): Map<string, Entry> | null {
  const text = files[CONSOLE_FILE];
  if (text === undefined) return new Map();
  const read = readYamlValue(text, CONSOLE_FILE, { version: '1.2' });
  if (!read.ok) return null;
  const root = read.value;
  const out = new Map<string, Entry>();
  const workers = (root as { workers?: unknown } | null)?.workers;
  if (!Array.isArray(workers)) return out;
  for (const w of workers as unknown[]) {
    if (typeof w !== 'object' || w === null) continue;
    const name = (w as { name?: unknown }).name;
    if (typeof name !== 'string') continue;
    const optionsFile = (w as { options_file?: unknown }).options_file;
    out.set(name, {
      json: JSON.stringify(w),
      optionsFile: typeof optionsFile === 'string' ? optionsFile : null,
    });
  }
  return out;
}

/** The plan of applying `next` over `applied` (null when console.yaml cannot be read: validation says why). */
export function previewApplyPlan(applied: TopologyFiles, next: TopologyFiles): ApplyPlan | null {
  const before = workerEntries(applied);
  const after = workerEntries(next);
  if (!before || !after) return null;
  const plan: ApplyPlan = { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false };
  for (const [name, entry] of after) {
    const old = before.get(name);
    if (!old) plan.start.push(name);
    else if (
      old.json !== entry.json ||
      (entry.optionsFile !== null && applied[entry.optionsFile] !== next[entry.optionsFile])
    ) {
      plan.restart.push(name);
    } else plan.unchanged.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) plan.stop.push(name);
  plan.proxyChanged = PROXY_FILES.some((f) => applied[f] !== next[f]);
  return plan;
}
