// Shown when the page has no way to reach a backend (no bridge, no token). Layer: renderer.

import type { ReactNode } from 'react';

import { EmptyState } from './empty-state';

export function NoBackend({ reason }: { reason: string }): ReactNode {
  return (
    <main className="main">
      <EmptyState title="Not connected to a console">
        <p>{reason}</p>
        <p className="mono">disagg-console serve --demo</p>
      </EmptyState>
    </main>
  );
}
