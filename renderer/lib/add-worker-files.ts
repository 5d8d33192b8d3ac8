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

/** Files with the worker added to console.yaml and its options file written next to it. */
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
  return { ...files, 'console.yaml': doc.toString({ lineWidth: 0 }), [optionsFile]: optionsYaml };
}
