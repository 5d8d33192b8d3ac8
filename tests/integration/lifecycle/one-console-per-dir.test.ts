// One console per data dir, and a console that comes back at the same address (issue #12 liveness, #15 item
// 3), with real `serve` processes: a second console on the dir is refused naming the first one's URL and pid
// while the first keeps running with its records untouched; a restart keeps the URL and token; `--port` wins;
// a stored port someone else took is replaced, saying so.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  ENDPOINT_FILE,
  planListenPort,
  readStoredEndpoint,
} from '../../../electron/core/lifecycle/console-endpoint';
import { LOCK_FILE } from '../../../electron/core/lifecycle/data-dir-lock';
import { getFreePort } from '../../helpers/free-port';
import { complete, randomFirstWorkerPort } from '../core/backend/backend-kit';
import {
  consoleOf,
  eventually,
  killWorkersOf,
  listWorkers,
  type Serve,
  startServe,
} from './serve-kit';

let dataDir = '';
const serves: Serve[] = [];
let blocker: Server | null = null;

afterEach(async () => {
  for (const s of serves.splice(0)) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await s.exited;
  }
  killWorkersOf(dataDir);
  await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
  blocker = null;
  rmSync(dataDir, { recursive: true, force: true });
});

function serve(extra: string[]): Serve {
  const s = startServe(dataDir, extra);
  serves.push(s);
  return s;
}

async function stop(s: Serve): Promise<void> {
  s.proc.kill('SIGTERM');
  expect(await s.exited).toEqual({ code: 0, signal: null });
}

describe('one console per data dir', () => {
  it("refuses a second console with the first one's URL and pid; the first keeps running and keeps its records", async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-two-'));
    const first = serve(['--demo', '--first-worker-port', String(randomFirstWorkerPort())]);
    const c1 = await consoleOf(first);
    await eventually(
      async () =>
        expect((await listWorkers(c1)).map((w) => w.status.state)).toEqual(['ready', 'ready']),
      40_000,
    );
    const pidRecord = readFileSync(join(dataDir, 'console.pid'), 'utf8');
    const lock = readFileSync(join(dataDir, LOCK_FILE), 'utf8');

    const second = serve(['--first-worker-port', String(randomFirstWorkerPort())]);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr()).toContain(c1.base);
    expect(second.stderr()).toContain(`pid ${first.pid}`);
    expect(second.stdout()).not.toContain('Console:');

    // The first console is untouched: same records, same workers, still serving.
    expect(readFileSync(join(dataDir, 'console.pid'), 'utf8')).toBe(pidRecord);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toBe(lock);
    expect((await listWorkers(c1)).map((w) => `${w.id}:${w.status.state}`).sort()).toEqual([
      'ctx0:ready',
      'gen0:ready',
    ]);
    const proxyUrl = /^Proxy: (\S+)$/m.exec(first.stdout())?.[1] as string;
    expect((await complete(proxyUrl)).status).toBe(200);

    await stop(first);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  }, 120_000);
});

describe('the console address across restarts', () => {
  it('keeps URL and token, lets --port win, and moves off a stored port that someone else took', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-endpoint-'));
    const workerPorts = ['--first-worker-port', String(randomFirstWorkerPort())];
    const s1 = serve(workerPorts);
    const c1 = await consoleOf(s1);
    expect(statSync(join(dataDir, ENDPOINT_FILE)).mode & 0o777).toBe(0o600);
    await stop(s1);

    const s2 = serve(workerPorts);
    expect((await consoleOf(s2)).consoleUrl).toBe(c1.consoleUrl);
    await stop(s2);

    const port = await getFreePort();
    const s3 = serve([...workerPorts, '--port', String(port)]);
    const c3 = await consoleOf(s3);
    expect(c3.base).toBe(`http://127.0.0.1:${port}`);
    expect(c3.token).toBe(c1.token);
    await stop(s3);

    // Someone else now listens on the stored port.
    const taken = Number(new URL(c3.base).port);
    blocker = createServer();
    await new Promise<void>((r) => blocker?.listen(taken, '127.0.0.1', r));
    const s4 = serve(workerPorts);
    const c4 = await consoleOf(s4);
    expect(c4.base).not.toBe(c3.base);
    expect(c4.token).toBe(c1.token);
    expect(s4.stderr()).toContain(`port ${taken} from the last start is taken by another process`);
    await stop(s4);
  }, 300_000);
});

describe('the stored endpoint file', () => {
  it('ignores malformed fields (they are chosen anew) and plans ports: --port, else stored then free, else free', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-endpoint-file-'));
    expect(readStoredEndpoint(dataDir)).toEqual({ port: null, token: null });
    writeFileSync(join(dataDir, ENDPOINT_FILE), JSON.stringify({ port: 70000, token: 'short' }));
    expect(readStoredEndpoint(dataDir)).toEqual({ port: null, token: null });
    const said: string[] = [];
    writeFileSync(join(dataDir, ENDPOINT_FILE), '{not json');
    expect(readStoredEndpoint(dataDir, (m) => said.push(m))).toEqual({ port: null, token: null });
    expect(said.join('\n')).toContain('not valid JSON');

    const stored = { port: 4444, token: 'x'.repeat(43) };
    expect(planListenPort(5555, stored)).toEqual({ ports: [5555] });
    expect(planListenPort(0, stored)).toEqual({ ports: [0] });
    expect(planListenPort(undefined, stored)).toEqual({ ports: [4444, 0] });
    expect(planListenPort(undefined, { port: null, token: null })).toEqual({ ports: [0] });
  });
});
