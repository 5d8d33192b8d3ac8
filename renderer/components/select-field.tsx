// A labelled drop-down of fixed choices; the value handed back is always one of the choices' values.
// Layer: renderer.

import type { CSSProperties, ReactNode } from 'react';

import { Field } from './field';

/** One entry of a SelectField; the label defaults to the value. */
export interface SelectChoice<T extends string> {
  value: T;
  label?: string;
}

export function SelectField<T extends string>({
  label,
  value,
  choices,
  onChange,
  ariaLabel,
  style,
}: {
  label: ReactNode;
  value: T;
  choices: readonly SelectChoice<T>[];
  onChange: (value: T) => void;
  ariaLabel?: string;
  style?: CSSProperties;
}): ReactNode {
  return (
    <Field label={label} style={style}>
      <select
        value={value}
        aria-label={ariaLabel}
        // The select only offers the choices' values, so the string it reports is one of them.
        onChange={(e) => onChange(e.target.value as T)}
      >
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label ?? c.value}
          </option>
        ))}
      </select>
    </Field>
  );
}
