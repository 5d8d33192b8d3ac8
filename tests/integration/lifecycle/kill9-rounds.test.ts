// kill -9 of the console (a real `disagg-console serve` process) at random points during add / remove / apply,
// then a new start on the same data dir (issue #15 item 2): it adopts what the dead console left running and
// loses nothing. After every restart: the topology on disk is one complete version; every worker of it runs
// exactly once (one process per worker, the one the console lists, ready); no process of the data dir runs
// outside the topology (no orphan keeps a port); an operation that was answered before the kill is on disk; the
// proxy answers. A few rounds by default; DISAGG_KILL9_ROUNDS=20 (or more) for the long version, with
// DISAGG_KILL9_SEED to replay one sequence.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createRandom } from '../../../electron/core/bench/random-dataset';
import { parseConsoleFile } from '../../../shared/logic/console-file';
import type { TopologyView, TopologyWorker } from '../../../shared/model/topology';
import { complete, MODEL, randomFirstWorkerPort } from '../core/backend/backend-kit';
import {
  call,
  consoleOf,
  discardServe,
  eventually,
  listWorkers,
  portArgOf,
  type Serve,
  startServe,
  workerProcessesOf,
} from './serve-kit';

const ROUNDS = Number(process.env.DISAGG_KILL9_ROUNDS ?? 3);
const SEED = Number(process.env.DISAGG_KILL9_SEED ?? 20261207);
const GPU_COUNT = 4;
/** Longest pause between starting an operation and the kill (add and apply take one to three seconds on a loaded machine). */
const MAX_KILL_DELAY_MS = 3000;

let dataDir = '';
let serve: Serve | null = null;

afterEach(async () => {
  await discardServe(serve, dataDir);
  serve = null;
});

/** The topology files in a folder as the store reads them (dot files are its temp files, meta.json its own). */
function filesIn(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'meta.json' || name === 'versions') continue;
    files[name] = readFileSync(join(dir, name), 'utf8');
  }
  return files;
}

/** The current topology on disk; throws unless it equals the newest version folder exactly. */
function completeTopologyOnDisk(): { workers: TopologyWorker[]; files: Record<string, string> } {
  const topo = join(dataDir, 'topologies', 'default');
  const versions = readdirSync(join(topo, 'versions'))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => b - a);
  const current = filesIn(topo);
  const latest = filesIn(join(topo, 'versions', String(versions[0])));
  expect(current, `current files vs version ${versions[0]}`).toEqual(latest);
  const parsed = parseConsoleFile(current['console.yaml'] ?? '');
  if (!parsed.ok) throw new Error(`console.yaml does not parse: ${JSON.stringify(parsed)}`);
  return { workers: parsed.value.workers, files: current };
}

type Op =
  | { kind: 'add'; role: 'context' | 'generation'; gpu: number }
  | { kind: 'remove'; id: string }
  | { kind: 'apply'; file: string; mark: string };

function pickOp(rand: () => number, workers: TopologyWorker[], round: number): Op {
  const used = new Set(workers.flatMap((w) => w.gpus));
  const freeGpus = [...Array(GPU_COUNT).keys()].filter((g) => !used.has(g));
  // Removing the last worker of a role is refused by validation: only workers whose role has another.
  const removable = workers.filter((w) => workers.filter((x) => x.role === w.role).length > 1);
  const kinds: Op['kind'][] = ['apply'];
  if (freeGpus.length > 0) kinds.push('add');
  if (removable.length > 0) kinds.push('remove');
  const kind = kinds[Math.floor(rand() * kinds.length)] as Op['kind'];
  if (kind === 'add') {
    return {
      kind,
      role: rand() < 0.5 ? 'context' : 'generation',
      gpu: freeGpus[Math.floor(rand() * freeGpus.length)] as number,
    };
  }
  if (kind === 'remove') {
    return { kind, id: (removable[Math.floor(rand() * removable.length)] as TopologyWorker).name };
  }
  const w = workers[Math.floor(rand() * workers.length)] as TopologyWorker;
  // A change the plan sees (a restart), not only a comment.
  return { kind, file: w.optionsFile ?? `${w.name}.yaml`, mark: `max_batch_size: ${16 + round}` };
}

async function runOp(c: { base: string; token: string }, op: Op): Promise<string | null> {
  if (op.kind === 'add') {
    const view = await call<{ id: string }>(c, 'workers:add', [
      { role: op.role, gpus: [op.gpu], model: MODEL, engine: 'simulated' },
    ]);
    return view.id;
  }
  if (op.kind === 'remove') {
    await call(c, 'workers:remove', [op.id]);
    return op.id;
  }
  const topo = await call<TopologyView>(c, 'topology:get');
  const kept = (topo.files[op.file] ?? '')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('max_batch_size:'));
  const files = { ...topo.files, [op.file]: [...kept, op.mark, ''].join('\n') };
  await call(c, 'topology:apply', [files]);
  return op.file;
}

