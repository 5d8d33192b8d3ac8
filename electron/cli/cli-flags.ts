// What the long-running subcommands (`serve`, `proxy`) share: stopping once on SIGTERM/SIGINT, then exiting
// with the stop's outcome (their flags are read by core/cli-args.ts). Layer: core (cli).

/**
 * Runs `stop` on the first SIGTERM or SIGINT (later signals are ignored, so a second Ctrl-C does not cut a
 * drain short) and exits 0 when its promise resolves, 1 after `onError` when it rejects. `stop` returning
 * undefined leaves the exit to the caller (e.g. while the thing to stop is still starting); `isStopping`
 * tells the caller a signal came.
 */
export function exitOnStopSignals(
  stop: (signal: NodeJS.Signals) => Promise<void> | undefined,
  onError: (err: unknown) => void,
): { isStopping: () => boolean } {
  let isStopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (isStopping) return;
    isStopping = true;
    stop(signal)?.then(
      () => process.exit(0),
      (err: unknown) => {
        onError(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  return { isStopping: () => isStopping };
}
