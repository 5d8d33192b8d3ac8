// The console API over HTTP for the headless console (`disagg-console serve`) and browsers:
// POST /api/<channel> with a JSON array of arguments -> the same Envelope dispatch() gives Electron IPC;
// GET /api/events -> Server-Sent Events (`event: <name>` / `data: <json>`); any other GET serves the built
// renderer. Listens on 127.0.0.1, answers only to allowed Host names, refuses state changes from other
// origins, and requires a random per-launch token on every /api call in the Authorization header (the page
// URL's `?token=` is moved into sessionStorage by the page and never accepted by /api). Layer: core.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

import { API_EVENTS, type ApiBackend } from '../../../shared/api/contract';
import { type Envelope, type ErrorCode, errorEnvelope } from '../../../shared/api/envelope';
import { SSE_CONNECTED_EVENT } from '../../../shared/api/http-transport';
import { dispatch, type DispatchLogger } from '../dispatch';
import {
  allowedHostNames,
  bearerToken,
  createTokenCheck,
  hasDotSegment,
  hostRefusal,
  originRefusal,
  realPathInside,
} from './request-guards';

/** Options of startApiServer. */
export interface ApiServerOptions {
  backend: ApiBackend;
  /** Default 127.0.0.1: the console API is never exposed beyond loopback by default. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default: a random 32-byte token. */
  token?: string;
  /**
   * Host names (no port) the console also answers to besides 127.0.0.1, localhost, [::1] and the listen
   * address: a reverse proxy's or the machine's name. Every other Host is refused (DNS rebinding).
   */
  allowedHosts?: readonly string[];
  /** Built renderer directory to serve; null/undefined serves nothing but the API. */
  staticDir?: string | null;
  /** Request body limit; topology files travel in bodies, so the default is 16 MiB. */
  maxBodyBytes?: number;
  /**
   * Time a client has to send a whole request (headers and body), default 60 s: a client that trickles its
   * body (slow-body denial of service) is answered 408 and cut off. Event streams are responses, not bound.
   */
  requestTimeoutMs?: number;
  /** SSE comment interval that keeps proxies and idle timers from closing the stream. */
  heartbeatMs?: number;
  /** Unsent event bytes one SSE client may hold before it is disconnected. */
  maxSseBufferBytes?: number;
  log?: DispatchLogger;
}

/** A running API server. */
export interface ApiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  token: string;
  /** The URL a user opens: `<url>/?token=<token>`. */
  consoleUrl: string;
  /** Ends open event streams and stops listening. */
  close(): Promise<void>;
}

/** A fresh random token (URL-safe). */
export function createApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/** HTTP status for an error envelope; the body always carries the envelope. */
export function httpStatusForError(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'INVALID_ARGUMENT':
    case 'CONFIG_INVALID':
      return 400;
    case 'UNKNOWN_CHANNEL':
    case 'NOT_FOUND':
    case 'WORKER_NOT_FOUND':
      return 404;
    case 'PORT_IN_USE':
    case 'BUSY':
    case 'STALE_STATE':
    case 'DATA_DIR_LOCKED':
    case 'CONFIRMATION_REQUIRED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'NOT_SUPPORTED':
      return 501;
    case 'CLUSTER_UNAVAILABLE':
      return 503;
    case 'WORKER_START_FAILED':
    case 'APPLY_FAILED':
    case 'INTERNAL':
      return 500;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Content type by file extension; unknown types are served as bytes. */
export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Resolves a URL path inside root, or null when it would leave root (`..`, encoded slashes, NUL) or is not
 * decodable. Returns root itself for `/`.
 */
export function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const base = resolve(root);
  const full = resolve(base, '.' + (decoded.startsWith('/') ? decoded : '/' + decoded));
  return full === base || full.startsWith(base + sep) ? full : null;
}

// Security headers on every answer. no-referrer: the console URL carries the token in its query string until
// the page has moved it into sessionStorage.
const BASE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendEnvelope(res: ServerResponse, envelope: Envelope<unknown>): void {
  sendJson(res, envelope.ok ? 200 : httpStatusForError(envelope.error.code), envelope);
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
    // A client gone mid-body (or cut off by the request timeout) must not leave this promise pending.
    req.on('close', () => {
      if (!req.complete) {
        reject(new Error('the client closed the connection before the body was complete'));
      }
    });
  });
}

/** What the request handlers read from the server they belong to. */
interface RequestContext {
  backend: ApiServerOptions['backend'];
  log: ApiServerOptions['log'];
  maxBodyBytes: number;
  heartbeatMs: number;
  maxSseBufferBytes: number;
  openStreams: Set<ServerResponse>;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

/** `POST /api/<channel>`: the JSON array of arguments, through the one dispatcher. */
async function handleCall(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  channel: string,
): Promise<void> {
  const { maxBodyBytes } = ctx;
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    sendJson(res, 405, errorEnvelope('INVALID_ARGUMENT', `use POST for /api/${channel}`));
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      res.setHeader('connection', 'close');
      sendEnvelope(
        res,
        errorEnvelope('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`),
      );
    } else {
      sendEnvelope(res, errorEnvelope('INVALID_ARGUMENT', 'request body could not be read'));
    }
    return;
  }
  let args: unknown = [];
  if (body.length > 0) {
    try {
      args = JSON.parse(body.toString('utf8'));
    } catch {
      sendEnvelope(
        res,
        errorEnvelope('INVALID_ARGUMENT', 'request body must be a JSON array of arguments'),
      );
      return;
    }
  }
  sendEnvelope(res, await dispatch(ctx.backend.api, channel, args, ctx.log));
}

