// A top-level view (`.view`): its heading row with the view's title, facts and controls, then its content.
// The heading is the view's accessible name. Layer: renderer.

import type { HTMLAttributes, ReactNode } from 'react';

export function ViewFrame({
  title,
  head,
  children,
  ...rest
}: {
  title: string;
  /** What follows the title in the heading row (facts, a spacer, controls). */
  head?: ReactNode;
  children: ReactNode;
} & Omit<HTMLAttributes<HTMLElement>, 'title' | 'className'>): ReactNode {
  return (
    <section className="view" aria-labelledby="view-title" {...rest}>
      <div className="view-head">
        <h1 id="view-title">{title}</h1>
        {head}
      </div>
      {children}
    </section>
  );
}
