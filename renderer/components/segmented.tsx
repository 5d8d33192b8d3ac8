// A segmented choice (`.seg`): a group of toggle buttons of which the pressed one is the current value.
// Layer: renderer.

import type { ReactNode } from 'react';

export function Segmented<T extends string | number>({
  label,
  choices,
  value,
  onPick,
}: {
  /** The group's accessible name. */
  label: string;
  choices: readonly { value: T; label: string }[];
  /** The pressed choice; null when none is (a zoomed chart is on no preset window). */
  value: T | null;
  onPick: (value: T) => void;
}): ReactNode {
  return (
    <div className="seg" role="group" aria-label={label}>
      {choices.map((c) => (
        <button
          key={c.value}
          type="button"
          aria-pressed={value === c.value}
          onClick={() => onPick(c.value)}
        >
          {c.label}
        </button>
      ))}
    </div>
  );
}
