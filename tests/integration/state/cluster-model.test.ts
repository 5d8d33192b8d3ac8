// Model-based test of the cluster document (issue #12): random command sequences (add, add on a taken GPU
// with a stale version, remove, drain/undrain, restart, SIGKILL a worker, apply fresh and stale drafts, import
// good and broken files, restart the backend on its data dir) against the REAL backend with simulated
// workers, a small model beside it, and the invariants of state-kit.ts after every step. Fixed seed; short
// in the normal suite, MODEL_STEPS=200 for a long run.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AppError } from '../../../shared/api/envelope';
import { MODEL } from '../core/backend/backend-kit';
import { checkInvariants, StateHarness } from './state-kit';

const GPUS = 4;
const TARGET_STEPS = Number(process.env.MODEL_STEPS ?? 10);
const README_FILES = {
  'disagg_config.yaml': readFileSync(
    resolve(__dirname, '../../fixtures/configs/disagg-readme-minimal.yaml'),
    'utf8',
  ),
};

interface Model {
  workers: Record<string, number[]>;
  removed: Set<string>;
  /** Topology versions applied so far (the demo is 1). */
  applies: number;
}

interface Real {
  s: StateHarness;
}

const tally = { steps: 0, invariants: 0, byKind: {} as Record<string, number> };

const names = (m: Model): string[] => Object.keys(m.workers).sort();
const pick = (m: Model, i: number): string => names(m)[i % names(m).length] ?? '';
const isGpuFree = (m: Model, gpu: number): boolean =>
  !Object.values(m.workers).some((g) => g.includes(gpu));

async function refused(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** One step: runs, then checks every invariant. */
abstract class Step implements fc.AsyncCommand<Model, Real> {
  abstract readonly kind: string;
  abstract check(m: Readonly<Model>): boolean;
  protected abstract act(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    await this.act(m, r);
    tally.steps++;
    tally.byKind[this.kind] = (tally.byKind[this.kind] ?? 0) + 1;
    tally.invariants += await checkInvariants(r.s, m);
  }
  toString(): string {
    return this.kind;
  }
}

class Add extends Step {
  readonly kind = 'add';
  constructor(
    private readonly role: 'context' | 'generation',
    private readonly gpu: number,
  ) {
    super();
  }
  check = (m: Readonly<Model>): boolean => isGpuFree(m, this.gpu);
  protected async act(m: Model, r: Real): Promise<void> {
    const res = await r.s.command({
      kind: 'addWorker',
      request: { role: this.role, gpus: [this.gpu], model: MODEL, engine: 'simulated' },
    });
    const id = res.worker?.id ?? '';
    m.workers[id] = [this.gpu];
    m.removed.delete(id);
    m.applies++;
  }
  override toString = (): string => `add ${this.role} on GPU ${this.gpu}`;
}

class AddOnTakenGpu extends Step {
  readonly kind = 'add-stale-taken';
  constructor(private readonly gpu: number) {
    super();
  }
  check = (m: Readonly<Model>): boolean => !isGpuFree(m, this.gpu);
  protected async act(_m: Model, r: Real): Promise<void> {
    const seen = (r.s.mirror?.version ?? 1) - 1;
    const err = await refused(
      r.s.command(
        {
          kind: 'addWorker',
          request: { role: 'generation', gpus: [this.gpu], model: MODEL, engine: 'simulated' },
        },
        seen,
      ),
    );
    expect(err.code).toBe('STALE_STATE');
    expect(err.message).toContain(`GPU ${this.gpu} is now used by`);
  }
}

class Remove extends Step {
  readonly kind = 'remove';
  constructor(private readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>): boolean => names(m).length > 0;
  protected async act(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.i);
    const res = await r.s.command({ kind: 'removeWorker', id, drainTimeoutMs: 2000 });
    expect(res.summary).toContain(`removed ${id}`);
    delete m.workers[id];
    m.removed.add(id);
    m.applies++;
  }
}

class DrainAndUndrain extends Step {
  readonly kind = 'drain';
  constructor(private readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>): boolean => names(m).length > 0;
  protected async act(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.i);
    expect(
      (await r.s.command({ kind: 'drainWorker', id, drainTimeoutMs: 2000 })).worker?.isDrained,
    ).toBe(true);
    expect((await r.s.command({ kind: 'undrainWorker', id })).worker?.isDrained).toBeUndefined();
  }
}

class Restart extends Step {
  readonly kind = 'restart';
  constructor(private readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>): boolean => names(m).length > 0;
  protected async act(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.i);
    expect((await r.s.command({ kind: 'restartWorker', id })).worker?.id).toBe(id);
  }
}

