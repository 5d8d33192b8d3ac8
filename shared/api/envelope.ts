// The result envelope every console API call returns, and AppError, the one error type handlers throw for
// expected failures. IPC keeps only an Error's message, so errors cross as plain data (style-guide §7).
// Layer: shared (pure).

/** Any value that survives JSON.stringify/parse and structured clone unchanged. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What went wrong, as a code the UI branches on (never on message text). */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_CHANNEL'
  | 'NOT_FOUND'
  | 'WORKER_NOT_FOUND'
  | 'WORKER_START_FAILED'
  | 'PORT_IN_USE'
  | 'APPLY_FAILED'
  | 'CLUSTER_UNAVAILABLE'
  | 'NOT_SUPPORTED'
  | 'UNAUTHORIZED'
  | 'PAYLOAD_TOO_LARGE'
  /** A long task of the same kind is already running (one load test, one planner task at a time). */
  | 'BUSY'
  /** A command was built on a cluster state that has changed in a way it relied on (details: StaleStateDetails). */
  | 'STALE_STATE'
  /** Another console already runs on this data dir (details name its URL and pid). */
  | 'DATA_DIR_LOCKED'
  /** The request came through a Host or Origin this console does not answer to (DNS rebinding, another site). */
  | 'FORBIDDEN'
  /** The change needs the user's explicit confirmation first (details say what to confirm, e.g. an executable). */
  | 'CONFIRMATION_REQUIRED'
  | 'INTERNAL';

/** Every ErrorCode, for validation of envelopes that arrive over the wire. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'CONFIG_INVALID',
  'INVALID_ARGUMENT',
  'UNKNOWN_CHANNEL',
  'NOT_FOUND',
  'WORKER_NOT_FOUND',
  'WORKER_START_FAILED',
  'PORT_IN_USE',
  'APPLY_FAILED',
  'CLUSTER_UNAVAILABLE',
  'NOT_SUPPORTED',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'BUSY',
  'STALE_STATE',
  'DATA_DIR_LOCKED',
  'FORBIDDEN',
  'CONFIRMATION_REQUIRED',
  'INTERNAL',
];

/** The error half of an envelope. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: JsonValue;
}

/** `{ ok: true, value }` or `{ ok: false, error }`: what dispatch returns for every call. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/** An expected failure with a code; dispatch turns it into `{ ok: false, error }` and the client re-throws it. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: JsonValue,
  ) {
    super(message);
    this.name = 'AppError';
  }

  /** The JSON-safe form carried by an envelope. */
  toPayload(): ErrorPayload {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True for an AppError, also one created by another copy of this module. */
export function isAppError(err: unknown): err is AppError {
  return (
    err instanceof AppError ||
    (err instanceof Error &&
      err.name === 'AppError' &&
      isErrorCode((err as { code?: unknown }).code))
  );
}

/** True when the value is one of the known error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Builds a success envelope. */
export function okEnvelope<T>(value: T): Envelope<T> {
  return { ok: true, value };
}

/** Builds a failure envelope. */
export function errorEnvelope<T = never>(
  code: ErrorCode,
  message: string,
  details?: JsonValue,
): Envelope<T> {
  return {
    ok: false,
    error: details === undefined ? { code, message } : { code, message, details },
  };
}

/** Re-creates the AppError an error envelope carries. */
export function appErrorFromPayload(payload: ErrorPayload): AppError {
  return new AppError(payload.code, payload.message, payload.details);
}

/**
 * Checks that a value received over a transport has the envelope shape; a malformed one becomes an INTERNAL
 * error envelope so a client never acts on garbage.
 */
export function parseEnvelope(raw: unknown): Envelope<unknown> {
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as { ok?: unknown; value?: unknown; error?: unknown };
    if (r.ok === true) return { ok: true, value: r.value };
    if (r.ok === false && typeof r.error === 'object' && r.error !== null) {
      const e = r.error as { code?: unknown; message?: unknown; details?: unknown };
      if (isErrorCode(e.code) && typeof e.message === 'string') {
        return e.details === undefined
          ? { ok: false, error: { code: e.code, message: e.message } }
          : {
              ok: false,
              error: { code: e.code, message: e.message, details: e.details as JsonValue },
            };
      }
    }
  }
  return errorEnvelope('INTERNAL', 'malformed response envelope');
}
