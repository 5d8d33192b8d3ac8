// The supervisor's loop: an event goes through the pure lifecycle reducer (shared/logic/worker-state.ts) and
// the effects it returns are carried out here: spawn (worker-run.ts), health probes, signals, timers. The
// reducer owns the policy (restart backoff, the SIGTERM-then-SIGKILL escalation, ready timeouts); this file
// only does what it says. Layer: core.
import {
  reduceWorker,
  type WorkerEffect,
  type WorkerEvent,
  type WorkerTimer,
} from '../../../shared/logic/worker-state';
import { healthUrl } from './health-probe';
import { type ManagedWorker, noteLine, type SupervisorContext } from './supervisor-context';
import { spawnWorker } from './worker-run';

/** Feeds one event to the worker's machine, carries out its effects, then tells listeners of a new status. */
export function dispatch(ctx: SupervisorContext, w: ManagedWorker, event: WorkerEvent): void {
  const before = w.machine.status;
  const t = reduceWorker(w.machine, event, w.policy);
  w.machine = t.machine;
  for (const effect of t.effects) runEffect(ctx, w, effect);
  if (w.machine.status !== before) publishStatus(ctx, w);
}

function publishStatus(ctx: SupervisorContext, w: ManagedWorker): void {
  const status = w.machine.status;
  for (const listener of ctx.listeners) {
    try {
      listener(status);
    } catch (err) {
      ctx.onUnexpectedError(err);
    }
  }
}

function runEffect(ctx: SupervisorContext, w: ManagedWorker, effect: WorkerEffect): void {
  switch (effect.type) {
    case 'spawn':
      w.spawning = spawnWorker(ctx, w, (event) => dispatch(ctx, w, event)).catch(
        ctx.onUnexpectedError,
      );
      return;
    case 'probe':
      void probeHealth(ctx, w);
      return;
    case 'kill':
      if (w.proc) {
        noteLine(ctx, w.spec.id, `sending ${effect.signal} to process group ${w.proc.pid}`);
        w.proc.kill(effect.signal);
      }
      return;
    case 'startTimer':
      startTimer(ctx, w, effect.timer, effect.delayMs);
      return;
    case 'cancelTimer':
      cancelTimer(ctx, w, effect.timer);
      return;
  }
}

/** (Re)arms one of the worker's named timers; when it fires (and was not replaced) the reducer hears it. */
function startTimer(
  ctx: SupervisorContext,
  w: ManagedWorker,
  timer: WorkerTimer,
  delayMs: number,
): void {
  const old = w.timers.get(timer);
  if (old !== undefined) ctx.clock.clearTimeout(old);
  const handle = ctx.clock.setTimeout(() => {
    if (w.timers.get(timer) !== handle) return;
    w.timers.delete(timer);
    dispatch(ctx, w, { type: 'timerFired', timer, atMs: ctx.clock.now() });
  }, delayMs);
  w.timers.set(timer, handle);
}

function cancelTimer(ctx: SupervisorContext, w: ManagedWorker, timer: WorkerTimer): void {
  const handle = w.timers.get(timer);
  if (handle !== undefined) ctx.clock.clearTimeout(handle);
  w.timers.delete(timer);
}

/** One GET /health of the current run; the answer of a run that has since ended, or of a removed worker, is dropped. */
async function probeHealth(ctx: SupervisorContext, w: ManagedWorker): Promise<void> {
  const runId = w.runId;
  const result = await ctx.probe.probe(
    healthUrl(w.spec.host, w.spec.port),
    w.policy.probeTimeoutMs,
  );
  if (w.runId !== runId || !ctx.workers.has(w.spec.id)) return;
  // What the worker printed before it answered (its last loading progress) is handled first.
  ctx.logs.flush();
  const atMs = ctx.clock.now();
  dispatch(
    ctx,
    w,
    result.ok
      ? { type: 'probeOk', atMs }
      : { type: 'probeFailed', message: result.error ?? 'unhealthy', atMs },
  );
}
