// `disagg-console proxy --workers 2` as real processes: both serve one port, a killed process is
// restarted and the port keeps serving, the admission limit holds for the fleet (counts of admitted
// and shed requests), and SIGTERM stops every process, checked by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { getFreePort } from '../../helpers/free-port';
import { isProcessAlive } from '../../helpers/process-alive';
import type { FakeWorker } from './proxy-test-kit';
import { completionBody, request, startFakeWorker } from './proxy-test-kit';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'disagg-console.mjs');

interface Fleet {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

async function waitOutput(f: Fleet, re: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(f.out());
    if (m) return m;
    if (Date.now() > until) throw new Error(`no ${String(re)} in output:\n${f.out()}`);
    if (f.child.exitCode !== null) {
      throw new Error(`proxy exited (${f.child.exitCode}):\n${f.out()}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('disagg-console proxy --workers', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** `known`: every process pid seen, killed in the cleanup if still alive; a test adds replacements. */
  async function startFleet(
    workerArgs: string[],
    flags: string[],
  ): Promise<{ fleet: Fleet; port: number; pids: number[]; known: number[] }> {
    const [ctx, gen] = await Promise.all([startFakeWorker(), startFakeWorker(workerArgs)]);
    cleanups.push(() => Promise.all([ctx.kill(), gen.kill()]).then(() => undefined));
    const port = await getFreePort();
    const w = (x: FakeWorker): string => `"127.0.0.1:${x.port}"`;
    const dir = mkdtempSync(path.join(tmpdir(), 'proxy-fleet-'));
    const cfg = path.join(dir, 'disagg_config.yaml');
    writeFileSync(
      cfg,
      `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: [${w(ctx)}]\ngeneration_servers:\n  num_instances: 1\n  urls: [${w(gen)}]\n`,
    );
    const child = spawn(
      process.execPath,
      [BIN, 'proxy', '-c', cfg, '-t', '20', '-l', 'info', '--workers', '2', ...flags],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const fleet: Fleet = {
      child,
      out: () => out,
      exited: new Promise((r) => child.on('exit', (code) => r(code))),
    };
    const known: number[] = [];
    cleanups.push(() => {
      // Kill by pid whatever is left (the primary first, so it restarts nothing).
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        process.kill(child.pid, 'SIGKILL');
      }
      for (const pid of known) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    const m = await waitOutput(fleet, /2 proxy processes \(pids (\d+), (\d+)\) serve port (\d+)/);
    const pids = [Number(m[1]), Number(m[2])];
    known.push(...pids);
    expect(Number(m[3])).toBe(port);
    return { fleet, port, pids, known };
  }

  it('serves on one port, restarts a killed process, and SIGTERM stops every process', async () => {
    const { fleet, port, pids, known } = await startFleet([], []);
    expect(new Set(pids).size).toBe(2);
    for (let i = 0; i < 4; i++) {
      expect((await request(port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
    }

    process.kill(pids[0] as number, 'SIGKILL');
    const m = await waitOutput(fleet, /proxy process 0 restarted as pid (\d+)/);
    const replacement = Number(m[1]);
    known.push(replacement);
    expect(replacement).not.toBe(pids[0]);
    await waitOutput(fleet, new RegExp(`\\[0\\] .*all workers are healthy`));
    // New connections are handed to both processes again; every one is served.
    for (let i = 0; i < 6; i++) {
      expect((await request(port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
    }

    fleet.child.kill('SIGTERM');
    expect(await fleet.exited).toBe(0);
    for (const pid of [pids[1] as number, replacement]) expect(isProcessAlive(pid)).toBe(false);
  }, 120_000);

  it('holds --max-concurrency for the whole fleet, not per process', async () => {
    // Streams of 8 tokens 250 ms apart hold their slot for about 2 s; 2 slots for 2 processes is one each.
    const { port } = await startFleet(
      ['--tokens', '8', '--token-delay-ms', '250'],
      ['--max-concurrency', '2', '--max-queue', '0'],
    );
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        request(port, 'POST', '/v1/completions', completionBody({ stream: true }), {}, 30_000),
      ),
    );
    const statuses = answers.map((a) => a.status);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(2);
    expect(statuses.filter((s) => s === 429 || s === 503).length).toBe(8 - admitted);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.headers['retry-after']).toBeDefined();
    }
  }, 120_000);

  it('refuses a limit below the number of processes', async () => {
    const { fleet } = await (async () => {
      const port = await getFreePort();
      const dir = mkdtempSync(path.join(tmpdir(), 'proxy-fleet-'));
      const cfg = path.join(dir, 'disagg_config.yaml');
      writeFileSync(
        cfg,
        `hostname: 127.0.0.1\nport: ${port}\ncontext_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:1"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["127.0.0.1:2"]\n`,
      );
      const child = spawn(
        process.execPath,
        [BIN, 'proxy', '-c', cfg, '--workers', '4', '--max-concurrency', '3'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      return {
        fleet: {
          child,
          out: () => out,
          exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))),
        },
      };
    })();
    expect(await fleet.exited).toBe(2);
    expect(fleet.out()).toMatch(/--max-concurrency 3 is below --workers 4/);
  }, 60_000);
});
