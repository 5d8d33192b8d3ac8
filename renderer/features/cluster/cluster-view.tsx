// The Cluster view. Layer: renderer.

import type { ReactNode } from 'react';

import { EmptyState } from '../../components/empty-state';

export function ClusterView(): ReactNode {
  return (
    <section className="view" aria-labelledby="view-title">
      <div className="view-head">
        <h1 id="view-title">Cluster</h1>
      </div>
      <EmptyState title="Loading…" />
    </section>
  );
}
