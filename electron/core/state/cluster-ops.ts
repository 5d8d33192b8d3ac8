// Port: what the command executor needs from the rest of the backend (workers, topology, draft, the
// document's refresh). createBackend wires it from the services; tests may pass their own. Layer: core.

import type { ConfigIssue } from '../../../shared/logic/config-issues';
import type { ConfigDraft } from '../../../shared/model/cluster-state';
import type {
  ApplyResult,
  ConsoleTopology,
  ImportResult,
  TopologyFiles,
} from '../../../shared/model/topology';
import type { WorkerAddRequest } from '../../../shared/model/worker-view';
import type { CommandOutcome } from './cluster-commands';

/** The backend operations behind the cluster commands; each says what it really did. */
export interface ClusterOps {
  /** Pushes the current topology, workers, draft and proxy port into the document. */
  refresh(): Promise<void>;
  addWorker(request: WorkerAddRequest): Promise<CommandOutcome>;
  removeWorker(id: string, drainTimeoutMs?: number): Promise<CommandOutcome>;
  drainWorker(id: string, drainTimeoutMs?: number): Promise<CommandOutcome>;
  undrainWorker(id: string): Promise<CommandOutcome>;
  restartWorker(id: string): Promise<CommandOutcome>;
  stopWorker(id: string): Promise<CommandOutcome>;
  /** Pre-flight, then apply (the topology service's apply: the same pre-flight as validate). */
  apply(files: TopologyFiles, note: string): Promise<ApplyResult>;
  rollback(version: number): Promise<ApplyResult>;
  /** The full pre-flight of files (what apply would refuse, and warnings). */
  validate(files: TopologyFiles): Promise<ConfigIssue[]>;
  importFiles(files: TopologyFiles): ImportResult;
  /** Saves (or with null removes) the draft on disk and in the document. */
  setDraft(draft: ConfigDraft | null): Promise<void>;
  /** console.yaml of an applied version, null when it is gone or does not parse. */
  consoleAt(version: number): Promise<ConsoleTopology | null>;
}
