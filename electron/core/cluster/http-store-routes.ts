// The HTTP face of the proxy's in-memory cluster store: /set, /get, /delete, /expire, /get_prefix,
// served on the proxy port when `disagg_cluster.cluster_uri` is http:// (trtllm-protocol.md 7.2 and 8).
// Layer: core (node).
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ClusterStorage } from './cluster-storage';
import { errorMessage } from './cluster-storage';

/** StorageItem is a handful of short strings; anything larger is refused. */
export const MAX_STORE_BODY_BYTES = 64 * 1024;

const STORE_PATHS = new Set(['/set', '/get', '/delete', '/expire', '/get_prefix']);

class HttpStoreError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Python truthiness, since upstream answers 200 only for a truthy result. */
function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '' || value === 0) {
    return false;
  }
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/**
 * Upstream wraps each result as `{"result": r}` with 200 when r is truthy, else 400. Exception: an empty
 * get_prefix answers 200 `{}` (the Oct 2025 400 for "no workers yet" was an upstream bug, fixed later).
 */
function sendResult(res: ServerResponse, result: unknown, emptyObjectIsOk = false): void {
  const ok = isTruthy(result) || (emptyObjectIsOk && typeof result === 'object' && result !== null);
  sendJson(res, ok ? 200 : 400, { result });
}

function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = (): HttpStoreError =>
    new HttpStoreError(413, `body larger than ${MAX_STORE_BODY_BYTES} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > MAX_STORE_BODY_BYTES) {
    // Discard the body rather than destroying the request, so the 413 answer still reaches the client.
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_STORE_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      failed = true;
      reject(err);
    });
  });
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new HttpStoreError(400, `invalid JSON body: ${errorMessage(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpStoreError(400, 'the JSON body must be an object');
  }
  return parsed as Record<string, unknown>;
}

/** pydantic-like field checks for StorageItem (Optional fields accept null and take the default). */
function field<T>(
  body: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  what: string,
  fallback?: T,
): T {
  const v = body[name];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (!check(v)) throw new HttpStoreError(422, `field '${name}' must be ${what}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

function queryParam(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (v === null) throw new HttpStoreError(422, `query parameter '${name}' is required`);
  return v;
}

function parseIntParam(name: string, text: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) {
    throw new HttpStoreError(422, `query parameter '${name}' must be an integer`);
  }
  return Number(text);
}

/** FastAPI's bool query parsing. */
function parseBoolParam(name: string, text: string): boolean {
  const t = text.toLowerCase();
  if (['1', 'true', 'on', 'yes', 't', 'y'].includes(t)) return true;
  if (['0', 'false', 'off', 'no', 'f', 'n'].includes(t)) return false;
  throw new HttpStoreError(422, `query parameter '${name}' must be a boolean`);
}

async function route(
  store: ClusterStorage,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? 'GET';
  const notAllowed = (): never => {
    throw new HttpStoreError(405, 'Method Not Allowed');
  };
  switch (url.pathname) {
    case '/set': {
      if (method !== 'POST') notAllowed();
      const body = await readJsonObject(req);
      const key = field(body, 'key', isString, 'a string');
      const value = field(body, 'value', isString, 'a string', '');
      const ttl = field(body, 'ttl', isInt, 'an integer', -1);
      // expire_time is an absolute time on the server's monotonic clock; clients send -1. It is
      // validated for compatibility and otherwise ignored (ttl decides the expiry).
      field(body, 'expire_time', isInt, 'an integer', -1);
      const overwrite = field(body, 'overwrite_if_exists', isBool, 'a boolean', false);
      sendResult(res, await store.set(key, value, { ttlSec: ttl, overwrite }));
      return;
    }
    case '/get': {
      if (method !== 'GET') notAllowed();
      sendResult(res, await store.get(queryParam(url, 'key')));
      return;
    }
    case '/delete': {
      if (method !== 'DELETE') notAllowed();
      sendResult(res, await store.delete(queryParam(url, 'key')));
      return;
    }
    case '/expire': {
      // GET with a query is current upstream; an older revision used POST with a JSON body.
      let key: string;
      let ttl: number;
      if (method === 'GET') {
        key = queryParam(url, 'key');
        ttl = parseIntParam('ttl', queryParam(url, 'ttl'));
      } else if (method === 'POST') {
        const body = await readJsonObject(req);
        key = field(body, 'key', isString, 'a string');
        ttl = field(body, 'ttl', isInt, 'an integer');
      } else {
        return notAllowed();
      }
      sendResult(res, await store.expire(key, ttl));
      return;
    }
    case '/get_prefix': {
      if (method !== 'GET') notAllowed();
      const prefix = queryParam(url, 'key_prefix');
      const keysOnlyText = url.searchParams.get('keys_only');
      const keysOnly = keysOnlyText === null ? false : parseBoolParam('keys_only', keysOnlyText);
      sendResult(res, await store.getPrefix(prefix, { keysOnly }), true);
      return;
    }
    default:
      throw new HttpStoreError(404, 'Not Found');
  }
}

/**
 * Serves one cluster-store request if `url.pathname` is a store endpoint and resolves true; resolves
 * false (touching nothing) for any other path so the caller can route it elsewhere.
 */
export async function handleClusterStoreRequest(
  store: ClusterStorage,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  if (!STORE_PATHS.has(url.pathname)) return false;
  try {
    await route(store, req, res, url);
  } catch (err) {
    const status = err instanceof HttpStoreError ? err.status : 500;
    const detail =
      err instanceof HttpStoreError ? err.message : `cluster store error: ${errorMessage(err)}`;
    if (!res.headersSent) sendJson(res, status, { detail });
    else res.destroy();
  }
  return true;
}
