// One run of a worker: launch its process (or wrap the one a crashed console left, when adopting), follow its
// loading progress while it starts, and turn its exit into an 'exited' event with the run's last output as
// the reason. Events go out through `emit` (the lifecycle loop in worker-effects.ts). Layer: core.
import { AppError } from '../../../shared/api/envelope';
import {
  buildWorkerCommand,
  formatCommandLine,
  type WorkerCommand,
} from '../../../shared/logic/worker-command';
import { parseProgressLine, type WorkerEvent } from '../../../shared/logic/worker-state';
import { closeOutput, CONSOLE_LINE_PREFIX } from './log-store';
import { adoptProcess, WORKER_OWNER_ENV } from './pid-file';
import type { LaunchedProcess, ProcessExit } from './process-launcher';
import {
  type ManagedWorker,
  noteLine,
  type SupervisorContext,
  writePidFile,
} from './supervisor-context';

type Emit = (event: WorkerEvent) => void;

/** Starts a new run of the worker; a launch that fails becomes 'spawnFailed' (unless a newer run began). */
export async function spawnWorker(
  ctx: SupervisorContext,
  w: ManagedWorker,
  emit: Emit,
): Promise<void> {
  const id = w.spec.id;
  const cmd = buildWorkerCommand(w.spec, ctx.commandOptions);
  w.runId++;
  const runId = w.runId;
  const cudaDevices = { CUDA_VISIBLE_DEVICES: cmd.env.CUDA_VISIBLE_DEVICES ?? '' };
  w.runFirstSeq = noteLine(ctx, id, `$ ${formatCommandLine(cmd, cudaDevices)}`).seq;
  w.lastProgressKey = '';
  const isAdopted = w.adopting !== null;
  let proc: LaunchedProcess;
  try {
    proc = await obtainProcess(ctx, w, cmd);
  } catch (err) {
    w.refusal = err instanceof AppError ? err : null;
    const message = spawnFailureMessage(err, cmd.command);
    noteLine(ctx, id, message);
    if (w.runId === runId) emit({ type: 'spawnFailed', message, atMs: ctx.clock.now() });
    return;
  }
  w.proc = proc;
  if (w.machine.status.state === 'stopping') {
    // Stopped while the spawn was in flight: the kill effect found no process then.
    proc.kill('SIGTERM');
  }
  // Lines come from the log file (or, for a launcher without one, through append); either way through the
  // store, which also reads them while the worker is 'starting' for its loading progress.
  proc.onLine((stream, line) => ctx.logs.append(id, stream, line));
  const offProgress = followProgress(ctx, w, proc, emit);
  emit({ type: 'spawned', pid: proc.pid, atMs: ctx.clock.now() });
  if (isAdopted) {
    const message = `adopted from the previous console (pid ${proc.pid}); waiting for /health`;
    emit({ type: 'progress', progress: { message, fraction: null, atMs: ctx.clock.now() } });
  }
  writePidFile(ctx);
  void proc.exited.then((exit) => {
    // Lines still unread go past the progress watcher first: a worker may die halfway through loading.
    ctx.logs.flush();
    offProgress();
    reportExit(ctx, w, { proc, exit }, emit);
  });
}

/** The adopted process when adopt() left one, otherwise a freshly launched one writing into its log file. */
async function obtainProcess(
  ctx: SupervisorContext,
  w: ManagedWorker,
  cmd: WorkerCommand,
): Promise<LaunchedProcess> {
  const id = w.spec.id;
  if (w.adopting !== null) {
    const proc = adoptProcess(w.adopting.worker);
    w.command = w.adopting.worker.command;
    w.adopting = null;
    w.hasSharedOutput = true;
    const logFile = ctx.logs.filePath(id) ?? 'its log file';
    noteLine(
      ctx,
      id,
      `adopted running process ${proc.pid} left by an earlier console; its output goes on into ${logFile}`,
    );
    return proc;
  }
  const env =
    ctx.ownerTag === undefined ? cmd.env : { ...cmd.env, [WORKER_OWNER_ENV]: ctx.ownerTag };
  if (w.spec.engine !== 'simulated') await ctx.checkExecutable?.(cmd.command);
  // The worker writes its log file itself, so its output survives this console (log-store.ts).
  const outputFd = ctx.logs.openOutput(id);
  let proc: LaunchedProcess;
  try {
    proc = await ctx.launcher.launch({
      command: cmd.command,
      args: cmd.args,
      env,
      ...(outputFd === null ? {} : { outputFd }),
    });
  } finally {
    closeOutput(outputFd);
  }
  w.hasSharedOutput = outputFd !== null;
  w.command = [cmd.command, ...cmd.args];
  return proc;
}

function spawnFailureMessage(err: unknown, command: string): string {
  if (err instanceof AppError) return err.message;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return `cannot start '${command}': not found (set the trtllm-serve path, or install TensorRT-LLM)`;
  }
  return `cannot start '${command}': ${(err as Error).message}`;
}

/** Loading progress from the run's log lines while it is 'starting'; returns the unsubscribe. */
function followProgress(
  ctx: SupervisorContext,
  w: ManagedWorker,
  proc: LaunchedProcess,
  emit: Emit,
): () => void {
  return ctx.logs.onLine((lineOf, line) => {
    if (lineOf !== w.spec.id || w.proc !== proc || w.machine.status.state !== 'starting') return;
    const progress = parseProgressLine(line.text, ctx.clock.now());
    if (!progress) return;
    // tqdm redraws many times a second; pass on only visible changes.
    const percent = progress.fraction === null ? '' : Math.round(progress.fraction * 100);
    const key = `${progress.message}|${percent}`;
    if (key === w.lastProgressKey) return;
    w.lastProgressKey = key;
    emit({ type: 'progress', progress });
  });
}

interface RunExit {
  proc: LaunchedProcess;
  exit: ProcessExit;
}

/** The run's process is gone: note it, drop it from the pid file, and hand the reducer the crash reason. */
function reportExit(ctx: SupervisorContext, w: ManagedWorker, run: RunExit, emit: Emit): void {
  const { code, signal } = run.exit;
  const stderrTail = runOutputTail(ctx, w);
  noteLine(
    ctx,
    w.spec.id,
    `process ${run.proc.pid} exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`,
  );
  if (w.proc === run.proc) w.proc = null;
  writePidFile(ctx);
  emit({ type: 'exited', code, signal, stderrTail, atMs: ctx.clock.now() });
}

/** The current run's last stderr lines; with one file for stdout and stderr, its last output lines. */
function runOutputTail(ctx: SupervisorContext, w: ManagedWorker): string[] {
  return ctx.logs
    .lines(w.spec.id, w.runFirstSeq)
    .filter((l) =>
      w.hasSharedOutput ? !l.text.startsWith(CONSOLE_LINE_PREFIX) : l.stream === 'stderr',
    )
    .slice(-ctx.tailLines)
    .map((l) => l.text);
}
