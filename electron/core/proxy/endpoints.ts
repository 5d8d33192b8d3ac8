// The proxy's router: which handler answers which method and path. Inference goes to the request
// lifecycle; the rest (health, models, metrics, version, cluster info and store, perf metrics) is
// answered here. Also the CORS answer for the console's own page. Layer: core.
import type http from 'node:http';

import type { ApiKeyCheck } from './api-key';
import { DISAGG_HEADER, EXPOSED_HEADERS, sendError, sendJson } from './client-reply';
import type { ProxyLog, ProxyServerOptions } from './proxy-options';
import type { Endpoint } from './request-flow';
import { getUpstream } from './upstream-client';
import type { Upstreams } from './upstreams';

/** Version reported at /version. */
export const PROXY_VERSION = '0.1.0';

const CLUSTER_STORE_PATHS = new Set(['/set', '/get', '/delete', '/expire', '/get_prefix']);

export interface EndpointDeps {
  upstreams: Upstreams;
  isAuthorized: ApiKeyCheck;
  log: ProxyLog;
  /** Runs one inference request (request-lifecycle.ts). */
  infer(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint): Promise<void>;
  metricsText(): string;
  options: Pick<ProxyServerOptions, 'clusterInfo' | 'clusterStoreHandler' | 'isGenOnlyBenchmark'>;
}

/** http://127.0.0.1:N, http://localhost:N or http://[::1]:N: the console's own page, never a web site. */
function isLoopbackOrigin(origin: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin);
}

/**
 * The console page (its own loopback port) calls the proxy from the browser: CORS for loopback origins
 * only. SDKs and curl send no Origin and pay nothing for this. True when the preflight was answered.
 */
function answerCors(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !isLoopbackOrigin(origin)) return false;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'origin');
  res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  if (req.method !== 'OPTIONS') return false;
  req.resume();
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': `content-type, authorization, ${DISAGG_HEADER.contextWorker}, ${DISAGG_HEADER.generationWorker}`,
    'access-control-max-age': '600',
    'content-length': 0,
  });
  res.end();
  return true;
}

export class ProxyEndpoints {
  constructor(private readonly deps: EndpointDeps) {}

  /** Dispatch; the inference paths go straight to their handler (no extra async layer per request). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (answerCors(req, res)) return;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    // The lifecycle never rejects: it answers and records every failure itself.
    if (method === 'POST' && path === '/v1/completions') {
      void this.deps.infer(req, res, 'completions');
    } else if (method === 'POST' && path === '/v1/chat/completions') {
      void this.deps.infer(req, res, 'chat');
    } else {
      this.handleOther(req, res, url, path, method).catch((err: unknown) => {
        this.deps.log(
          'error',
          `unhandled: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        if (!res.headersSent) sendError(res, 500, 'Internal server error');
        else if (!res.writableEnded) res.end();
      });
    }
  }

  private async handleOther(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: string,
    path: string,
    method: string,
  ): Promise<void> {
    const { options } = this.deps;
    if (path === '/health' && method === 'GET') return this.health(res);
    if (options.clusterStoreHandler && CLUSTER_STORE_PATHS.has(path)) {
      await options.clusterStoreHandler(req, res, new URL(url, 'http://localhost'));
      return;
    }
    req.resume();
    if (method !== 'GET') return sendError(res, 404, 'Not Found');
    switch (path) {
      case '/version':
        return sendJson(res, 200, JSON.stringify({ version: PROXY_VERSION }));
      case '/cluster_info':
        return sendJson(res, 200, JSON.stringify(options.clusterInfo ? options.clusterInfo() : {}));
      case '/perf_metrics': {
        const { upstreams } = this.deps;
        const items = await upstreams.perf.collect(
          upstreams.context.all(),
          upstreams.generation.all(),
        );
        return sendJson(res, 200, JSON.stringify(items));
      }
      // Upstream's disaggregated server mounts prometheus_client on /prometheus/metrics
      // (openai_disagg_server.py); both paths answer the same text.
      case '/metrics':
      case '/prometheus/metrics': {
        const text = this.deps.metricsText();
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
      case '/v1/models':
        if (!this.deps.isAuthorized(req.headers.authorization)) {
          return sendError(res, 401, 'Incorrect API key provided');
        }
        return this.models(res);
      default:
        return sendError(res, 404, 'Not Found');
    }
  }

  private async health(res: http.ServerResponse): Promise<void> {
    const { upstreams } = this.deps;
    const r = upstreams.readiness();
    const notReady = (reason: string): void => {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end(reason);
    };
    if (!r.ready) return notReady(r.reason);
    // Static mode: when every worker of a role is ejected, check one for real before claiming ready.
    for (const pool of [upstreams.context, upstreams.generation]) {
      if (
        pool.size() === 0 ||
        (pool === upstreams.context && this.deps.options.isGenOnlyBenchmark)
      ) {
        continue;
      }
      if (!pool.all().every((w) => w.isEjected)) continue;
      const probes = await Promise.all(pool.all().map((w) => getUpstream(w, '/health', 500)));
      if (!probes.some((p) => p !== undefined && p.status === 200)) {
        return notReady(`No healthy ${pool.role} server`);
      }
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }

  /** /v1/models: the union of the workers' model lists (generation workers first). */
  private async models(res: http.ServerResponse): Promise<void> {
    const { upstreams } = this.deps;
    const all = [...upstreams.generation.all(), ...upstreams.context.all()];
    const answers = await Promise.all(all.map((w) => getUpstream(w, '/v1/models', 2_000)));
    const seen = new Map<string, unknown>();
    for (const a of answers) {
      if (a && a.status === 200) this.collectModels(a.body, seen);
    }
    if (seen.size === 0 && all.length > 0) {
      return sendError(res, 503, 'No worker answered /v1/models', { 'retry-after': '1' });
    }
    sendJson(res, 200, JSON.stringify({ object: 'list', data: [...seen.values()] }));
  }

  private collectModels(body: Buffer, seen: Map<string, unknown>): void {
    try {
      const j = JSON.parse(body.toString('utf8')) as { data?: unknown };
      if (!Array.isArray(j.data)) return;
      for (const m of j.data as unknown[]) {
        const id = typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined;
        if (typeof id === 'string' && !seen.has(id)) seen.set(id, m);
      }
    } catch {
      this.deps.log('debug', 'a worker answered /v1/models with invalid JSON');
    }
  }
}
