// Toast notifications from the store's ui slice; errors stay until dismissed, others fade after 6 s.
// Layer: renderer.

import { type ReactNode, useEffect } from 'react';

import { useAppStore } from '../store/app-store-context';

export function Toasts(): ReactNode {
  const toasts = useAppStore((s) => s.toasts);
  const dismiss = useAppStore((s) => s.dismissToast);
  useEffect(() => {
    const timers = toasts
      .filter((t) => t.kind !== 'error')
      .map((t) => setTimeout(() => dismiss(t.id), 6000));
    return () => timers.forEach(clearTimeout);
  }, [toasts, dismiss]);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={`toast ${t.kind}`}
          role={t.kind === 'error' ? 'alert' : 'status'}
        >
          <p>{t.text}</p>
          <button
            type="button"
            className="btn btn-small"
            aria-label="Dismiss notification"
            onClick={() => dismiss(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
