// The head row of a panel (`.panel-head`): its title, a note beside it, what belongs next to the title (a
// state badge), and the panel's actions pushed to the right. Layer: renderer.

import type { ReactNode } from 'react';

export function PanelHead({
  title,
  titleId,
  note,
  noteClass = 'dim',
  children,
  actions,
}: {
  title: ReactNode;
  /** The id a panel's aria-labelledby names. */
  titleId?: string;
  note?: ReactNode;
  noteClass?: 'dim' | 'hint';
  /** Shown right after the title and note. */
  children?: ReactNode;
  /** Shown at the right end of the row. */
  actions?: ReactNode;
}): ReactNode {
  return (
    <div className="panel-head">
      <h2 id={titleId}>{title}</h2>
      {note !== undefined ? <span className={noteClass}>{note}</span> : null}
      {children}
      {actions !== undefined ? (
        <>
          <span className="spacer" />
          {actions}
        </>
      ) : null}
    </div>
  );
}
