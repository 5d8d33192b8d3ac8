// A labelled number input of the form rows (`.field`): the text is kept as typed and parsed by the form on
// submit, so a half-typed value is never rewritten under the cursor. Layer: renderer.

import type { CSSProperties, ReactNode } from 'react';

import { Field } from './field';

export function NumberField({
  label,
  value,
  onChange,
  min = 1,
  max,
  step,
  placeholder,
  style,
}: {
  label: ReactNode;
  value: string;
  onChange: (text: string) => void;
  /** The smallest value the spinner offers (default 1); null for none (a seed may be any number). */
  min?: number | null;
  max?: number;
  step?: number;
  placeholder?: string;
  style?: CSSProperties;
}): ReactNode {
  return (
    <Field label={label} style={style}>
      <input
        type="number"
        min={min ?? undefined}
        max={max}
        step={step}
        value={value}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}
