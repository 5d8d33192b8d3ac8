// Key and value formats of TensorRT-LLM's dynamic membership: the `disagg_cluster` worker keys and
// WorkerInfo JSON (trtllm-protocol.md 7.2) and the etcd "metadata server" keys and JSON (7.1).
// Layer: shared (pure): no clock, no pid, no randomness; callers pass them in.
import { SERVER_ROLE_NUMBER, type ServerRoleName } from '../model/config';

/** The two roles a disaggregated worker registers with (MM_ENCODER is never routed by the proxy). */
export type ClusterRoleName = Extract<ServerRoleName, 'CONTEXT' | 'GENERATION'>;

/** Upstream `WorkerInfo` as stored in the value and returned by `/cluster_info`; `role` is the IntEnum. */
export interface ClusterWorkerInfo {
  worker_id: string;
  host: string;
  port: number;
  role: number;
}

/** `/trtllm-disagg/<cluster_name>/workers`; an empty name gives `/trtllm-disagg//workers` as upstream. */
export function workersPrefix(clusterName: string): string {
  return `/trtllm-disagg/${clusterName}/workers`;
}

/**
 * `<ROLE>-<host>:<port>-<unix ms>-<pid>-<rand 000-999>`, e.g. `CONTEXT-localhost:8001-1729700000000-12345-042`.
 * `rand` is an integer in [0, 999] (upstream draws randint(0, 1000) and pads to 3 digits).
 */
export function makeWorkerId(
  role: ClusterRoleName,
  host: string,
  port: number,
  nowMs: number,
  pid: number,
  rand: number,
): string {
  const r = String(Math.min(999, Math.max(0, Math.floor(rand)))).padStart(3, '0');
  return `${role}-${host}:${port}-${Math.floor(nowMs)}-${pid}-${r}`;
}

/** `<prefix>/<worker_id>`: the storage key of one worker. */
export function workerKey(clusterName: string, workerId: string): string {
  return `${workersPrefix(clusterName)}/${workerId}`;
}

/** The role's IntEnum value: CONTEXT=0, GENERATION=1. */
export function roleNumber(role: ClusterRoleName): number {
  return SERVER_ROLE_NUMBER[role];
}

/** Inverse of roleNumber; null for MM_ENCODER (2) and unknown numbers. */
export function roleNameOf(role: number): ClusterRoleName | null {
  if (role === SERVER_ROLE_NUMBER.CONTEXT) return 'CONTEXT';
  if (role === SERVER_ROLE_NUMBER.GENERATION) return 'GENERATION';
  return null;
}

/** The JSON value upstream writes: exactly `{"worker_id","host","port","role"}` in that order. */
export function encodeWorkerInfo(info: ClusterWorkerInfo): string {
  return JSON.stringify({
    worker_id: info.worker_id,
    host: info.host,
    port: info.port,
    role: info.role,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object a registry value holds; null for any other JSON or for text that is not JSON. */
function parseJsonObject(text: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  return isRecord(parsed) ? parsed : null;
}

/**
 * Parses a worker value. Extra fields are ignored (newer workers may add some); `host`, `port` and `role`
 * take upstream's dataclass defaults ("", 0, CONTEXT) when absent. Null when the text is not a JSON
 * object, `worker_id` is missing, or a field has the wrong type.
 */
export function decodeWorkerInfo(text: string): ClusterWorkerInfo | null {
  const parsed = parseJsonObject(text);
  if (parsed === null) return null;
  const { worker_id, host = '', port = 0, role = SERVER_ROLE_NUMBER.CONTEXT } = parsed;
  if (typeof worker_id !== 'string' || worker_id === '') return null;
  if (typeof host !== 'string') return null;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  if (typeof role !== 'number' || !Number.isInteger(role)) return null;
  return { worker_id, host, port, role };
}

// ---- etcd metadata-server mode (protocol 7.1) ----

/** Prefix of every metadata-mode key. */
export const METADATA_KEY_PREFIX = 'trtllm/';

/** `trtllm/<hostname>-<pid>-<unix ms>`: the key a worker PUTs in metadata mode (no lease). */
export function makeMetadataKey(hostname: string, pid: number, nowMs: number): string {
  return `${METADATA_KEY_PREFIX}${hostname}-${pid}-${Math.floor(nowMs)}`;
}

/** The metadata value a worker writes. `server_role` is `CONTEXT` or `GENERATION`. */
export interface MetadataServerInfo {
  model: string;
  version: string;
  /** ISO-8601 local time without offset, as Python's `datetime.now().isoformat()`. */
  timestamp: string;
  server_role: string;
  /** `http://<--host>:<--port>` */
  url: string;
}

export function encodeMetadataInfo(info: MetadataServerInfo): string {
  return JSON.stringify({
    model: info.model,
    version: info.version,
    timestamp: info.timestamp,
    server_role: info.server_role,
    url: info.url,
  });
}

/** A parsed metadata value: `url` is required; the rest may be absent; extra fields are kept. */
export interface DecodedMetadataInfo {
  url: string;
  model?: string;
  version?: string;
  timestamp?: string;
  server_role?: string;
  /** Some writers use `server_type` for the role; the proxy accepts either (7.1 step 4). */
  server_type?: string;
  raw: Record<string, unknown>;
}

/** Null unless the text is a JSON object with a non-empty string `url` (the proxy skips such entries). */
export function decodeMetadataInfo(text: string): DecodedMetadataInfo | null {
  const parsed = parseJsonObject(text);
  if (parsed === null) return null;
  const { url } = parsed;
  if (typeof url !== 'string' || url === '') return null;
  const str = (k: string): string | undefined => {
    const v = parsed[k];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    url,
    model: str('model'),
    version: str('version'),
    timestamp: str('timestamp'),
    server_role: str('server_role'),
    server_type: str('server_type'),
    raw: parsed,
  };
}

/** Whether a metadata entry belongs to `role` (`context`/`generation`): server_type or server_role, lower-cased. */
export function metadataMatchesRole(
  info: DecodedMetadataInfo,
  role: 'context' | 'generation',
): boolean {
  return info.server_type?.toLowerCase() === role || info.server_role?.toLowerCase() === role;
}

/** `a/b/c` -> `a/b`: how the metadata monitor reduces every listed key before filtering on `trtllm/`. */
export function firstTwoSegments(key: string): string {
  return key.split('/').slice(0, 2).join('/');
}

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffff` in local time, like Python's `datetime.now().isoformat()`.
 * `tzOffsetMin` is minutes east of UTC (the negation of JS `Date#getTimezoneOffset()`).
 */
export function localIsoTimestamp(nowMs: number, tzOffsetMin: number): string {
  const local = new Date(Math.floor(nowMs) + tzOffsetMin * 60_000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return `${date}T${time}.${pad(local.getUTCMilliseconds() * 1000, 6)}`;
}
