// A small Server-Sent Events reader for tests (Node 20 has no EventSource): opens a GET with node:http,
// splits the stream into events, and lets a test wait for one with a timeout. Deliberately independent of
// shared/api/http-transport.ts so the two check each other.

import { request } from 'node:http';

/** One event as read from the wire. */
export interface SseMessage {
  event: string;
  data: string;
}

/** An open event stream. */
export interface SseReader {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Every event received so far, in order. */
  received: SseMessage[];
  /** Resolves with the first event (already received or future) matching the predicate, or rejects after timeoutMs. */
  waitFor(predicate: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Raw text received so far (comments included). */
  rawText(): string;
  /** Stops reading (the server's writes then back up), as a stalled client would. */
  pause(): void;
  close(): void;
}

/** Opens `url` as an event stream; resolves once the response headers arrived. */
export function openSseReader(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<SseReader> {
  return new Promise((resolveOpen, rejectOpen) => {
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      rejectOpen(new Error(`no response from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      rejectOpen(err);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const received: SseMessage[] = [];
      const waiters = new Set<{
        predicate: (m: SseMessage) => boolean;
        resolve: (m: SseMessage) => void;
      }>();
      let raw = '';
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        pending += chunk.replace(/\r\n?/g, '\n');
        let sep: number;
        while ((sep = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, sep);
          pending = pending.slice(sep + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue;
          const msg = { event, data: data.join('\n') };
          received.push(msg);
          for (const w of [...waiters]) {
            if (w.predicate(msg)) {
              waiters.delete(w);
              w.resolve(msg);
            }
          }
        }
      });
      res.on('error', () => undefined);
      resolveOpen({
        status: res.statusCode ?? 0,
        headers: res.headers,
        received,
        rawText: () => raw,
        pause: () => {
          res.pause();
        },
        waitFor(predicate, waitMs = 5000) {
          const found = received.find(predicate);
          if (found) return Promise.resolve(found);
          return new Promise((resolveWait, rejectWait) => {
            const entry = {
              predicate,
              resolve: (m: SseMessage) => {
                clearTimeout(t);
                resolveWait(m);
              },
            };
            const t = setTimeout(() => {
              waiters.delete(entry);
              rejectWait(
                new Error(
                  `no matching SSE event within ${waitMs} ms; got ${JSON.stringify(received)}`,
                ),
              );
            }, waitMs);
            waiters.add(entry);
          });
        },
        close() {
          res.destroy();
          req.destroy();
        },
      });
    });
    req.end();
  });
}
