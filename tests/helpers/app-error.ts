// The AppError a promise rejects with; fails the test when it resolves or rejects with anything else.
import { expect } from 'vitest';

import { AppError } from '../../shared/api/envelope';

export async function appErrorOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
