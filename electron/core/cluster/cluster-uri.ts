// `disagg_cluster.cluster_uri` -> a ClusterStorage client (trtllm-protocol.md 3.3 and 7.2):
// `etcd://host:port` (comma-separated for several endpoints) or `http(s)://host:port` (the proxy's store).
// Layer: core (node).
import type { ClusterLog, ClusterStorage } from './cluster-storage';
import { EtcdClusterStorage } from './etcd-cluster-storage';
import { HttpClusterStorage } from './http-cluster-storage';

export type ParsedClusterUri =
  { kind: 'etcd'; hosts: string[] } | { kind: 'http'; baseUrl: string };

function parseHostPort(text: string, uri: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid cluster_uri '${uri}': '${text}' is not a URL`);
  }
  if (url.hostname === '') throw new Error(`invalid cluster_uri '${uri}': no host`);
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new Error(`invalid cluster_uri '${uri}': unexpected path '${url.pathname}'`);
  }
  return { host: url.hostname, port: url.port === '' ? 0 : Number(url.port) };
}

/** Splits a cluster URI into its kind and endpoints; throws a message naming the accepted forms. */
export function parseClusterUri(uri: string): ParsedClusterUri {
  const trimmed = uri.trim();
  if (trimmed.startsWith('etcd://')) {
    const hosts = trimmed.split(',').map((part) => {
      const p = part.trim();
      const { host, port } = parseHostPort(p.startsWith('etcd://') ? p : `etcd://${p}`, uri);
      return `http://${host}:${port === 0 ? 2379 : port}`;
    });
    return { kind: 'etcd', hosts };
  }
  if (trimmed.startsWith('http://') || trimmed.startsWith('https://')) {
    const { host } = parseHostPort(trimmed, uri);
    if (host === '') throw new Error(`invalid cluster_uri '${uri}'`);
    return { kind: 'http', baseUrl: trimmed.replace(/\/+$/, '') };
  }
  throw new Error(
    `invalid cluster_uri '${uri}': expected etcd://<host>:<port> or http://<proxy-host>:<proxy-port>`,
  );
}

export interface CreateClusterStorageOptions {
  log?: ClusterLog;
  /** HTTP store: per-call timeout (default 5 s, as upstream). */
  httpTimeoutMs?: number;
  /** etcd: per-call deadline (default 10 s, as upstream). */
  etcdCallTimeoutMs?: number;
}

/**
 * The client a worker (or an etcd-backed proxy) uses for `uri`. For http:// this is the HTTP client of
 * the proxy's store; the proxy itself hosts a MemoryClusterStore instead (see DisaggClusterManager).
 */
export function createClusterStorage(
  uri: string,
  options: CreateClusterStorageOptions = {},
): ClusterStorage {
  const parsed = parseClusterUri(uri);
  switch (parsed.kind) {
    case 'etcd':
      return new EtcdClusterStorage(parsed.hosts, {
        log: options.log,
        callTimeoutMs: options.etcdCallTimeoutMs,
      });
    case 'http':
      return new HttpClusterStorage(parsed.baseUrl, { timeoutMs: options.httpTimeoutMs });
  }
}
