// A worker state as a colored badge with its name in words. Layer: renderer.

import type { ReactNode } from 'react';

import type { WorkerState } from '../../shared/model/worker';

export function StateBadge({ state }: { state: WorkerState }): ReactNode {
  return (
    <span className={`badge state-${state}`} data-state={state}>
      {state}
    </span>
  );
}