/** Everything a restarted console must show; resolves with the topology's workers. */
async function expectNothingLost(
  c: { base: string; token: string },
  proxyUrl: string,
): Promise<TopologyWorker[]> {
  const { workers } = completeTopologyOnDisk();
  const names = workers.map((w) => w.name).sort();
  // Every worker of the topology is listed and ready (adopted or started again).
  const listed = await eventually(async () => {
    const list = (await listWorkers(c)).filter((w) => w.origin === 'local');
    expect(list.map((w) => `${w.id}:${w.status.state}`).sort()).toEqual(
      names.map((n) => `${n}:ready`),
    );
    return list;
  }, 40_000);
  // Exactly one process per worker, the one the console supervises; nothing else of this data dir runs.
  await eventually(() => {
    const procs = workerProcessesOf(dataDir);
    const byPort = new Map<number, number[]>();
    for (const p of procs) {
      byPort.set(portArgOf(p.cmdline) ?? -1, [
        ...(byPort.get(portArgOf(p.cmdline) ?? -1) ?? []),
        p.pid,
      ]);
    }
    const expected = new Map(
      workers.map((w) => [w.port, [listed.find((l) => l.id === w.name)?.status.pid]]),
    );
    expect(Object.fromEntries(byPort)).toEqual(Object.fromEntries(expected));
  }, 15_000);
  expect((await complete(proxyUrl)).status).toBe(200);
  return workers;
}

describe('kill -9 of the console during add/remove/apply', () => {
  it(
    `loses nothing over ${ROUNDS} rounds (seed ${SEED}): the next start adopts what runs and starts the rest`,
    async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'dc-kill9-'));
      const firstWorkerPort = String(randomFirstWorkerPort());
      const rand = createRandom(SEED);
      serve = startServe(dataDir, ['--demo', '--first-worker-port', firstWorkerPort]);
      let c = await consoleOf(serve);
      let proxyUrl = /^Proxy: (\S+)$/m.exec(serve.stdout())?.[1] as string;
      let workers = await expectNothingLost(c, proxyUrl);
      let adoptedTotal = 0;

      for (let round = 1; round <= ROUNDS; round++) {
        const op = pickOp(rand, workers, round);
        const delayMs = Math.floor(rand() * MAX_KILL_DELAY_MS);
        let answered: string | null = null;
        const pending = runOp(c, op).then(
          (done) => (answered = done),
          () => undefined,
        );
        await new Promise((r) => setTimeout(r, delayMs));
        const before = serve;
        before.proc.kill('SIGKILL');
        await before.exited;
        await pending;

        serve = startServe(dataDir, ['--first-worker-port', firstWorkerPort]);
        const next = await consoleOf(serve);
        // The same data dir keeps its token, so an open page reconnects (the port too, unless someone took it).
        expect(next.token).toBe(c.token);
        c = next;
        proxyUrl = /^Proxy: (\S+)$/m.exec(serve.stdout())?.[1] as string;
        const context = `round ${round}: ${JSON.stringify(op)} killed after ${delayMs} ms (${answered === null ? 'not answered' : 'answered'})\n${serve.stderr()}`;
        try {
          workers = await expectNothingLost(c, proxyUrl);
        } catch (err) {
          throw new Error(`${context}\n${err instanceof Error ? err.message : String(err)}`, {
            cause: err,
          });
        }
        // An operation the console answered before it died is on disk.
        const names = workers.map((w) => w.name);
        if (answered !== null && op.kind === 'add') expect(names, context).toContain(answered);
        if (answered !== null && op.kind === 'remove') expect(names, context).not.toContain(op.id);
        if (answered !== null && op.kind === 'apply') {
          expect(completeTopologyOnDisk().files[op.file], context).toContain(op.mark);
        }
        // An adopted worker is the very process that ran before the kill, still running, not restarted.
        const adoptedPids = [...serve.stderr().matchAll(/ adopted (\S+) \(pid (\d+),/g)].map(
          (m) => [m[1], Number(m[2])] as const,
        );
        const nowListed = await listWorkers(c);
        for (const [id, pid] of adoptedPids) {
          expect(nowListed.find((w) => w.id === id)?.status, context).toMatchObject({
            pid,
            restarts: 0,
            state: 'ready',
          });
        }
        const adopted = adoptedPids.length;
        const stopped = (serve.stderr().match(/ stopping (\S+ \(pid|pid \d+ \()/g) ?? []).length;
        adoptedTotal += adopted;
        if (process.env.DISAGG_KILL9_ROUNDS !== undefined) {
          console.log(
            `round ${round}: ${op.kind} killed after ${delayMs} ms, ${answered === null ? 'not answered' : 'answered'}; ${adopted} adopted, ${stopped} stopped, ${workers.length} workers`,
          );
        }
      }

      serve.proc.kill('SIGTERM');
      expect(await serve.exited).toEqual({ code: 0, signal: null });
      expect(workerProcessesOf(dataDir)).toEqual([]);
      // Something was adopted along the way (not only stopped and restarted).
      expect(adoptedTotal).toBeGreaterThan(0);
    },
    120_000 + ROUNDS * 60_000,
  );
});
