// A table of the console (`.table`): a header row from column names and the caller's rows; wide tables
// scroll sideways inside their panel instead of widening it. Layer: renderer.

import type { CSSProperties, ReactNode } from 'react';

/** A column's header: its text, or only an accessible name for a column of checkboxes or buttons. */
export type Column = string | { ariaLabel: string };

export function DataTable({
  columns,
  label,
  testId,
  isScrollable = false,
  style,
  children,
}: {
  columns: readonly Column[];
  label?: string;
  testId?: string;
  isScrollable?: boolean;
  style?: CSSProperties;
  /** The body rows (`<tr>` elements). */
  children: ReactNode;
}): ReactNode {
  const table = (
    <table className="table" aria-label={label} data-testid={testId} style={style}>
      <thead>
        <tr>
          {columns.map((c, i) =>
            typeof c === 'string' ? (
              <th key={i}>{c === '' ? null : c}</th>
            ) : (
              <th key={i} aria-label={c.ariaLabel} />
            ),
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
  return isScrollable ? <div style={{ overflowX: 'auto' }}>{table}</div> : table;
}
