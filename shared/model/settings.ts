// Console settings (settings:get / settings:set). Layer: shared (pure), JSON-safe.

import type { TrtllmVersion } from '../logic/trtllm-dialect';
import type { ClusterMode } from './topology';
import type { WorkerEngine } from './worker';

/** Every console setting; settings:set takes a partial patch. */
export interface ConsoleSettings {
  /** Path of `trtllm-serve`; null = found on PATH. */
  trtllmServePath: string | null;
  defaultEngine: WorkerEngine;
  /** Simulated GPU inventory (used without nvidia-smi). */
  simulatedGpuCount: number;
  simulatedGpuModel: string;
  /** How long a worker may take to answer /health 200 before it counts as failed. */
  readyTimeoutMs: number;
  clusterMode: ClusterMode;
  /** External etcd `http://host:port`; null = embedded etcd when the binary exists. */
  etcdEndpoint: string | null;
  /** Port of the LLM proxy. */
  proxyPort: number;
  /**
   * The workers' TensorRT-LLM release: 'auto' detects each worker's (`/version`, else `trtllm-serve
   * --version`); a release forces that dialect for every worker (docs/upstream-versions.md section 8).
   * Absent in settings files written before it existed: 'auto'.
   */
  trtllmVersion?: TrtllmVersion | 'auto';
  /**
   * Executables the user confirmed as the `trtllm-serve` to run workers with. Read-only over the API: an
   * entry is added only by a settings:set that carries `confirmExecutable: true`.
   */
  confirmedExecutables: ConfirmedExecutable[];
  /**
   * Host names (no port) the headless console API answers to besides 127.0.0.1, localhost, [::1] and its
   * listen address: a reverse proxy's or the machine's name (DNS-rebinding guard, issue #15). Read-only over
   * the API, because the API is what it guards: set in settings.json or with `serve --allowed-host NAME`.
   */
  allowedHosts: string[];
}

/** What identifies an executable the user looked at: where it really is and what it contained. */
export interface ExecutableIdentity {
  /** The path as the user typed it. */
  path: string;
  /** The path with every symlink resolved. */
  realPath: string;
  /** SHA-256 of the file's bytes, hex; replacing the file at the same path needs a new confirmation. */
  sha256: string;
  sizeBytes: number;
}

/** An executable the user confirmed, and when. */
export interface ConfirmedExecutable extends ExecutableIdentity {
  confirmedAtMs: number;
}

/** settings:set argument: any settings except the confirmed list, and the confirmation of a new executable. */
export type ConsoleSettingsPatch = Partial<
  Omit<ConsoleSettings, 'confirmedExecutables' | 'allowedHosts'>
> & {
  /** The user saw the executable named in `trtllmServePath` (path, real path, hash) and trusts it. */
  confirmExecutable?: boolean;
};

/** details of a CONFIRMATION_REQUIRED answer to settings:set: the executable to show the user. */
export interface ExecutableConfirmationDetails extends ExecutableIdentity {
  kind: 'executable';
}
