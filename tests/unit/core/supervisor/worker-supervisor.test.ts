// The supervisor's effect runner with a fake launcher, a fake probe and a manual clock: ordering and races.
import { describe, expect, it } from 'vitest';

import type { ProbeResult } from '../../../../electron/core/supervisor/health-probe';
import { createLogStore } from '../../../../electron/core/supervisor/log-store';
import { createPortAllocator } from '../../../../electron/core/supervisor/port-allocator';
import type {
  LaunchedProcess,
  LaunchRequest,
  ProcessExit,
  StdStream,
} from '../../../../electron/core/supervisor/process-launcher';
import {
  createWorkerSupervisor,
  type SupervisorClock,
} from '../../../../electron/core/supervisor/worker-supervisor';
import type { WorkerSpec, WorkerStatus } from '../../../../shared/model/worker';
import { workerSpec } from '../../../helpers/worker-spec';

class FakeProcess implements LaunchedProcess {
  readonly signals: string[] = [];
  private lineCb: ((s: StdStream, l: string) => void) | null = null;
  private resolveExit: (e: ProcessExit) => void = () => undefined;
  readonly exited = new Promise<ProcessExit>((r) => (this.resolveExit = r));
  constructor(
    readonly pid: number,
    readonly req: LaunchRequest,
  ) {}
  onLine(cb: (s: StdStream, l: string) => void): void {
    this.lineCb = cb;
  }
  print(line: string, stream: StdStream = 'stdout'): void {
    this.lineCb?.(stream, line);
  }
  exit(code: number | null, signal: string | null = null): void {
    this.resolveExit({ code, signal });
  }
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    return true;
  }
}

function manualClock(): SupervisorClock & { advance(ms: number): void } {
  let t = 0;
  let next = 1;
  const timers = new Map<number, { at: number; cb: () => void }>();
  return {
    now: () => t,
    setTimeout: (cb, ms) => {
      const id = next++;
      timers.set(id, { at: t + ms, cb });
      return id;
    },
    clearTimeout: (h) => {
      timers.delete(h as number);
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, x]) => x.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        t = due[1].at;
        due[1].cb();
      }
      t = end;
    },
  };
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function setup() {
  const procs: FakeProcess[] = [];
  let launchGate: Promise<void> = Promise.resolve();
  const probes: { url: string; resolve: (r: ProbeResult) => void }[] = [];
  const clock = manualClock();
  const statuses: WorkerStatus[] = [];
  const sup = createWorkerSupervisor({
    logStore: createLogStore({ dir: null }),
    clock,
    ports: { ...createPortAllocator(), assertFree: () => Promise.resolve() },
    policy: {
      readyTimeoutMs: 10_000,
      probeIntervalMs: 100,
      killTimeoutMs: 500,
      backoffBaseMs: 1000,
      maxRestarts: 5,
    },
    commandOptions: { baseEnv: {}, nodeBinary: 'node', cliScript: 'cli.mjs' },
    launcher: {
      async launch(req) {
        await launchGate;
        const p = new FakeProcess(1000 + procs.length, req);
        procs.push(p);
        return p;
      },
    },
    probe: { probe: (url) => new Promise((resolve) => probes.push({ url, resolve })) },
  });
  sup.onDidChangeStatus((s) => statuses.push(s));
  return {
    sup,
    procs,
    probes,
    clock,
    statuses,
    gate(p: Promise<void>) {
      launchGate = p;
    },
  };
}

const spec: WorkerSpec = workerSpec({
  id: 'w',
  gpus: [0, 1],
  host: '0.0.0.0',
  port: 8001,
  tpSize: 2,
});

