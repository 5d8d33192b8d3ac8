// dispatch(api, channel, rawArgs): the one entry every console API call goes through, from Electron IPC
// (electron/ipc/bind-ipc.ts) and from HTTP (http/api-server.ts): channel allowlist, argument validation,
// error mapping into an Envelope. Unknown errors become INTERNAL with their message only; the stack is
// logged here, never sent. Layer: core (plain Node).

import type { ApiHandlers } from '../../shared/api/contract';
import { dispatchCall } from '../../shared/api/dispatch-core';
import type { Envelope } from '../../shared/api/envelope';

/** Where dispatch reports unexpected errors (bugs): a logger with context. */
export type DispatchLogger = (message: string, err: unknown) => void;

const defaultLogger: DispatchLogger = (message, err) => {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${message}: ${detail}\n`);
};

/** Validates and runs one call against the backend's handlers; never throws. */
export function dispatch(
  api: Partial<ApiHandlers>,
  channel: string,
  rawArgs: unknown,
  log: DispatchLogger = defaultLogger,
): Promise<Envelope<unknown>> {
  return dispatchCall(api, channel, rawArgs, (err, ch) =>
    log(`console API '${ch}' failed unexpectedly`, err),
  );
}
