// A labelled text input, or a text area when it has `rows`: the value as typed, reported on every change.
// Layer: renderer.

import type { ReactNode } from 'react';

import { Field } from './field';

export function TextField({
  label,
  value,
  onChange,
  placeholder,
  rows,
  ariaLabel,
  isInvalid,
  isRequired,
  inputMode,
  spellCheck,
}: {
  label: ReactNode;
  value: string;
  onChange: (text: string) => void;
  placeholder?: string;
  /** Lines of a text area; without it the field is one line. */
  rows?: number;
  ariaLabel?: string;
  isInvalid?: boolean;
  isRequired?: boolean;
  inputMode?: 'numeric' | 'text';
  /** Off for code and YAML, where the browser's spelling marks are noise. */
  spellCheck?: boolean;
}): ReactNode {
  return (
    <Field label={label}>
      {rows === undefined ? (
        <input
          value={value}
          placeholder={placeholder}
          aria-label={ariaLabel}
          aria-invalid={isInvalid}
          required={isRequired}
          inputMode={inputMode}
          onChange={(e) => onChange(e.target.value)}
        />
      ) : (
        <textarea
          rows={rows}
          value={value}
          placeholder={placeholder}
          aria-label={ariaLabel}
          spellCheck={spellCheck}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
