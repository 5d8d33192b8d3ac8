// A failure message with a retry button. Layer: renderer.

import type { ReactNode } from 'react';

export function ErrorBox({
  title,
  message,
  onRetry,
}: {
  title: string;
  message: string;
  onRetry?: () => void;
}): ReactNode {
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <div>{message}</div>
      {onRetry ? (
        <button type="button" className="btn btn-small" onClick={onRetry} style={{ marginTop: 8 }}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
