// Config issues as a list: file:line:column, the field, the message and the hint. Layer: renderer.

import type { ReactNode } from 'react';

import type { ConfigIssue } from '../../shared/logic/config-issues';

export function IssueList({
  issues,
  onPick,
}: {
  issues: ConfigIssue[];
  onPick?: (issue: ConfigIssue) => void;
}): ReactNode {
  if (issues.length === 0) return null;
  return (
    <ul className="issue-list" aria-label="Problems">
      {issues.map((i, n) => (
        <li
          key={`${i.file}:${i.line}:${i.column}:${n}`}
          className={i.severity === 'error' ? 'issue-error' : 'issue-warning'}
        >
          <span aria-hidden="true">{i.severity === 'error' ? '✖' : '▲'}</span>
          <span style={{ color: 'var(--text)' }}>
            {onPick ? (
              <button type="button" className="btn btn-small mono" onClick={() => onPick(i)}>
                {i.file}:{i.line}:{i.column}
              </button>
            ) : (
              <span className="mono">
                {i.file}:{i.line}:{i.column}
              </span>
            )}{' '}
            {i.path ? <b className="mono">{i.path}</b> : null} {i.message}
            {i.hint ? <span className="dim"> ({i.hint})</span> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}
