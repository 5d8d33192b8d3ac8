// `disagg-console sim-worker MODEL [trtllm-serve flags]`: the simulated trtllm-serve worker (electron/sim).
// Layer: electron/cli (plain Node).
import { runSimWorker } from '../sim/sim-worker';

/** Runs the simulated worker; resolves with an exit code on startup failure, undefined while it serves. */
export function runSimWorkerCommand(args: string[]): Promise<number | undefined> {
  return runSimWorker(args);
}
