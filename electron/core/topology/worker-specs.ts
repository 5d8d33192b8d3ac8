// From a topology to the supervisor's WorkerSpec per worker: the options file and metadata file as paths
// inside a folder (an applied version's folder, so a later edit never changes what a running worker
// reads), the registration flags of the membership mode (protocol 7.1, 7.2). Layer: core.

import { join } from 'node:path';

import {
  effectivePpSize,
  effectiveTpSize,
  type LoadedTopology,
  METADATA_CONFIG_FILE,
} from '../../../shared/logic/load-topology';
import type { WorkerSpec } from '../../../shared/model/worker';

/** Options of toWorkerSpecs. */
export interface WorkerSpecOptions {
  /** Folder holding the topology's files. */
  dir: string;
  /** Path of trtllm-serve (settings); null = PATH. */
  binaryPath?: string | null;
  /** Turns a file name into the path a command line gets; default join(dir, name). */
  pathFor?: (fileName: string) => string;
}

/** One WorkerSpec per console.yaml worker, in order. */
export function toWorkerSpecs(t: LoadedTopology, opts: WorkerSpecOptions): WorkerSpec[] {
  const pathFor = opts.pathFor ?? ((name: string) => join(opts.dir, name));
  const cluster = t.disagg.disagg_cluster;
  return t.console.workers.map((w): WorkerSpec => {
    const options = t.options[w.name] ?? {};
    let registration: WorkerSpec['registration'] = { kind: 'static' };
    if (t.console.clusterMode === 'metadata') {
      registration = { kind: 'metadata', metadataServerConfigFile: pathFor(METADATA_CONFIG_FILE) };
    }
    // A worker whose options carry their own disagg_cluster section uses it; otherwise it gets the proxy's URI.
    else if (t.console.clusterMode === 'disagg_cluster') {
      registration = {
        kind: 'disagg_cluster',
        clusterUri: options.disagg_cluster ? null : (cluster?.cluster_uri ?? null),
      };
    }
    return {
      id: w.name,
      role: w.role,
      gpus: [...w.gpus],
      host: w.host,
      port: w.port,
      model: w.model,
      engine: w.engine,
      backend: w.backend,
      tpSize: effectiveTpSize(t, w.name),
      ppSize: effectivePpSize(t, w.name),
      optionsFile: w.optionsFile === null ? null : pathFor(w.optionsFile),
      extraEnv: { ...w.env },
      registration,
      binaryPath: opts.binaryPath ?? null,
    };
  });
}
