// The proxy's listening socket and its defences before any handler runs (issue #15): a deadline for
// the request line and headers (Node's headersTimeout, answered 408 in the OpenAI error shape), a
// backstop on the whole request, and a cap on the connections one client address may hold open
// (nginx's limit_conn: requests on the excess connections get 429 and the connection is closed).
// Layer: core.
import http from 'node:http';
import type net from 'node:net';

import { sendError } from './client-reply';
import { errorBody } from './openai-error';
import type { ProxyLog } from './proxy-options';

export interface ListenerOptions {
  host: string;
  port: number;
  headersTimeoutMs: number;
  /** Whole request (headers and body) backstop; the lifecycle's own body bounds answer first. */
  requestTimeoutMs: number;
  /** 0: no limit. */
  maxConnectionsPerClient: number;
  log: ProxyLog;
}

/** A raw HTTP/1.1 error answer for a connection no request handler owns (headers never completed). */
function rawErrorResponse(status: number, reason: string, message: string): string {
  const body = errorBody(message, status);
  return `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const HEADERS_TIMEOUT_RESPONSE = rawErrorResponse(408, 'Request Timeout', 'Request headers not received in time');
const BAD_REQUEST_RESPONSE = rawErrorResponse(400, 'Bad Request', 'Malformed HTTP request');

/** Whether Node already started an answer on this socket (then nothing more may be written to it). */
function isAnswering(socket: net.Socket): boolean {
  // Node's own clientError fallback checks the same private field (lib/_http_server.js socketOnError).
  const inFlight = (socket as net.Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return inFlight?.headersSent === true;
}

export class ProxyListener {
  private readonly server: http.Server;
  /** Open connections per client address. */
  private readonly perClient = new Map<string, number>();
  /** Connections beyond their address's limit: their requests are refused. */
  private readonly overLimit = new WeakSet<net.Socket>();
  private boundPort = 0;

  constructor(
    private readonly o: ListenerOptions,
    onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ) {
    this.server = http.createServer(
      {
        keepAliveTimeout: 65_000,
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: Math.max(o.requestTimeoutMs, o.headersTimeoutMs),
        // How often Node checks those two timeouts (default 30 s, which would let a slow client keep its
        // connection up to twice the timeout).
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, o.headersTimeoutMs / 4)),
      },
      (req, res) => {
        if (this.overLimit.has(req.socket)) return this.refuseOverLimit(req, res);
        onRequest(req, res);
      },
    );
    if (o.maxConnectionsPerClient > 0) this.server.on('connection', (s: net.Socket) => this.countConnection(s));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => this.onClientError(err, socket));
  }

  get port(): number {
    return this.boundPort;
  }

  /** Starts listening; resolves with the bound port. Rejects with code EADDRINUSE when taken. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      // A deep accept queue: with Node's default (511) a burst of new client connections overflows it
      // and the dropped SYNs come back only after the kernel's 1 s retransmit (seen in bench:proxy).
      this.server.listen({ port: this.o.port, host: this.o.host, backlog: 4096 }, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : this.o.port;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting; resolves once every connection has closed. */
  stopAccepting(): Promise<void> {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
  }

  private countConnection(socket: net.Socket): void {
    const addr = socket.remoteAddress ?? '';
    const n = (this.perClient.get(addr) ?? 0) + 1;
    this.perClient.set(addr, n);
    if (n > this.o.maxConnectionsPerClient) this.overLimit.add(socket);
    socket.once('close', () => {
      const left = (this.perClient.get(addr) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(addr);
      else this.perClient.set(addr, left);
    });
  }

  private refuseOverLimit(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.o.log('debug', `refused a request from ${req.socket.remoteAddress ?? '?'}: over ${this.o.maxConnectionsPerClient} connections`);
    req.resume();
    sendError(res, 429, `Too many connections from this client (limit ${this.o.maxConnectionsPerClient})`, { 'retry-after': '1', connection: 'close' });
  }

  /** Malformed requests and header timeouts: an OpenAI-shaped answer where nothing was answered yet, then close. */
  private onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    if (err.code !== 'ECONNRESET' && socket.writable && !isAnswering(socket)) {
      socket.write(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? HEADERS_TIMEOUT_RESPONSE : BAD_REQUEST_RESPONSE);
    }
    socket.destroy();
  }
}
