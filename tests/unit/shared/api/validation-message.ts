// What validateArgs says about a channel's arguments, for the validator tests: 'valid', or the message of
// the INVALID_ARGUMENT error (anything else fails the test). Layer: tests.
import { expect } from 'vitest';

import type { ApiChannelName } from '../../../../shared/api/contract';
import { AppError } from '../../../../shared/api/envelope';
import { validateArgs } from '../../../../shared/api/validate';

export function validationMessage(channel: ApiChannelName, args: unknown): string {
  try {
    validateArgs(channel, args);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_ARGUMENT');
    return (err as AppError).message;
  }
  return 'valid';
}
