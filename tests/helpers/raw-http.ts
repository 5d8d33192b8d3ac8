// One HTTP request to a loopback server with exactly the headers a test gives (fetch would set Host and
// Origin itself), on a fresh connection (no pooling, so a closed socket really closes).

import { request } from 'node:http';

/** Status and body text of an answer. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** Options of rawHttp. */
export interface RawHttpOptions {
  headers?: Record<string, string>;
  body?: string;
  /** Send no Host header at all (by default `127.0.0.1:<port>` unless headers name one). */
  isHostOmitted?: boolean;
}

/** Sends `method path` to 127.0.0.1:port; resolves with the answer. */
export function rawHttp(
  port: number,
  method: string,
  path: string,
  options: RawHttpOptions = {},
): Promise<RawAnswer> {
  const headers = { ...options.headers };
  if (!options.isHostOmitted && headers.host === undefined) headers.host = `127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, setHost: false, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
