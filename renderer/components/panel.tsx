// A titled panel (`section.panel`) named by its heading: the head row (PanelHead) and the content.
// Layer: renderer.

import type { ReactNode } from 'react';

import { PanelHead } from './panel-head';

export function Panel({
  title,
  titleId,
  note,
  noteClass,
  actions,
  children,
}: {
  title: string;
  /** The heading's id, which names the section for assistive technology (and Playwright's getByRole). */
  titleId: string;
  note?: ReactNode;
  noteClass?: 'dim' | 'hint';
  actions?: ReactNode;
  children: ReactNode;
}): ReactNode {
  return (
    <section className="panel" aria-labelledby={titleId}>
      <PanelHead
        title={title}
        titleId={titleId}
        note={note}
        noteClass={noteClass}
        actions={actions}
      />
      {children}
    </section>
  );
}
