// The console's button (`.btn`): a size, a variant and a click that may start an action. Every button of the
// forms and panels is this one, so its classes and its `type` are written once. Layer: renderer.

import type { ButtonHTMLAttributes, ReactNode } from 'react';

export type ButtonProps = Omit<
  ButtonHTMLAttributes<HTMLButtonElement>,
  'className' | 'type' | 'onClick'
> & {
  variant?: 'primary' | 'danger';
  isSmall?: boolean;
  /** Submits its form instead of being a plain button. */
  isSubmit?: boolean;
  /** A store action may return a promise: the store reports its failures, so it is not awaited here. */
  onClick?: () => unknown;
};

export function Button({
  variant,
  isSmall = false,
  isSubmit = false,
  onClick,
  children,
  ...rest
}: ButtonProps): ReactNode {
  const className = ['btn', isSmall ? 'btn-small' : null, variant ? `btn-${variant}` : null]
    .filter((c) => c !== null)
    .join(' ');
  return (
    <button
      type={isSubmit ? 'submit' : 'button'}
      className={className}
      onClick={onClick ? () => void onClick() : undefined}
      {...rest}
    >
      {children}
    </button>
  );
}
