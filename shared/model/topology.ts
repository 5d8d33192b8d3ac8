// A topology as the console API carries it: the upstream files as text plus console.yaml, versions, diffs,
// apply plans and exports. Layer: shared (pure), JSON-safe. On-disk layout: docs/architecture.md "Data on disk".

import type { ConfigIssue } from '../logic/config-issues';
import type { WorkerPlacement } from './worker';

/** File name (no directories) -> file text, e.g. { 'disagg_config.yaml': '...', 'console.yaml': '...' }. */
export type TopologyFiles = Record<string, string>;

/** How the proxy learns its workers (protocol 7): static `urls`, etcd metadata mode or `disagg_cluster`. */
export type ClusterMode = 'static' | 'metadata' | 'disagg_cluster';

/** One worker entry of console.yaml: what only the console knows about it. */
export interface TopologyWorker extends WorkerPlacement {
  /** Unique name; also the worker id and the default options file name `<name>.yaml`. */
  name: string;
  /** `--tp_size`/`--pp_size`; the options file's tensor/pipeline_parallel_size win when set (YAML wins). */
  tpSize: number | null;
  ppSize: number | null;
  /** Name of the `--extra_llm_api_options` file inside the topology folder, null for none. */
  optionsFile: string | null;
  env: Record<string, string>;
}

/** console.yaml, parsed. */
export interface ConsoleTopology {
  clusterMode: ClusterMode;
  /** The longest prompt (tokens) the user expects; checked against `max_tokens_in_buffer`. */
  expectedMaxInputTokens: number | null;
  workers: TopologyWorker[];
}

/** The current topology as topology:get returns it. */
export interface TopologyView {
  name: string;
  files: TopologyFiles;
  /** Parsed console.yaml, null when it is missing or invalid. */
  console: ConsoleTopology | null;
  /** The version last applied, null before the first apply. */
  appliedVersion: number | null;
}

/** topology:validate's answer: problems across all files (errors and warnings). */
export interface ValidationReport {
  ok: boolean;
  issues: ConfigIssue[];
}

/** What applying a topology does to the running workers, by worker name. */
export interface ApplyPlan {
  start: string[];
  restart: string[];
  stop: string[];
  unchanged: string[];
  /** True when disagg_config.yaml or metadata_config.yaml changed, so the proxy reloads its config. */
  proxyChanged: boolean;
}

/** topology:apply / topology:rollback success. */
export interface ApplyResult {
  version: number;
  plan: ApplyPlan;
  /** Warnings from the pre-flight (errors stop the apply). */
  warnings: ConfigIssue[];
}

/** One entry of topology:history. */
export interface TopologyVersionInfo {
  version: number;
  appliedAtMs: number;
  /** How it came to be: 'apply', 'rollback to 3', 'import' ... */
  note: string;
  fileNames: string[];
}

/** A unified line diff of one file between two versions. */
export interface FileDiff {
  file: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** Unified diff text (`--- a/x`, `+++ b/x`, `@@ ... @@` hunks); '' when unchanged. */
  unified: string;
}

/** topology:import's answer: a draft topology (not applied) and what was noticed while converting. */
export interface ImportResult {
  files: TopologyFiles;
  /** 'files' for a set of upstream files, 'mpi-worker' for the deprecated single-file format. */
  format: 'files' | 'mpi-worker';
  issues: ConfigIssue[];
}

/** What topology:export produces: the files, a launch shell script, or a SLURM batch script. */
export type ExportFormat = 'files' | 'launch-script' | 'slurm-script';

/** Options of topology:export. */
export interface ExportOptions {
  format: ExportFormat;
  /** Slurm only: `#SBATCH` values. */
  slurm?: {
    jobName?: string;
    partition?: string | null;
    account?: string | null;
    timeLimit?: string;
    nodes?: number;
    gpusPerNode?: number;
  };
  /** Directory the scripts refer to for the YAML files; default `.` (next to the script). */
  configDir?: string;
}

/** One exported file. */
export interface ExportedFile {
  name: string;
  text: string;
  /** True for shell scripts (write them with mode 0755). */
  isExecutable: boolean;
}
