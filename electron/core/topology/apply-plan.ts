// The apply plan (feature K3/K5 "apply"): a pure comparison of the running topology with the next one that
// says which workers to start, restart, stop or leave alone, by comparing each worker's console.yaml entry
// and its options as parsed (so a comment-only edit restarts nothing). Layer: core (pure code).

import { CONSOLE_FILE, parseConsoleFile } from '../../../shared/logic/console-file';
import { DISAGG_CONFIG_FILE, METADATA_CONFIG_FILE } from '../../../shared/logic/load-topology';
import { parseYaml } from '../../../shared/logic/yaml-locate';
import type { ApplyPlan, TopologyFiles, TopologyWorker } from '../../../shared/model/topology';

/** What the plan needs of one side: the files (console.yaml must parse). */
export interface PlanInput {
  files: TopologyFiles;
}

/** JSON of a YAML text with sorted keys, or the raw text when it does not parse; undefined when absent. */
export function semanticText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const parsed = parseYaml(text, 'x.yaml');
  if (parsed.issues.some((i) => i.severity === 'error')) return `raw:${text}`;
  return stableJson(parsed.document.toJS());
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function workersOf(files: TopologyFiles): { mode: string; workers: TopologyWorker[] } {
  const text = files[CONSOLE_FILE];
  const r = text === undefined ? null : parseConsoleFile(text);
  return r?.ok
    ? { mode: r.value.clusterMode, workers: r.value.workers }
    : { mode: 'static', workers: [] };
}

/** A worker's launch identity: every console.yaml field (the options file's content is compared separately). */
function workerKey(w: TopologyWorker): string {
  const { optionsFile: _ignored, ...rest } = w;
  return stableJson(rest);
}

/**
 * Compares the running topology (null: nothing runs) with the next one. A worker restarts when its entry,
 * its options or (in metadata mode) metadata_config.yaml changed, or when the membership mode changed,
 * since all of them are on its command line (protocol 1.1, 7).
 */
export function planApply(previous: PlanInput | null, next: PlanInput): ApplyPlan {
  const prev = previous ? workersOf(previous.files) : { mode: 'static', workers: [] };
  const nxt = workersOf(next.files);
  const prevByName = new Map(prev.workers.map((w) => [w.name, w]));
  const nextNames = new Set(nxt.workers.map((w) => w.name));
  const metadataChanged =
    semanticText(previous?.files[METADATA_CONFIG_FILE]) !==
    semanticText(next.files[METADATA_CONFIG_FILE]);
  const plan: ApplyPlan = { start: [], restart: [], stop: [], unchanged: [], proxyChanged: false };
  for (const w of nxt.workers) {
    const old = prevByName.get(w.name);
    if (!old || !previous) {
      plan.start.push(w.name);
      continue;
    }
    const optionsChanged =
      semanticText(w.optionsFile === null ? undefined : next.files[w.optionsFile]) !==
      semanticText(old.optionsFile === null ? undefined : previous.files[old.optionsFile]);
    const changed =
      workerKey(w) !== workerKey(old) ||
      optionsChanged ||
      prev.mode !== nxt.mode ||
      (nxt.mode === 'metadata' && metadataChanged);
    (changed ? plan.restart : plan.unchanged).push(w.name);
  }
  for (const w of prev.workers) if (!nextNames.has(w.name)) plan.stop.push(w.name);
  plan.proxyChanged =
    !previous ||
    semanticText(previous.files[DISAGG_CONFIG_FILE]) !==
      semanticText(next.files[DISAGG_CONFIG_FILE]) ||
    metadataChanged ||
    prev.mode !== nxt.mode;
  return plan;
}
