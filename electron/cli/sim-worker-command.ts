// `disagg-console sim-worker`: replaced by the simulated worker's command line (issue #2).
export function runSimWorkerCommand(_args: string[]): Promise<number> {
  process.stderr.write('sim-worker: not built yet\n');
  return Promise.resolve(1);
}