describe('worker supervisor (fakes)', () => {
  it('probes over loopback for a 0.0.0.0 worker and is ready on the first 200', async () => {
    const t = setup();
    t.sup.add(spec);
    await t.sup.start('w');
    expect(t.procs[0]?.req.command).toBe('trtllm-serve');
    expect(t.probes[0]?.url).toBe('http://127.0.0.1:8001/health');
    t.probes[0]?.resolve({ ok: false, status: null, error: 'ECONNREFUSED' });
    await flush();
    expect(t.sup.status('w').state).toBe('starting');
    t.clock.advance(100);
    t.probes[1]?.resolve({ ok: true, status: 200, error: null });
    await flush();
    expect(t.sup.status('w')).toMatchObject({ state: 'ready', readyAtMs: 100 });
  });

  it('drops a probe answer that belongs to a run which has since crashed', async () => {
    const t = setup();
    t.sup.add(spec);
    await t.sup.start('w');
    const stale = t.probes[0];
    t.procs[0]?.exit(1);
    await flush();
    expect(t.sup.status('w').state).toBe('backoff');
    t.clock.advance(1000);
    await flush();
    expect(t.procs).toHaveLength(2);
    stale?.resolve({ ok: true, status: 200, error: null });
    await flush();
    expect(t.sup.status('w').state).toBe('starting');
  });

  it('a stop that arrives while the spawn is in flight still terminates the new process', async () => {
    const t = setup();
    let open: () => void = () => undefined;
    t.gate(new Promise((r) => (open = r)));
    t.sup.add(spec);
    const starting = t.sup.start('w');
    const stopping = t.sup.stop('w');
    open();
    await starting;
    await flush();
    expect(t.procs[0]?.signals).toEqual(['SIGTERM']);
    t.procs[0]?.exit(null, 'SIGTERM');
    expect((await stopping).state).toBe('stopped');
  });

  it('escalates to SIGKILL on the kill timer', async () => {
    const t = setup();
    t.sup.add(spec);
    await t.sup.start('w');
    const stopping = t.sup.stop('w');
    await flush();
    expect(t.procs[0]?.signals).toEqual(['SIGTERM']);
    t.clock.advance(500);
    expect(t.procs[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    t.procs[0]?.exit(null, 'SIGKILL');
    expect((await stopping).lastExit?.reason).toContain('SIGKILL after 500 ms');
  });

  it('passes on loading progress once per visible change', async () => {
    const t = setup();
    t.sup.add(spec);
    await t.sup.start('w');
    const before = t.statuses.length;
    t.procs[0]?.print('Loading weights:  50%|#####     | 2/4');
    t.procs[0]?.print('Loading weights:  50%|#####     | 2/4');
    t.procs[0]?.print('unrelated');
    t.procs[0]?.print('Loading weights: 100%|##########| 4/4');
    const progress = t.statuses.slice(before).map((s) => s.progress?.fraction);
    expect(progress).toEqual([0.5, 1]);
  });

  it('restart keeps the crash count clean and spawns a new process', async () => {
    const t = setup();
    t.sup.add(spec);
    await t.sup.start('w');
    const restarting = t.sup.restart('w');
    await flush();
    t.procs[0]?.exit(0);
    const st = await restarting;
    expect(st.state).toBe('starting');
    expect(st.restarts).toBe(0);
    expect(t.procs).toHaveLength(2);
  });

  it('remove stops, forgets the worker and frees its port and GPUs', async () => {
    const t = setup();
    t.sup.add(spec);
    expect(t.sup.gpuHolders()).toEqual({
      '0': [{ workerId: 'w', role: 'context' }],
      '1': [{ workerId: 'w', role: 'context' }],
    });
    await t.sup.start('w');
    const removing = t.sup.remove('w');
    await flush();
    t.procs[0]?.exit(0);
    await removing;
    expect(() => t.sup.status('w')).toThrow(
      expect.objectContaining({ code: 'WORKER_NOT_FOUND' }) as Error,
    );
    expect(t.sup.gpuHolders()).toEqual({});
    expect(() => t.sup.add({ ...spec, id: 'w2' })).not.toThrow();
  });

  it('allocates a free port for a new worker, which add() then accepts and another worker cannot take', async () => {
    const t = setup();
    const port = await t.sup.allocatePort('gen0', '127.0.0.1');
    expect(port).toBeGreaterThanOrEqual(8001);
    expect(() => t.sup.add({ ...spec, id: 'other', port })).toThrow(
      expect.objectContaining({ code: 'PORT_IN_USE' }) as Error,
    );
    expect(() => t.sup.add({ ...spec, id: 'gen0', port })).not.toThrow();
    expect(await t.sup.allocatePort('gen1', '127.0.0.1')).not.toBe(port);
  });

  it('rejects a duplicate id', () => {
    const t = setup();
    t.sup.add(spec);
    expect(() => t.sup.add(spec)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    );
  });
});
