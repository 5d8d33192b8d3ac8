// Applied versions (feature K5): diff a version with the one before it, roll back. Layer: renderer.

import { type ReactNode, useEffect, useState } from 'react';

import { Button } from '../../components/button';
import { Panel } from '../../components/panel';
import { formatClock } from '../../lib/format';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { selectTopology } from '../../store/selectors';

function DiffText({ text }: { text: string }): ReactNode {
  return (
    <div className="diff" aria-label="Diff">
      {text.split('\n').map((line, i) => (
        <div
          key={i}
          className={
            line.startsWith('@@')
              ? 'hunk'
              : line.startsWith('+') && !line.startsWith('+++')
                ? 'add'
                : line.startsWith('-') && !line.startsWith('---')
                  ? 'del'
                  : undefined
          }
        >
          {line || ' '}
        </div>
      ))}
    </div>
  );
}

export function HistoryPanel(): ReactNode {
  const { history, loadHistory, diff, loadDiff, rollback } = useAppFields(
    'history',
    'loadHistory',
    'diff',
    'loadDiff',
    'rollback',
  );
  const applied = useAppStore((s) => selectTopology(s)?.appliedVersion ?? null);
  const [confirmVersion, setConfirmVersion] = useState<number | null>(null);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  return (
    <Panel title="History" titleId="history-title">
      {history.length === 0 ? (
        <p className="dim">No version applied yet. Apply the topology to record version 1.</p>
      ) : null}
      <ul className="history-list" aria-label="Applied versions">
        {history.slice(0, 20).map((v, i) => {
          const previous = history[i + 1];
          return (
            <li
              key={v.version}
              style={{
                display: 'flex',
                gap: 6,
                alignItems: 'center',
                padding: '4px 0',
                borderBottom: '1px solid var(--border)',
              }}
            >
              <b className="num">v{v.version}</b>
              <span className="dim" style={{ flex: 1, fontSize: 12 }}>
                {formatClock(v.appliedAtMs)} · {v.note}
                {v.version === applied ? ' · current' : ''}
              </span>
              {previous ? (
                <Button
                  isSmall
                  onClick={() => loadDiff(previous.version, v.version)}
                  aria-label={`Diff v${previous.version} to v${v.version}`}
                >
                  Diff
                </Button>
              ) : null}
              {v.version !== applied ? (
                confirmVersion === v.version ? (
                  <Button
                    isSmall
                    variant="danger"
                    onClick={() => rollback(v.version).then(() => setConfirmVersion(null))}
                  >
                    Confirm
                  </Button>
                ) : (
                  <Button
                    isSmall
                    onClick={() => setConfirmVersion(v.version)}
                    aria-label={`Roll back to v${v.version}`}
                  >
                    Roll back
                  </Button>
                )
              ) : null}
            </li>
          );
        })}
      </ul>
      {diff ? (
        <div style={{ marginTop: 10, display: 'flex', flexDirection: 'column', gap: 8 }}>
          <strong>
            v{diff.from} → v{diff.to}
          </strong>
          {diff.files.filter((f) => f.status !== 'unchanged').length === 0 ? (
            <p className="dim">No file changed.</p>
          ) : null}
          {diff.files
            .filter((f) => f.status !== 'unchanged')
            .map((f) => (
              <div key={f.file}>
                <div className="mono">
                  {f.file} <span className="dim">({f.status})</span>
                </div>
                <DiffText text={f.unified} />
              </div>
            ))}
        </div>
      ) : null}
    </Panel>
  );
}
