// Export of a topology (feature K4): the upstream files as they are, a shell script with the launch
// commands of the upstream README (`CUDA_VISIBLE_DEVICES=.. trtllm-serve MODEL --host --port --backend
// pytorch --extra_llm_api_options ..` per worker, then `trtllm-serve disaggregated -c ..`), and a SLURM batch
// script (`srun` + `trtllm-llmapi-launch trtllm-serve ..` per worker in the background, a /health wait
// loop like upstream's wait_server.sh, the proxy last). Every value is shell-quoted. Facts:
// docs/trtllm-protocol.md 1.1, 1.2, 1.4, 2.4, 9.2. Layer: core.

import {
  DISAGG_CONFIG_FILE,
  type LoadedTopology,
  METADATA_CONFIG_FILE,
} from '../../../shared/logic/load-topology';
import { buildWorkerArgs } from '../../../shared/logic/worker-command';
import type { ExportedFile, ExportOptions } from '../../../shared/model/topology';
import type { WorkerSpec } from '../../../shared/model/worker';
import { shellQuote } from './shell-quote';
import { toWorkerSpecs } from './worker-specs';

// File names in command lines are marked, then rendered as "$CONFIG_DIR"/<name> (quoted, but expanded).
const FILE_MARK = '\u0000file:';

/** The topology's files, sorted by name. */
export function exportFiles(t: LoadedTopology): ExportedFile[] {
  return Object.keys(t.files)
    .sort()
    .map((name) => ({ name, text: t.files[name] ?? '', isExecutable: false }));
}

function renderArg(arg: string): string {
  return arg.startsWith(FILE_MARK)
    ? `"$CONFIG_DIR"/${shellQuote(arg.slice(FILE_MARK.length))}`
    : shellQuote(arg);
}

function workerSpecs(t: LoadedTopology): WorkerSpec[] {
  return toWorkerSpecs(t, { dir: '', pathFor: (name) => FILE_MARK + name });
}

function proxyArgs(t: LoadedTopology): string[] {
  const args = ['disaggregated', '-c', FILE_MARK + DISAGG_CONFIG_FILE];
  // -m only in metadata mode: with disagg_cluster upstream refuses the metadata server (protocol 3.2).
  if (t.console.clusterMode === 'metadata') args.push('-m', FILE_MARK + METADATA_CONFIG_FILE);
  return args;
}

function envWords(spec: WorkerSpec): string[] {
  const env: Record<string, string> = {
    ...spec.extraEnv,
    CUDA_VISIBLE_DEVICES: spec.gpus.join(','),
  };
  // CUDA_VISIBLE_DEVICES first, as the README writes it; it wins over an extra env entry of the same name.
  const { CUDA_VISIBLE_DEVICES: cvd, ...rest } = env;
  return [
    `CUDA_VISIBLE_DEVICES=${shellQuote(cvd ?? '')}`,
    ...Object.entries(rest).map(([k, v]) => `${k}=${shellQuote(v)}`),
  ];
}

function healthUrl(spec: { host: string; port: number }): string {
  const host = spec.host === '0.0.0.0' ? 'localhost' : spec.host;
  return `http://${host}:${spec.port}/health`;
}

function configDirLine(opts: ExportOptions, fallback: string): string {
  return opts.configDir
    ? `CONFIG_DIR=\${CONFIG_DIR:-${shellQuote(opts.configDir)}}`
    : `CONFIG_DIR=\${CONFIG_DIR:-${fallback}}`;
}

// Upstream's wait_server.sh polls /health every 10 s for up to 1800 s (protocol 9.2).
const WAIT_FUNCTION = [
  '# wait_healthy NAME URL PID: poll URL every 10 s for up to $HEALTH_TIMEOUT_S s, fail early if PID died.',
  'wait_healthy() {',
  '  local name=$1 url=$2 pid=$3 deadline=$((SECONDS + HEALTH_TIMEOUT_S))',
  '  until curl -sf -o /dev/null "$url"; do',
  '    if ! kill -0 "$pid" 2>/dev/null; then echo "$name exited before it was healthy; see $LOG_DIR/$name.log" >&2; exit 1; fi',
  '    if (( SECONDS >= deadline )); then echo "$name not healthy after $HEALTH_TIMEOUT_S s ($url)" >&2; exit 1; fi',
  '    sleep 10',
  '  done',
  '  echo "$name is healthy"',
  '}',
];

// Both scripts start every worker in the background into $LOG_DIR, kill them all on exit, and wait on /health.
const BACKGROUND_JOBS = [
  'mkdir -p "$LOG_DIR"',
  'pids=()',
  'trap \'kill "${pids[@]}" 2>/dev/null || true\' EXIT',
  ...WAIT_FUNCTION,
  '',
];

/** A worker's command started in the background with its log file, its pid kept for wait_healthy and the trap. */
function backgroundWorker(spec: WorkerSpec, i: number, cmd: string): string[] {
  return [
    `# ${spec.role} worker ${spec.id}: TP ${spec.tpSize} x PP ${spec.ppSize} on GPUs ${spec.gpus.join(',')}`,
    `${cmd} > "$LOG_DIR"/${shellQuote(spec.id)}.log 2>&1 &`,
    `pid_${i}=$!`,
    `pids+=("$pid_${i}")`,
    '',
  ];
}

function header(t: LoadedTopology, what: string): string[] {
  const simulated = t.console.workers.filter((w) => w.engine === 'simulated').map((w) => w.name);
  const lines = [
    `# ${what}, exported by Disagg Console.`,
    `# Workers: ${t.console.workers.map((w) => `${w.name} (${w.role}, GPUs ${w.gpus.join(',') || 'none'})`).join(', ') || 'none'}.`,
  ];
  if (simulated.length > 0) {
    lines.push(
      `# ${simulated.join(', ')} ran simulated in the console; this script runs the real trtllm-serve.`,
    );
  }
  return lines;
}

