// The worker-side client of the proxy's HTTP cluster store (upstream HttpClusterStorageClient,
// trtllm-protocol.md 7.2): one HTTP call per operation with a 5 s timeout. Layer: core (node).
import {
  type ClusterStorage,
  ClusterStorageError,
  errorMessage,
  type GetPrefixOptions,
  type SetOptions,
  type StorageWatchEvent,
  type Unwatch,
} from './cluster-storage';

export interface HttpClusterStorageOptions {
  /** Per-call timeout; upstream's aiohttp session uses 5 s total. */
  timeoutMs?: number;
}

interface StoreAnswer {
  status: number;
  result: unknown;
}

function isRecordOfStrings(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}

export class HttpClusterStorage implements ClusterStorage {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  /** `baseUrl` is the cluster URI, e.g. `http://127.0.0.1:8000` (a bare `host:port` gets `http://`). */
  constructor(baseUrl: string, options: HttpClusterStorageOptions = {}) {
    const withScheme = /^https?:\/\//.test(baseUrl) ? baseUrl : `http://${baseUrl}`;
    this.baseUrl = withScheme.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const body = {
      key,
      value,
      expire_time: -1,
      ttl: options.ttlSec !== undefined && options.ttlSec > 0 ? Math.ceil(options.ttlSec) : -1,
      overwrite_if_exists: options.overwrite === true,
    };
    const answer = await this.call('POST', 'set', {}, body);
    return answer.status === 200;
  }

  async get(key: string): Promise<string | null> {
    const answer = await this.call('GET', 'get', { key });
    // 400 {"result": null} is "no such key"; a stored "" also answers 400 upstream (falsy), read as null.
    if (answer.status !== 200) return null;
    return typeof answer.result === 'string' ? answer.result : null;
  }

  async delete(key: string): Promise<boolean> {
    const answer = await this.call('DELETE', 'delete', { key });
    return answer.status === 200;
  }

  async expire(key: string, ttlSec: number): Promise<boolean> {
    const answer = await this.call('GET', 'expire', { key, ttl: String(Math.ceil(ttlSec)) });
    return answer.status === 200;
  }

  async getPrefix(prefix: string, options: GetPrefixOptions = {}): Promise<Record<string, string>> {
    const answer = await this.call('GET', 'get_prefix', {
      key_prefix: prefix,
      keys_only: options.keysOnly === true ? '1' : '0',
    });
    // An Oct 2025 upstream proxy answers an empty result with 400 {"result": {}}: still a valid answer.
    if ((answer.status === 200 || answer.status === 400) && isRecordOfStrings(answer.result)) {
      return answer.result;
    }
    throw new ClusterStorageError(
      `${this.baseUrl}/get_prefix answered ${answer.status} without a key map`,
    );
  }

  watch(_prefix: string, _onEvent: (event: StorageWatchEvent) => void): Promise<Unwatch> {
    // Upstream workers never watch; only the proxy that hosts the store watches it, in memory.
    return Promise.reject(
      new Error(
        'watch is not supported over the HTTP cluster store; the proxy hosting the store watches it in memory',
      ),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async call(
    method: string,
    endpoint: string,
    query: Record<string, string>,
    body?: unknown,
  ): Promise<StoreAnswer> {
    const url = new URL(`${this.baseUrl}/${endpoint}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new ClusterStorageError(
        `${method} ${url.origin}/${endpoint} failed: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    let result: unknown = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && 'result' in parsed) {
        result = parsed.result;
      }
    } catch {
      // A non-JSON answer (proxy without the store, an HTML error page) carries no result; status decides.
      result = null;
    }
    return { status: res.status, result };
  }
}
