// Runs a topology apply plan against the supervisor (features K3, K5): start what is new, restart what
// changed, stop what is gone. New workers start first and changed ones are swapped one at a time, so a failure
// (port taken, binary missing, spawn error) is undone step by step and the previous topology keeps running;
// workers that go away are removed last through the safe-removal sequence. Implements the TopologyApplier port
// of topology-service.ts. Layer: core.

import { AppError } from '../../shared/api/envelope';
import type { WorkerSpec } from '../../shared/model/worker';
import type { WorkerSupervisor } from './supervisor/worker-supervisor';
import type { ApplyRequest, TopologyApplier } from './topology/topology-service';

/** Options of createTopologyRunner. */
export interface TopologyRunnerOptions {
  supervisor: WorkerSupervisor;
  /** Safe removal of a running worker (stop routing, drain, deregister, stop); must tolerate unknown ids. */
  removeWorker: (id: string) => Promise<void>;
  /** Called before any worker changes (e.g. start the etcd the new topology names). */
  prepare?: (request: ApplyRequest) => Promise<void>;
  /** Called once the workers changed, with the new request (the backend reloads the proxy when needed). */
  onApplied?: (request: ApplyRequest) => Promise<void>;
  log?: (message: string) => void;
}

function isKnown(sup: WorkerSupervisor, id: string): boolean {
  return sup.list().some((s) => s.id === id);
}

/** Starts a worker that was just added; a start that leaves it errored counts as a failure. */
async function startChecked(sup: WorkerSupervisor, id: string): Promise<void> {
  const status = await sup.start(id);
  if (status.state === 'errored' || status.state === 'stopped') {
    throw new AppError(
      'WORKER_START_FAILED',
      `worker ${id} did not start: ${status.message ?? status.lastExit?.reason ?? status.state}`,
      { id },
    );
  }
}

/** The applier the backend hands to TopologyService. */
export function createTopologyRunner(opts: TopologyRunnerOptions): TopologyApplier {
  const sup = opts.supervisor;
  const log = opts.log ?? (() => undefined);

  return {
    async apply(request) {
      const { plan, specs } = request;
      const specOf = (name: string): WorkerSpec => {
        const s = specs.find((x) => x.id === name);
        if (!s) {
          throw new AppError(
            'INTERNAL',
            `the plan names ${name} but the topology has no such worker`,
          );
        }
        return s;
      };
      // Undo steps, run in reverse on failure.
      const undo: (() => Promise<void>)[] = [];
      await opts.prepare?.(request);
      const rollback = async (): Promise<void> => {
        for (const step of undo.reverse()) {
          try {
            await step();
          } catch (err) {
            log(`undo step failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      };
      try {
        for (const name of plan.start) {
          // A worker of that name may still run from an earlier failed attempt; the new spec wins.
          if (isKnown(sup, name)) await sup.remove(name);
          sup.add(specOf(name));
          undo.push(() => sup.remove(name));
          await startChecked(sup, name);
          log(`started ${name}`);
        }
        for (const name of plan.restart) {
          const old = isKnown(sup, name) ? sup.spec(name) : null;
          const wasRunning =
            old !== null && !['stopped', 'errored'].includes(sup.status(name).state);
          if (old) await sup.remove(name);
          undo.push(async () => {
            if (isKnown(sup, name)) await sup.remove(name);
            if (old) {
              sup.add(old);
              if (wasRunning) await sup.start(name);
            }
          });
          sup.add(specOf(name));
          await startChecked(sup, name);
          log(`restarted ${name}`);
        }
      } catch (err) {
        await rollback();
        throw err;
      }
      for (const name of plan.stop) {
        await opts.removeWorker(name);
        log(`stopped ${name}`);
      }
      await opts.onApplied?.(request);
    },
  };
}
