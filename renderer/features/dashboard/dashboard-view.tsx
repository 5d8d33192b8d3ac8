// The Dashboard view. Layer: renderer.

import type { ReactNode } from 'react';

import { EmptyState } from '../../components/empty-state';

export function DashboardView(): ReactNode {
  return (
    <section className="view" aria-labelledby="view-title">
      <div className="view-head">
        <h1 id="view-title">Dashboard</h1>
      </div>
      <EmptyState title="Loading…" />
    </section>
  );
}
