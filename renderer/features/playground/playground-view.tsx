// The Playground view. Layer: renderer.

import type { ReactNode } from 'react';

import { EmptyState } from '../../components/empty-state';

export function PlaygroundView(): ReactNode {
  return (
    <section className="view" aria-labelledby="view-title">
      <div className="view-head">
        <h1 id="view-title">Playground</h1>
      </div>
      <EmptyState title="Loading…" />
    </section>
  );
}
