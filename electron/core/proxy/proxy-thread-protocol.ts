// Messages between the console backend and the proxy's worker thread (structured-clone safe).
// Layer: core.
import type { TrtllmVersion } from '../../../shared/logic/trtllm-dialect';
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ProxyCpuSample } from '../../../shared/model/proxy-cost';
import type { ProxyRunSettings } from './proxy-runtime';
import type { ProxyServerOptions } from './proxy-server';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import type { WorkerSnapshot } from './worker-pool';

/** Proxy options that may cross the thread boundary (no functions): a subset of the server's own. */
export type ProxyThreadOverrides = Partial<
  Pick<
    ProxyServerOptions,
    | 'host'
    | 'port'
    | 'maxRetries'
    | 'requestTimeoutMs'
    | 'contextTimeoutMs'
    | 'firstByteTimeoutMs'
    | 'idleTimeoutMs'
    | 'apiKey'
    | 'maxBodyBytes'
    | 'maxConcurrency'
    | 'maxQueue'
    | 'queueTargetMs'
    | 'queueIntervalMs'
    | 'queueTimeoutMs'
    | 'totalTimeoutMs'
    | 'bodyTimeoutMs'
    | 'minBodyBytesPerS'
    | 'bodyRateGraceMs'
    | 'headersTimeoutMs'
    | 'maxConnectionsPerClient'
    | 'kvEventsPollMs'
    | 'ejection'
    | 'logLevel'
    | 'trtllmVersion'
  >
>;

export interface ProxyThreadInit {
  config: DisaggConfig;
  metadata?: MetadataConfig;
  settings: ProxyRunSettings;
  env: Record<string, string | undefined>;
  overrides: ProxyThreadOverrides;
  recordBatchMs: number;
  shouldWaitForWorkers: boolean;
}

export type ProxyThreadCommand =
  | { type: 'membership'; update: MembershipUpdate }
  | { type: 'addWorker'; role: 'context' | 'generation'; url: string }
  | { type: 'removeWorker'; role: 'context' | 'generation'; url: string }
  | { type: 'routing'; update: RoutingUpdate }
  /** The workers' release changed (detected by the console): speak its dialect from the next request on. */
  | { type: 'trtllmVersion'; version: TrtllmVersion }
  | { type: 'stats'; id: number }
  | { type: 'stop'; drainMs: number }
  /** Test and diagnostics only: die like a bug would (uncaught exception, or process.exit(1) in the thread). */
  | { type: 'crash'; how: 'throw' | 'exit' };

export type ProxyThreadEvent =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'records'; records: ProxyRequestRecord[] }
  | { type: 'log'; level: LogLevel; message: string }
  | {
      type: 'stats';
      id: number;
      workers: WorkerSnapshot[];
      isReady: boolean;
      metricsText: string;
      /** The thread's CPU and finished requests/tokens since it started (the console's cost meter). */
      cpu: ProxyCpuSample;
    }
  | { type: 'stopped' };