/** `GET /api/events`: every backend event as SSE, a heartbeat, and a cut-off for clients that stop reading. */
function handleEvents(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
  const { backend, openStreams, maxSseBufferBytes, heartbeatMs } = ctx;
  res.writeHead(200, {
    ...BASE_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  openStreams.add(res);
  const offs = API_EVENTS.map((name) =>
    backend.onEvent(name, (payload) => {
      if (res.writableEnded) return;
      // A client that stopped reading must not make the console buffer events without bound: drop it; the
      // transport reconnects and pulls a fresh snapshot.
      if (res.writableLength > maxSseBufferBytes) {
        res.destroy();
        return;
      }
      res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
    }),
  );
  // Sent after subscribing, so a client that saw it cannot miss a later event.
  res.write(`event: ${SSE_CONNECTED_EVENT}\ndata: {}\n\n`);
  const heartbeat = setInterval(() => {
    if (!res.writableEnded) res.write(': ping\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  const cleanup = (): void => {
    clearInterval(heartbeat);
    for (const off of offs) off();
    openStreams.delete(res);
  };
  req.on('close', cleanup);
  res.on('close', cleanup);
}

/** Everything outside /api: the built renderer, with the app shell for client-side routes. */
async function handleStatic(
  staticRoot: string | null,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...BASE_HEADERS, allow: 'GET, HEAD' }).end();
    return;
  }
  if (!staticRoot) {
    sendText(res, 404, 'not found\n');
    return;
  }
  const target = safeJoin(staticRoot, pathname);
  if (target === null) {
    sendText(res, 400, 'bad path\n');
    return;
  }
  // Dotfiles (.env, .git) are never part of a built renderer: answer as if they did not exist.
  if (hasDotSegment(target.slice(staticRoot.length).split(sep).join('/'))) {
    sendText(res, 404, 'not found\n');
    return;
  }
  let file = target;
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = resolve(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  // Client-side routes (no file extension) get the app shell; a missing asset is a plain 404.
  if (!info?.isFile() && extname(pathname) === '') {
    file = resolve(staticRoot, 'index.html');
    info = await stat(file).catch(() => null);
  }
  const real = info?.isFile() ? await realPathInside(staticRoot, file) : null;
  if (real === null || !info) {
    sendText(res, 404, 'not found\n');
    return;
  }
  file = real;
  const isHtml = extname(file).toLowerCase() === '.html';
  res.writeHead(200, {
    ...BASE_HEADERS,
    'content-type': contentTypeFor(file),
    'content-length': info.size,
    'cache-control': isHtml ? 'no-cache' : 'public, max-age=3600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Starts the API server; resolves once it listens. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? createApiToken();
  const isTokenValid = createTokenCheck(token);
  const allowedHosts = allowedHostNames(host, options.allowedHosts);
  // The real path, so a symlinked static folder still works and only links leading out of it are refused.
  const staticRoot = options.staticDir
    ? await realpath(resolve(options.staticDir)).catch(() => resolve(options.staticDir as string))
    : null;
  const openStreams = new Set<ServerResponse>();
  const ctx: RequestContext = {
    backend: options.backend,
    log: options.log,
    maxBodyBytes: options.maxBodyBytes ?? 16 << 20,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxSseBufferBytes: options.maxSseBufferBytes ?? 8 << 20,
    openStreams,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostProblem = hostRefusal(req.headers.host, allowedHosts);
    if (hostProblem !== null) {
      // 421 Misdirected Request: this server is not the one the name was meant for.
      res.setHeader('connection', 'close');
      sendJson(res, 421, errorEnvelope('FORBIDDEN', hostProblem));
      return;
    }
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      const originProblem =
        req.method === 'GET' || req.method === 'HEAD'
          ? null
          : originRefusal(req.headers.origin, req.headers.host);
      if (originProblem !== null) {
        sendEnvelope(res, errorEnvelope('FORBIDDEN', originProblem));
        return;
      }
      if (!isTokenValid(bearerToken(req.headers.authorization))) {
        res.setHeader('www-authenticate', 'Bearer');
        sendEnvelope(res, errorEnvelope('UNAUTHORIZED', 'missing or wrong console token'));
        return;
      }
      const rest = pathname.slice('/api/'.length);
      if (rest === 'events') {
        if (req.method !== 'GET') {
          res.setHeader('allow', 'GET');
          sendJson(res, 405, errorEnvelope('INVALID_ARGUMENT', 'use GET for /api/events'));
          return;
        }
        handleEvents(ctx, req, res);
        return;
      }
      let channel: string;
      try {
        channel = decodeURIComponent(rest);
      } catch {
        sendEnvelope(res, errorEnvelope('UNKNOWN_CHANNEL', 'malformed channel name'));
        return;
      }
      await handleCall(ctx, req, res, channel);
      return;
    }
    await handleStatic(staticRoot, req, res, pathname);
  };

  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const server: Server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      // Node checks the two timeouts on this interval (default 30 s); keep it a fraction of the timeout.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4))),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        (options.log ?? ((m, e) => process.stderr.write(`${m}: ${String(e)}\n`)))(
          'console API request failed',
          err,
        );
        if (!res.headersSent) sendEnvelope(res, errorEnvelope('INTERNAL', 'request failed'));
        else res.destroy();
      });
    },
  );

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    token,
    consoleUrl: `${url}/?token=${encodeURIComponent(token)}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const res of openStreams) res.end();
        openStreams.clear();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
