// The topology files as they would be after adding one worker, so the Add worker panel can run the backend's
// cross-file pre-flight (topology:validate) before anything starts. console.yaml is edited as a YAML
// Document, so its comments stay. Layer: renderer (pure).

import { isSeq, parseDocument } from 'yaml';

import type { TopologyFiles } from '../../shared/model/topology';
import type { WorkerAddRequest } from '../../shared/model/worker-view';

/** A port for the pre-flight when the user left it blank: the first one from 8001 not used in the topology. */
export function candidatePort(files: TopologyFiles): number {
  const used = new Set<number>();
  for (const m of (files['console.yaml'] ?? '').matchAll(/^\s*port:\s*(\d+)/gm)) {
    used.add(Number(m[1]));
  }
  let port = 8001;
  while (used.has(port)) port += 1;
  return port;
}

/** The index the new worker gets in console.yaml's `workers` list (for issues about it). */
export function newWorkerIndex(files: TopologyFiles): number {
  const doc = parseDocument(files['console.yaml'] ?? '');
  const workers = doc.get('workers', true);
  return isSeq(workers) ? workers.items.length : 0;
}

/** Files with the worker added to console.yaml (and disagg_config.yaml urls) and its options file next to it. */
export function filesWithWorker(
  files: TopologyFiles,
  request: WorkerAddRequest & { id: string },
  optionsYaml: string,
): TopologyFiles {
  const optionsFile = `${request.id}.yaml`;
  const doc = parseDocument(files['console.yaml'] ?? 'cluster_mode: static\nworkers: []\n');
  const entry: Record<string, unknown> = {
    name: request.id,
    role: request.role,
    gpus: request.gpus,
    host: request.host ?? 'localhost',
    port: request.port ?? candidatePort(files),
    model: request.model,
    engine: request.engine,
    backend: request.backend ?? 'pytorch',
    options_file: optionsFile,
  };
  const workers = doc.get('workers', true);
  if (isSeq(workers)) workers.add(doc.createNode(entry));
  else doc.set('workers', doc.createNode([entry]));
  const out: TopologyFiles = {
    ...files,
    'console.yaml': doc.toString({ lineWidth: 0 }),
    [optionsFile]: optionsYaml,
  };
  // Static membership (protocol 3.2): the backend lists the new worker in disagg_config.yaml `urls`; do the same
  // here so the pre-flight judges the topology as it will be.
  const disagg = files['disagg_config.yaml'];
  if (disagg !== undefined) {
    const d = parseDocument(disagg);
    const section = request.role === 'context' ? 'context_servers' : 'generation_servers';
    const urls = d.getIn([section, 'urls'], true);
    if (isSeq(urls)) {
      urls.add(d.createNode(`${String(entry.host)}:${String(entry.port)}`));
      // num_instances must equal the number of urls (protocol 3.2).
      if (typeof d.getIn([section, 'num_instances']) === 'number') {
        d.setIn([section, 'num_instances'], urls.items.length);
      }
      out['disagg_config.yaml'] = d.toString({ lineWidth: 0 });
    }
  }
  return out;
}
