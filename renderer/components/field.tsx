// A labelled form row (`.field`): the caption above its control. The text, number and select fields use it;
// a form uses it directly for a control of its own (a file picker, a checkbox). Layer: renderer.

import type { CSSProperties, ReactNode } from 'react';

export function Field({
  label,
  style,
  children,
}: {
  label: ReactNode;
  style?: CSSProperties;
  children: ReactNode;
}): ReactNode {
  return (
    <label className="field" style={style}>
      <span>{label}</span>
      {children}
    </label>
  );
}