class Kill extends Step {
  readonly kind = 'kill';
  constructor(private readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>): boolean => names(m).length > 0;
  protected async act(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.i);
    const before = (await r.s.snapshot()).workers.find((w) => w.id === id)?.status;
    if (!before?.pid) return;
    process.kill(before.pid, 'SIGKILL');
    // The supervisor notices the exit and restarts it (state, not an exception).
    await expect
      .poll(async () => (await r.s.snapshot()).workers.find((w) => w.id === id)?.status.restarts, {
        timeout: 10_000,
      })
      .toBeGreaterThan(before.restarts);
  }
}

class ApplyFreshDraft extends Step {
  readonly kind = 'apply-fresh-draft';
  check = (m: Readonly<Model>): boolean => m.applies > 0;
  protected async act(m: Model, r: Real): Promise<void> {
    const { topology } = await r.s.snapshot();
    await r.s.command({
      kind: 'saveDraft',
      files: topology.files,
      baseTopologyVersion: topology.appliedVersion,
    });
    const res = await r.s.command({
      kind: 'applyConfig',
      files: topology.files,
      baseTopologyVersion: topology.appliedVersion,
    });
    expect(res.applied?.plan.start).toEqual([]);
    expect((await r.s.snapshot()).draft).toBeNull();
    m.applies++;
  }
}

class ApplyStaleDraft extends Step {
  readonly kind = 'apply-stale-draft';
  check = (m: Readonly<Model>): boolean => m.applies > 1;
  protected async act(_m: Model, r: Real): Promise<void> {
    const { topology } = await r.s.snapshot();
    const base = (topology.appliedVersion ?? 2) - 1;
    const err = await refused(
      r.s.command({ kind: 'applyConfig', files: topology.files, baseTopologyVersion: base }),
    );
    expect(err.code).toBe('STALE_STATE');
    expect(err.message).toContain(`built on topology version ${base}`);
  }
}

class Import extends Step {
  readonly kind: string;
  constructor(private readonly isBroken: boolean) {
    super();
    this.kind = isBroken ? 'import-broken' : 'import-good';
  }
  check = (): boolean => true;
  protected async act(_m: Model, r: Real): Promise<void> {
    const before = (await r.s.snapshot()).draft;
    const files = this.isBroken
      ? { 'disagg_config.yaml': 'hostname: x\ncontext_servers:\n  urls: [\n' }
      : README_FILES;
    const res = await r.s.command({ kind: 'importFiles', files });
    const draft = (await r.s.snapshot()).draft;
    if (this.isBroken) {
      expect(res.imported?.issues.some((i) => i.severity === 'error' && i.line > 1)).toBe(true);
      expect(draft?.files).toEqual(before?.files);
    } else {
      expect(Object.keys(draft?.files ?? {})).toContain('console.yaml');
    }
  }
}

class RestartBackend extends Step {
  readonly kind = 'restart-backend';
  check = (): boolean => true;
  protected async act(_m: Model, r: Real): Promise<void> {
    const epoch = r.s.mirror?.epoch;
    await r.s.restart();
    expect(r.s.mirror?.epoch).not.toBe(epoch);
  }
}

const gpu = fc.integer({ min: 0, max: GPUS - 1 });
const index = fc.nat({ max: 7 });
const steps = [
  fc
    .tuple(fc.constantFrom('context' as const, 'generation' as const), gpu)
    .map(([role, g]) => new Add(role, g)),
  gpu.map((g) => new AddOnTakenGpu(g)),
  index.map((i) => new Remove(i)),
  index.map((i) => new DrainAndUndrain(i)),
  index.map((i) => new Restart(i)),
  index.map((i) => new Kill(i)),
  fc.constant(new ApplyFreshDraft()),
  fc.constant(new ApplyStaleDraft()),
  fc.boolean().map((b) => new Import(b)),
  fc.constant(new RestartBackend()),
];

describe('cluster document, model-based (real backend, simulated workers)', () => {
  it(
    `keeps every invariant over random command sequences (${TARGET_STEPS} steps)`,
    async () => {
      for (let run = 0; tally.steps < TARGET_STEPS; run++) {
        await fc.assert(
          fc.asyncProperty(
            fc.commands(steps, { maxCommands: Math.min(40, TARGET_STEPS - tally.steps) }),
            async (cmds) => {
              const s = await StateHarness.start({ isDemo: true });
              try {
                await fc.asyncModelRun(
                  () => ({
                    model: {
                      workers: { ctx0: [0], gen0: [1] },
                      removed: new Set<string>(),
                      applies: 1,
                    },
                    real: { s },
                  }),
                  cmds,
                );
              } finally {
                await s.close();
              }
            },
          ),
          { seed: 20261207 + run, numRuns: 1, endOnFailure: true },
        );
      }
      process.stdout.write(
        `[cluster-model] ${tally.steps} steps, ${tally.invariants} invariant checks, by kind ${JSON.stringify(tally.byKind)}\n`,
      );
      expect(tally.steps).toBeGreaterThanOrEqual(TARGET_STEPS);
    },
    Math.max(60_000, TARGET_STEPS * 6000),
  );
});
