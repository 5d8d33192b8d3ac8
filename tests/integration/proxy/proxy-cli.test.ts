// `disagg-console proxy` as a real process: refuses an invalid file with file:line:column, refuses a
// taken port, waits for the static workers, serves, and drains on SIGTERM with exit code 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { getFreePort } from '../../helpers/free-port';
import type { FakeWorker } from './proxy-test-kit';
import { completionBody, request, startFakeWorker } from './proxy-test-kit';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'disagg-console.mjs');

function writeConfig(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'proxy-cli-'));
  const f = path.join(dir, 'disagg_config.yaml');
  writeFileSync(f, text);
  return f;
}

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'proxy', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function waitOutput(r: Run, re: RegExp, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!re.test(r.out())) {
    if (Date.now() > until) throw new Error(`no ${String(re)} in output:\n${r.out()}`);
    if (r.child.exitCode !== null) {
      throw new Error(`proxy exited (${r.child.exitCode}):\n${r.out()}`);
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

// Each test starts the CLI under tsx, which takes seconds on a loaded machine: generous limits, no timing asserted.
describe('disagg-console proxy (CLI)', { timeout: 150_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function track(r: Run): Run {
    cleanups.push(async () => {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGKILL');
        await r.exited;
      }
    });
    return r;
  }

  it('exits non-zero naming file:line:column for an invalid file', async () => {
    const f = writeConfig(
      'hostname: 127.0.0.1\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls: ["localhost:8001"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:notaport"]\n',
    );
    const r = track(run(['-c', f]));
    expect(await r.exited).not.toBe(0);
    expect(r.out()).toMatch(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+`));
  });

  it('exits non-zero with a clear message when the port is taken', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((res) =>
      blocker.listen(0, '127.0.0.1', () => res((blocker.address() as net.AddressInfo).port)),
    );
    cleanups.push(() => new Promise<void>((res) => blocker.close(() => res())));
    const f = writeConfig(
      `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:1"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:2"]\n`,
    );
    const r = track(run(['-c', f, '-t', '1']));
    expect(await r.exited).toBe(1);
    expect(r.out()).toMatch(/already in use/);
  });

  it('waits for the workers, serves, and drains on SIGTERM with exit code 0', async () => {
    const port = await getFreePort();
    const [ctx, gen] = await Promise.all([
      startFakeWorker([], 0),
      startFakeWorker(['--start-delay-ms', '600']),
    ]);
    cleanups.push(async () => {
      await Promise.all([ctx.kill(), gen.kill()].map((p) => p));
    });
    const w = (x: FakeWorker): string => `"127.0.0.1:${x.port}"`;
    const f = writeConfig(
      `hostname: 127.0.0.1\nport: ${port}\nbackend: pytorch\ncontext_servers:\n  num_instances: 1\n  urls: [${w(ctx)}]\ngeneration_servers:\n  num_instances: 1\n  urls: [${w(gen)}]\n`,
    );
    const r = track(run(['-c', f, '-t', '60', '-l', 'info']));
    await waitOutput(r, /listening on http:\/\/127\.0\.0\.1:\d+/);
    await waitOutput(r, /all workers are healthy/);
    expect((await request(port, 'GET', '/health')).status).toBe(200);
    expect((await request(port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('fails after -t seconds when a worker never becomes healthy', async () => {
    const port = await getFreePort();
    const dead = await getFreePort();
    const f = writeConfig(
      `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${dead}"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:${dead}"]\n`,
    );
    const r = track(run(['-c', f, '-t', '1']));
    expect(await r.exited).toBe(1);
    expect(r.out()).toMatch(/not healthy after 1 s/);
  });
});
