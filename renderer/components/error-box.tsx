// A failure message with a retry button; nothing at all while there is no failure, so a panel writes
// `<ErrorBox message={error} ... />` without a guard around it. Layer: renderer.

import type { ReactNode } from 'react';

import { Button } from './button';

export function ErrorBox({
  title,
  message,
  onRetry,
}: {
  title: string;
  /** The failure; null or empty when there is none (then the box is not shown). */
  message: string | null;
  /** Loads again; a returned promise is not awaited (the store reports its failures). */
  onRetry?: () => unknown;
}): ReactNode {
  if (!message) return null;
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <div>{message}</div>
      {onRetry ? (
        <Button isSmall onClick={onRetry} style={{ marginTop: 8 }}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}
