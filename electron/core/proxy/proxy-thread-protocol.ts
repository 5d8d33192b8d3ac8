// Messages between the console backend and the proxy's worker thread (structured-clone safe).
// Layer: core.
import type { DisaggConfig, MetadataConfig } from '../../../shared/model/config';
import type { ProxyRunSettings } from './proxy-runtime';
import type { LogLevel, MembershipUpdate, ProxyRequestRecord, RoutingUpdate } from './types';
import type { EjectionPolicy, WorkerSnapshot } from './worker-pool';

/** Proxy options that may cross the thread boundary (no functions). */
export interface ProxyThreadOverrides {
  host?: string;
  port?: number;
  maxRetries?: number;
  requestTimeoutMs?: number;
  contextTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  idleTimeoutMs?: number;
  apiKey?: string;
  maxBodyBytes?: number;
  maxConcurrency?: number;
  maxQueue?: number;
  queueTargetMs?: number;
  queueIntervalMs?: number;
  queueTimeoutMs?: number;
  kvEventsPollMs?: number;
  ejection?: Partial<EjectionPolicy>;
  logLevel?: LogLevel;
}

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
  | { type: 'stats'; id: number }
  | { type: 'stop'; drainMs: number }
  /** Test and diagnostics only: die like a bug would (uncaught exception, or process.exit(1) in the thread). */
  | { type: 'crash'; how: 'throw' | 'exit' };

export type ProxyThreadEvent =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'records'; records: ProxyRequestRecord[] }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'stats'; id: number; workers: WorkerSnapshot[]; isReady: boolean; metricsText: string }
  | { type: 'stopped' };
