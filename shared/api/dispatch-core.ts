// The transport-independent half of dispatch: allowlist, validation, handler call, error mapping into an
// Envelope. electron/core/dispatch.ts wraps it with logging; inMemoryTransport uses it directly, so the
// in-memory and HTTP transports cannot drift apart. Layer: shared (pure).

import { type ApiHandlers, isApiChannel } from './contract';
import { AppError, type Envelope, errorEnvelope, isAppError, okEnvelope } from './envelope';
import { validateArgs } from './validate';

/** Called with every error that is not an AppError (a bug); the caller logs it with its stack. */
export type UnexpectedErrorSink = (err: unknown, channel: string) => void;

/** Runs one call: unknown channel, invalid arguments, missing handler and thrown errors all become envelopes. */
export async function dispatchCall(
  api: Partial<ApiHandlers>,
  channel: string,
  rawArgs: unknown,
  onUnexpected: UnexpectedErrorSink,
): Promise<Envelope<unknown>> {
  if (!isApiChannel(channel)) {
    return errorEnvelope('UNKNOWN_CHANNEL', `unknown channel '${channel}'`);
  }
  try {
    const args = validateArgs(channel, rawArgs);
    const handler = api[channel] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (!handler) {
      throw new AppError('NOT_SUPPORTED', `'${channel}' is not available in this console`);
    }
    const value: unknown = await handler(...(args as unknown[]));
    // `undefined` is not JSON; void channels answer null over every transport.
    return okEnvelope(value === undefined ? null : value);
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: err.toPayload() };
    onUnexpected(err, channel);
    const message = err instanceof Error ? err.message : String(err);
    return errorEnvelope('INTERNAL', message || 'internal error');
  }
}
