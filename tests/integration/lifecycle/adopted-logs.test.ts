// Adopted workers keep their output (issue #15): a worker writes its log file itself, so after kill -9 of the
// console (a real `serve`) the worker logs on while no console runs, and the next console, which adopts it,
// shows through the log API the lines written before the crash, while no console ran, and after adoption.
// The worker's lines here are the sim worker's own: it logs each change of its fault switches.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { LogLine } from '../../../shared/model/logs';
import { randomFirstWorkerPort } from '../core/backend/backend-kit';
import {
  call,
  consoleOf,
  discardServe,
  eventually,
  listWorkers,
  type Serve,
  startServe,
} from './serve-kit';

let dataDir = '';
let serve: Serve | null = null;

afterEach(async () => {
  await discardServe(serve, dataDir);
  serve = null;
});

/** Makes the sim worker print a line of its own: `[sim] fault switches now {..."extraIterationMs":N...}`. */
async function workerSays(url: string, mark: number): Promise<string> {
  const res = await fetch(`${url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ extraIterationMs: mark }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(200);
  return `"extraIterationMs":${mark}`;
}

const logsOf = (c: { base: string; token: string }, id: string): Promise<LogLine[]> =>
  call<LogLine[]>(c, 'workers:logs', [id, { tail: 2000 }]);

describe('adopted workers keep their output', () => {
  it('shows lines written before the crash, while no console ran, and after adoption', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-adopted-logs-'));
    const firstWorkerPort = String(randomFirstWorkerPort());
    serve = startServe(dataDir, ['--demo', '--first-worker-port', firstWorkerPort]);
    let c = await consoleOf(serve);
    const gen = await eventually(async () => {
      const w = (await listWorkers(c)).find((v) => v.id === 'gen0');
      expect(w?.status.state).toBe('ready');
      return w as NonNullable<typeof w>;
    }, 40_000);
    const pid = gen.status.pid;

    const before = await workerSays(gen.url, 11);
    await eventually(async () => {
      expect((await logsOf(c, 'gen0')).some((l) => l.text.includes(before))).toBe(true);
    }, 10_000);

    serve.proc.kill('SIGKILL');
    await serve.exited;
    // No console: the worker (now a child of init) still writes to its file.
    const meanwhile = await workerSays(gen.url, 22);
    const file = join(dataDir, 'logs', 'workers', 'gen0.log');
    await eventually(() => expect(readFileSync(file, 'utf8')).toContain(meanwhile), 10_000);

    serve = startServe(dataDir, ['--first-worker-port', firstWorkerPort]);
    c = await consoleOf(serve);
    await eventually(async () => {
      const w = (await listWorkers(c)).find((v) => v.id === 'gen0');
      expect(w?.status).toMatchObject({ state: 'ready', pid });
    }, 40_000);
    const after = await workerSays(gen.url, 33);

    const texts = await eventually(async () => {
      const lines = (await logsOf(c, 'gen0')).map((l) => l.text);
      expect(lines.some((t) => t.includes(after))).toBe(true);
      return lines;
    }, 10_000);
    const at = (needle: string): number => texts.findIndex((t) => t.includes(needle));
    expect(at(before)).toBeGreaterThanOrEqual(0);
    expect(at(meanwhile)).toBeGreaterThan(at(before));
    expect(at('adopted running process')).toBeGreaterThan(at(meanwhile));
    expect(at(after)).toBeGreaterThan(at('adopted running process'));
    // Each line once: the new console read the file from where it started, not twice.
    expect(texts.filter((t) => t.includes(before))).toHaveLength(1);
    expect(existsSync(`${file}.1`)).toBe(false);
  }, 150_000);
});
