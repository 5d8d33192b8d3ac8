// Turns a failed call into a sentence that says what to do next. Branches on AppError codes, never on the
// message text (style-guide §7). Layer: renderer (pure).

import { isAppError } from '../../shared/api/envelope';

const ADVICE: Partial<Record<string, string>> = {
  UNAUTHORIZED:
    'Open the console with the full URL that `disagg-console serve` printed (with ?token=).',
  FORBIDDEN:
    'Open the console at the address `disagg-console serve` printed (127.0.0.1 or localhost), not through another name or site.',
  PORT_IN_USE: 'Pick another port or leave the port blank to get a free one.',
  CONFIG_INVALID: 'Fix the fields marked in the editor, then try again.',
  CLUSTER_UNAVAILABLE:
    'Check that etcd is running (Configuration → cluster mode) or switch to static mode.',
  NOT_SUPPORTED: 'This console does not offer that action.',
  WORKER_NOT_FOUND: 'The worker is gone; the list has been refreshed.',
  WORKER_START_FAILED: 'Open the worker logs to see why it did not start.',
};

/** A message for the user: the error's own text plus advice for its code. */
export function describeError(err: unknown): string {
  if (isAppError(err)) {
    const advice = ADVICE[err.code];
    return advice ? `${err.message}. ${advice}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The AppError code, or null for other errors. */
export function errorCode(err: unknown): string | null {
  return isAppError(err) ? err.code : null;
}
