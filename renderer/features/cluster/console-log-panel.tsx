// The console's own log (issue 17): the structured records of <dataDir>/logs/console.log through
// console:logs, filtered by level (and a search), refreshed every few seconds while open. Worker logs are
// the other panel (logs-panel.tsx). Layer: renderer.

import { type ReactNode, useEffect, useState } from 'react';

import { CONSOLE_LOG_LEVELS, type ConsoleLogLevel } from '../../../shared/model/logs';
import { formatClock } from '../../lib/format';
import { useAppStore } from '../../store/app-store-context';

/** How often the open panel reads the log again. */
const REFRESH_MS = 5000;

function fieldsText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function ConsoleLogPanel({ onClose }: { onClose: () => void }): ReactNode {
  const loadConsoleLog = useAppStore((s) => s.loadConsoleLog);
  const records = useAppStore((s) => s.consoleLog);
  const [minLevel, setMinLevel] = useState<ConsoleLogLevel>('info');
  const [search, setSearch] = useState('');

  useEffect(() => {
    const query = { minLevel, ...(search.trim() === '' ? {} : { search: search.trim() }) };
    void loadConsoleLog(query);
    const timer = setInterval(() => void loadConsoleLog(query), REFRESH_MS);
    return () => clearInterval(timer);
  }, [loadConsoleLog, minLevel, search]);

  return (
    <section className="panel logs-panel" aria-label="Console log">
      <div className="panel-head">
        <h2>Console log</h2>
        <span className="spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={onClose}
          aria-label="Close console log"
        >
          ×
        </button>
      </div>
      <div className="btn-group" style={{ alignItems: 'center' }}>
        <label className="dim" htmlFor="console-log-level">
          Level
        </label>
        <select
          id="console-log-level"
          className="input"
          value={minLevel}
          onChange={(e) => setMinLevel(e.target.value as ConsoleLogLevel)}
        >
          {CONSOLE_LOG_LEVELS.map((l) => (
            <option key={l} value={l}>
              {l} and above
            </option>
          ))}
        </select>
        <input
          className="input"
          type="search"
          placeholder="Search the console log"
          aria-label="Search the console log"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ flex: 1, minWidth: 120 }}
        />
      </div>
      <div className="logs-body" tabIndex={0} role="log" aria-label="Console log records">
        {records === null ? <div className="log-line dim">Loading…</div> : null}
        {records !== null && records.length === 0 ? (
          <div className="log-line dim">No records at this level.</div>
        ) : null}
        {(records ?? []).map((r, i) => (
          <div
            key={`${r.time}-${i}`}
            className={`log-line${r.level === 'error' || r.level === 'warn' ? ' stderr' : ''}`}
            data-level={r.level}
          >
            <span className="dim">{formatClock(r.time)} </span>
            <strong>{r.level.toUpperCase()}</strong> <span className="dim">{r.component}:</span>{' '}
            {r.msg} <span className="dim">{fieldsText(r.fields)}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
