// Quit semantics of the desktop app (feature D1): closing the window only hides it (the cluster keeps
// running, reachable from the tray); Quit stops every worker through backend.dispose() before the process
// exits, once, bounded by a timeout so a stuck worker cannot keep the app alive. Layer: electron shell.

export interface QuitControllerOptions {
  /** Stops every worker, the proxy and etcd. */
  dispose: () => Promise<void>;
  /** Ends the process (app.exit). */
  exit: (code: number) => void;
  /** Longest wait for dispose; the supervisor escalates to SIGKILL well within it. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface QuitController {
  /** True once Quit was chosen: window close events must then let the window close. */
  isQuitting(): boolean;
  /** For app 'before-quit': the first call prevents the default, disposes, then exits. */
  onBeforeQuit(event: { preventDefault(): void }): void;
  /** For the window's 'close': hide instead of closing unless quitting. Returns true when it hid. */
  onWindowClose(event: { preventDefault(): void }, hide: () => void): boolean;
}

export function createQuitController(options: QuitControllerOptions): QuitController {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let state: 'running' | 'disposing' | 'done' = 'running';
  return {
    isQuitting: () => state !== 'running',
    onBeforeQuit(event) {
      if (state === 'done') return;
      event.preventDefault();
      if (state === 'disposing') return;
      state = 'disposing';
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      void Promise.race([options.dispose().then(() => 'ok' as const), timeout])
        .then((r) => {
          if (r === 'timeout') {
            options.log?.(`stopping the workers took over ${timeoutMs} ms; quitting anyway`);
          }
          return 0;
        })
        .catch((err: unknown) => {
          options.log?.(
            `stopping the workers failed: ${err instanceof Error ? err.message : String(err)}`,
          );
          return 1;
        })
        .then((code) => {
          if (timer) clearTimeout(timer);
          state = 'done';
          options.exit(code);
        });
    },
    onWindowClose(event, hide) {
      if (state !== 'running') return false;
      event.preventDefault();
      hide();
      return true;
    },
  };
}
