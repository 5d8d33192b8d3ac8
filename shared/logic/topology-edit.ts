// Edits of a console topology's files for the commands that change its workers (add, remove, the planner's
// layout, the demo): console.yaml rewritten, disagg_config.yaml's `urls` and `num_instances` updated in place
// (comments and other keys kept), options files added or dropped. Layer: shared (pure).

import type { DisaggClusterConfig } from '../model/config';
import type { ConsoleTopology, TopologyFiles, TopologyWorker } from '../model/topology';
import type { WorkerRole } from '../model/worker';
import type { WorkerAddRequest } from '../model/worker-view';
import { documentToText, setConfigValue } from './config-write';
import { CONSOLE_FILE, serializeConsoleFile } from './console-file';
import { DISAGG_CONFIG_FILE } from './load-topology';
import { workerOptionsTemplate } from './worker-template';
import { parseYaml } from './yaml-locate';

/** The disagg_config.yaml of a console topology: the proxy on loopback and the workers' urls. */
export function disaggConfigText(port: number, ctxUrls: string[], genUrls: string[]): string {
  const list = (urls: string[]): string => `[${urls.map((u) => JSON.stringify(u)).join(', ')}]`;
  return [
    'hostname: 127.0.0.1',
    `port: ${port}`,
    'backend: pytorch',
    'context_servers:',
    `  num_instances: ${ctxUrls.length}`,
    `  urls: ${list(ctxUrls)}`,
    'generation_servers:',
    `  num_instances: ${genUrls.length}`,
    `  urls: ${list(genUrls)}`,
    '',
  ].join('\n');
}

/** The files with console.yaml and the urls of disagg_config.yaml rewritten for a new worker list. */
export function filesWithWorkers(
  files: TopologyFiles,
  consoleTopo: ConsoleTopology,
  proxyPort: number,
): TopologyFiles {
  const next: TopologyFiles = { ...files, [CONSOLE_FILE]: serializeConsoleFile(consoleTopo) };
  const urls = (role: WorkerRole): string[] =>
    consoleTopo.workers.filter((w) => w.role === role).map((w) => `${w.host}:${w.port}`);
  const disaggText = files[DISAGG_CONFIG_FILE];
  if (disaggText === undefined) {
    next[DISAGG_CONFIG_FILE] = disaggConfigText(proxyPort, urls('context'), urls('generation'));
  } else if (consoleTopo.clusterMode !== 'disagg_cluster') {
    const { document } = parseYaml(disaggText, DISAGG_CONFIG_FILE);
    for (const [section, role] of [
      ['context_servers', 'context'],
      ['generation_servers', 'generation'],
    ] as const) {
      setConfigValue(document, [section, 'urls'], urls(role));
      setConfigValue(document, [section, 'num_instances'], urls(role).length);
    }
    next[DISAGG_CONFIG_FILE] = documentToText(document);
  }
  return next;
}

/** The console.yaml entry of a worker added by request, named and placed by the caller. */
export function workerFromRequest(
  req: WorkerAddRequest,
  name: string,
  port: number,
): TopologyWorker {
  const ppSize = req.ppSize ?? 1;
  return {
    name,
    role: req.role,
    gpus: [...req.gpus],
    host: req.host ?? '127.0.0.1',
    port,
    model: req.model,
    engine: req.engine,
    backend: req.backend ?? 'pytorch',
    tpSize: req.tpSize ?? Math.max(1, Math.floor(req.gpus.length / ppSize)),
    ppSize,
    optionsFile: `${name}.yaml`,
    env: { ...(req.extraEnv ?? {}) },
  };
}

/**
 * The options file of a new worker: the request's text, else the role's template; in disagg_cluster mode
 * the template also gets the cluster section, since a worker reads cluster_name and the heartbeat timings
 * only from its own options (the --disagg_cluster_uri flag alone registers it in cluster '', protocol 3.3, 7.2).
 */
export function newWorkerOptions(
  req: Pick<WorkerAddRequest, 'role' | 'optionsYaml'>,
  cluster: DisaggClusterConfig | null,
): string {
  if (req.optionsYaml !== undefined) return req.optionsYaml;
  const template = workerOptionsTemplate(req.role);
  if (!cluster) return template;
  return (
    template +
    [
      'disagg_cluster:',
      `  cluster_uri: ${JSON.stringify(cluster.cluster_uri)}`,
      `  cluster_name: ${JSON.stringify(cluster.cluster_name)}`,
      `  heartbeat_interval_sec: ${cluster.heartbeat_interval_sec}`,
      `  inactive_timeout_sec: ${cluster.inactive_timeout_sec}`,
      '',
    ].join('\n')
  );
}

/** The files with one more worker and its options file. */
export function filesWithWorkerAdded(
  files: TopologyFiles,
  consoleTopo: ConsoleTopology,
  worker: TopologyWorker,
  options: string,
  proxyPort: number,
): TopologyFiles {
  const withOptions =
    worker.optionsFile === null ? files : { ...files, [worker.optionsFile]: options };
  return filesWithWorkers(
    withOptions,
    { ...consoleTopo, workers: [...consoleTopo.workers, worker] },
    proxyPort,
  );
}

/** The files without a worker; its options file goes too unless another worker shares it. */
export function filesWithWorkerRemoved(
  files: TopologyFiles,
  consoleTopo: ConsoleTopology,
  name: string,
  proxyPort: number,
): TopologyFiles {
  const entry = consoleTopo.workers.find((w) => w.name === name);
  const rest = consoleTopo.workers.filter((w) => w.name !== name);
  const next = filesWithWorkers(files, { ...consoleTopo, workers: rest }, proxyPort);
  if (entry?.optionsFile && !rest.some((w) => w.optionsFile === entry.optionsFile))
    {delete next[entry.optionsFile];}
  return next;
}
