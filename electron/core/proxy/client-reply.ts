// Writing to the client: JSON answers and OpenAI-shaped errors, the console's response headers, and
// the HTTP/1.1 chunk framing the stream relay writes straight onto the socket. Layer: core.
import type http from 'node:http';

import { errorBody } from './openai-error';
import type { ProxyRequestRecord } from './types';

/** Response headers the console reads (and the request headers that pin a route, with the same names). */
export const DISAGG_HEADER = {
  requestId: 'x-disagg-request-id',
  contextWorker: 'x-disagg-context-worker',
  generationWorker: 'x-disagg-generation-worker',
  contextMs: 'x-disagg-context-ms',
  handoffMs: 'x-disagg-handoff-ms',
} as const;

export const EXPOSED_HEADERS = Object.values(DISAGG_HEADER).join(', ');

const JSON_TYPE = 'application/json';

/** Writes a whole JSON answer unless something was already sent. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: string,
  extra?: Record<string, string>,
): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/** An OpenAI-shaped error answer (openai-error.ts). */
export function sendError(
  res: http.ServerResponse,
  status: number,
  message: string,
  extra?: Record<string, string>,
): void {
  sendJson(res, status, errorBody(message, status), extra);
}

/** A whole answer relayed as bytes, with its status and content type. */
export function sendBody(
  res: http.ServerResponse,
  status: number,
  contentType: string | undefined,
  body: Buffer | string,
  headers?: Record<string, string>,
): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, {
    ...headers,
    'content-type': contentType ?? JSON_TYPE,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `http://host:port` -> `host:port`, as `urls` entries are written. */
function hostPortOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/**
 * Console additions on every inference answer: the proxy's request id (the console's `requests:get` key),
 * which workers served it, and the context and hand-off times the playground draws. Set before writeHead,
 * which merges them. Upstream's proxy sends none of these; clients that do not know them ignore them.
 */
export function setRouteHeaders(res: http.ServerResponse, rec: ProxyRequestRecord): void {
  if (res.headersSent) return;
  res.setHeader(DISAGG_HEADER.requestId, String(rec.id));
  if (rec.ctxWorker !== undefined) {
    res.setHeader(DISAGG_HEADER.contextWorker, hostPortOf(rec.ctxWorker));
  }
  if (rec.genWorker !== undefined) {
    res.setHeader(DISAGG_HEADER.generationWorker, hostPortOf(rec.genWorker));
  }
  if (rec.ctxSentAt !== undefined && rec.ctxAnsweredAt !== undefined) {
    res.setHeader(DISAGG_HEADER.contextMs, (rec.ctxAnsweredAt - rec.ctxSentAt).toFixed(1));
  }
  if (rec.ctxAnsweredAt !== undefined && rec.genSentAt !== undefined) {
    res.setHeader(DISAGG_HEADER.handoffMs, (rec.genSentAt - rec.ctxAnsweredAt).toFixed(1));
  }
}

/**
 * One HTTP/1.1 chunk of `parts` joined (`size` bytes in all, not 0) in one buffer: the size in hex,
 * CRLF, the bytes, CRLF.
 */
export function frameChunks(parts: readonly Buffer[], size: number): Buffer {
  const hex = size.toString(16);
  const framed = Buffer.allocUnsafe(hex.length + size + 4);
  let o = framed.write(hex, 0, 'latin1');
  framed[o++] = 13;
  framed[o++] = 10;
  for (const p of parts) o += p.copy(framed, o);
  framed[o++] = 13;
  framed[o] = 10;
  return framed;
}
