// A labelled number input of the form rows (`.field`): the text is kept as typed and parsed by the form on
// submit, so a half-typed value is never rewritten under the cursor. Layer: renderer.

import type { ReactNode } from 'react';

export function NumberField({
  label,
  value,
  onChange,
  min = 1,
  max,
  placeholder,
}: {
  label: ReactNode;
  value: string;
  onChange: (text: string) => void;
  min?: number;
  max?: number;
  placeholder?: string;
}): ReactNode {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        min={min}
        max={max}
        value={value}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}