/** A bash script with the upstream README launch commands, a health wait per worker, then the proxy. */
export function exportLaunchScript(
  t: LoadedTopology,
  opts: ExportOptions = { format: 'launch-script' },
): ExportedFile {
  const specs = workerSpecs(t);
  const lines = [
    '#!/usr/bin/env bash',
    ...header(
      t,
      'Launch commands for this topology as in TensorRT-LLM examples/disaggregated/README.md',
    ),
    '# Run it next to the YAML files (or set CONFIG_DIR). Ctrl-C stops the proxy and every worker.',
    'set -euo pipefail',
    configDirLine(opts, '"$(cd "$(dirname "$0")" && pwd)"'),
    'LOG_DIR=${LOG_DIR:-"$CONFIG_DIR/logs"}',
    'HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-1800}',
    ...BACKGROUND_JOBS,
  ];
  specs.forEach((spec, i) => {
    const cmd = [...envWords(spec), 'trtllm-serve', ...buildWorkerArgs(spec).map(renderArg)].join(
      ' ',
    );
    lines.push(...backgroundWorker(spec, i, cmd));
  });
  specs.forEach((spec, i) =>
    lines.push(`wait_healthy ${shellQuote(spec.id)} ${shellQuote(healthUrl(spec))} "$pid_${i}"`),
  );
  lines.push(
    '',
    '# The proxy last, in the foreground.',
    ['trtllm-serve', ...proxyArgs(t).map(renderArg)].join(' '),
    '',
  );
  return { name: 'launch.sh', text: lines.join('\n'), isExecutable: true };
}

/** A SLURM batch script: one background `srun ... trtllm-llmapi-launch trtllm-serve` step per worker, the proxy last. */
export function exportSlurmScript(
  t: LoadedTopology,
  opts: ExportOptions = { format: 'slurm-script' },
): ExportedFile {
  const specs = workerSpecs(t);
  const s = opts.slurm ?? {};
  const maxGpu = Math.max(0, ...t.console.workers.flatMap((w) => w.gpus));
  const gpusPerNode = s.gpusPerNode ?? (t.console.workers.length > 0 ? maxGpu + 1 : 1);
  const tasks = specs.reduce((n, spec) => n + spec.tpSize * spec.ppSize, 0) + 1;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${shellQuote(s.jobName ?? 'disagg-console')}`,
    `#SBATCH --nodes=${s.nodes ?? 1}`,
    `#SBATCH --ntasks=${tasks}`,
    `#SBATCH --gpus-per-node=${gpusPerNode}`,
    `#SBATCH --time=${s.timeLimit ?? '01:00:00'}`,
  ];
  if (s.partition) lines.push(`#SBATCH --partition=${shellQuote(s.partition)}`);
  if (s.account) lines.push(`#SBATCH --account=${shellQuote(s.account)}`);
  lines.push(
    '#SBATCH --output=disagg-%j.out',
    ...header(t, 'SLURM batch script for this topology'),
    '# All steps run on the first node of the allocation with the hosts and ports of the topology; each worker',
    '# step is pinned to its GPUs with CUDA_VISIBLE_DEVICES (set after srun, so it wins over the step binding).',
    '# Submit from the folder holding the YAML files: sbatch slurm.sh (or set CONFIG_DIR).',
    'set -euo pipefail',
    configDirLine(opts, '"${SLURM_SUBMIT_DIR:-$PWD}"'),
    'LOG_DIR=${LOG_DIR:-"$CONFIG_DIR/logs-${SLURM_JOB_ID:-local}"}',
    'HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-1800}',
    '# Every step runs on the node this script runs on (the first of the allocation), where localhost is valid.',
    '# (sed, not head: head would close the pipe early and pipefail would end the script on SIGPIPE.)',
    'HEAD_NODE=${HEAD_NODE:-$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)}',
    ...BACKGROUND_JOBS,
  );
  specs.forEach((spec, i) => {
    const ranks = spec.tpSize * spec.ppSize;
    const srun = [
      'srun',
      '--overlap',
      '--mpi=pmix',
      '--nodes=1',
      '--nodelist="$HEAD_NODE"',
      `--ntasks=${ranks}`,
      `--ntasks-per-node=${ranks}`,
      `--gpus-per-node=${gpusPerNode}`,
    ];
    const cmd = [
      ...srun,
      'env',
      ...envWords(spec),
      'trtllm-llmapi-launch',
      'trtllm-serve',
      ...buildWorkerArgs(spec).map(renderArg),
    ].join(' ');
    lines.push(...backgroundWorker(spec, i, cmd));
  });
  specs.forEach((spec, i) =>
    lines.push(`wait_healthy ${shellQuote(spec.id)} ${shellQuote(healthUrl(spec))} "$pid_${i}"`),
  );
  lines.push(
    '',
    '# The proxy last, in the foreground: the job lasts as long as it runs.',
    [
      'srun',
      '--overlap',
      '--nodes=1',
      '--nodelist="$HEAD_NODE"',
      '--ntasks=1',
      'trtllm-serve',
      ...proxyArgs(t).map(renderArg),
    ].join(' '),
    '',
  );
  return { name: 'slurm.sh', text: lines.join('\n'), isExecutable: true };
}

/** Dispatches on the export format. */
export function exportTopology(t: LoadedTopology, opts: ExportOptions): ExportedFile[] {
  switch (opts.format) {
    case 'files':
      return exportFiles(t);
    case 'launch-script':
      return [exportLaunchScript(t, opts)];
    case 'slurm-script':
      return [exportSlurmScript(t, opts)];
  }
}
