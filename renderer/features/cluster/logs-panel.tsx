// A worker's logs (feature C3): live tail from logs:appended, search with next/previous, copy, and the crash
// reason shown at the line where it happened. Layer: renderer.

import { type KeyboardEvent, type ReactNode, useEffect, useMemo, useRef, useState } from 'react';

import { formatClock } from '../../lib/format';
import { crashLineIndex, describeExit, matchingLines, stepMatch } from '../../lib/log-search';
import { useAppStore } from '../../store/app-store-context';
import { selectWorker } from '../../store/selectors';

export function LogsPanel({
  workerId,
  onClose,
}: {
  workerId: string;
  onClose: () => void;
}): ReactNode {
  const loadLogs = useAppStore((s) => s.loadLogs);
  const notify = useAppStore((s) => s.notify);
  const lines = useAppStore((s) => s.logs[workerId]);
  const worker = useAppStore((s) => selectWorker(s, workerId));
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(-1);
  const [isFollowing, setFollowing] = useState(true);
  const bodyRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    void loadLogs(workerId);
  }, [loadLogs, workerId]);

  const all = useMemo(() => lines ?? [], [lines]);
  const matches = useMemo(() => matchingLines(all, query), [all, query]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const exit = worker?.status.lastExit ?? null;
  const crashAt = useMemo(() => crashLineIndex(all, exit), [all, exit]);
  const currentLine = current >= 0 ? matches[current] : undefined;

  useEffect(() => {
    const el = bodyRef.current;
    if (el && isFollowing && currentLine === undefined) el.scrollTop = el.scrollHeight;
  }, [all, isFollowing, currentLine]);

  useEffect(() => {
    if (currentLine === undefined) return;
    bodyRef.current
      ?.querySelector(`[data-line="${currentLine}"]`)
      ?.scrollIntoView({ block: 'center' });
  }, [currentLine]);

  const step = (direction: 1 | -1): void => {
    setFollowing(false);
    setCurrent(stepMatch(matches.length, current, direction));
  };

  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>): void => {
    if (e.key === 'Enter') {
      e.preventDefault();
      step(e.shiftKey ? -1 : 1);
    }
  };

  const copy = (): void => {
    const text = all.map((l) => l.text).join('\n');
    navigator.clipboard.writeText(text).then(
      () => notify('success', `Copied ${all.length} lines of ${workerId}`),
      () =>
        notify(
          'error',
          'The clipboard is not available here; select the lines and copy them by hand.',
        ),
    );
  };

  return (
    <section className="panel logs-panel" aria-label={`Logs of ${workerId}`}>
      <div className="panel-head">
        <h2>Logs · {workerId}</h2>
        <span className="spacer" />
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close logs">
          ×
        </button>
      </div>
      {exit &&
      (worker?.status.state === 'errored' ||
        worker?.status.state === 'backoff' ||
        exit.code !== 0) ? (
        <div className="crash-box" role="alert">
          <strong className="issue-error">Last run ended: {describeExit(exit)}</strong> at{' '}
          {formatClock(exit.atMs)}
          {exit.stderrTail.length > 0 ? <pre>{exit.stderrTail.join('\n')}</pre> : null}
        </div>
      ) : null}
      <div className="btn-group" style={{ alignItems: 'center' }}>
        <input
          className="input"
          type="search"
          placeholder="Search logs"
          aria-label="Search logs"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setCurrent(-1);
          }}
          onKeyDown={onSearchKey}
          style={{ flex: 1, minWidth: 120 }}
        />
        <span className="dim num" aria-live="polite">
          {query.trim() === ''
            ? ''
            : matches.length === 0
              ? 'no match'
              : `${current >= 0 ? current + 1 : 0}/${matches.length}`}
        </span>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => step(-1)}
          disabled={matches.length === 0}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => step(1)}
          disabled={matches.length === 0}
          aria-label="Next match"
        >
          ↓
        </button>
        <button type="button" className="btn btn-small" onClick={copy} disabled={all.length === 0}>
          Copy
        </button>
        <button
          type="button"
          className="btn btn-small"
          aria-pressed={isFollowing}
          onClick={() => {
            setFollowing(!isFollowing);
            setCurrent(-1);
          }}
        >
          {isFollowing ? 'Following' : 'Follow'}
        </button>
      </div>
      <div
        className="logs-body"
        ref={bodyRef}
        tabIndex={0}
        role="log"
        aria-label="Log lines"
        onWheel={(e) => {
          if (e.deltaY < 0) setFollowing(false);
        }}
      >
        {lines === undefined ? <div className="log-line dim">Loading…</div> : null}
        {lines !== undefined && all.length === 0 ? (
          <div className="log-line dim">
            No output yet. Lines appear here as the worker prints them.
          </div>
        ) : null}
        {all.map((l, i) => (
          <div
            key={l.seq}
            data-line={i}
            className={`log-line${l.stream === 'stderr' ? ' stderr' : ''}${matchSet.has(i) ? ' match' : ''}${i === currentLine ? ' current' : ''}${i === crashAt ? ' crash' : ''}`}
          >
            <span className="dim">{formatClock(l.atMs)} </span>
            {l.text}
            {i === crashAt && exit ? (
              <strong className="issue-error"> ⟵ process exited here: {describeExit(exit)}</strong>
            ) : null}
          </div>
        ))}
      </div>
    </section>
  );
}
