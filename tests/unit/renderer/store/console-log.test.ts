// The console log panel's store part against a fake API: console:logs with the panel's level filter (and
// search) as the query, records kept as the backend sent them, a failure told in a toast; opening and
// closing the panel.
import { describe, expect, it } from 'vitest';

import { createAppStore } from '../../../../renderer/store/create-app-store';
import type { ConsoleLogQuery, ConsoleLogRecord } from '../../../../shared/model/logs';
import { AppError, createFakeApi } from './fake-api';

const RECORDS: ConsoleLogRecord[] = [
  { time: 1, level: 'debug', component: 'registry', msg: 'poll', fields: {} },
  { time: 2, level: 'info', component: 'supervisor', msg: 'gen0 ready', fields: { port: 8002 } },
  { time: 3, level: 'warn', component: 'proxy-host', msg: 'port in use', fields: {} },
  { time: 4, level: 'error', component: 'supervisor', msg: 'gen0 crashed', fields: { code: 1 } },
];
const RANK = { debug: 0, info: 1, warn: 2, error: 3 } as const;

function setup(isFailing = false) {
  const queries: (ConsoleLogQuery | undefined)[] = [];
  const fake = createFakeApi({
    'console:logs': (query) => {
      queries.push(query);
      if (isFailing) return Promise.reject(new AppError('INTERNAL', 'disk gone'));
      const min = RANK[query?.minLevel ?? 'debug'];
      return Promise.resolve(RECORDS.filter((r) => RANK[r.level] >= min));
    },
  });
  const app = createAppStore({ api: fake.client, now: () => 0, fetch: null });
  return { store: app.store, queries };
}

describe('console log (store)', () => {
  it('loads with the level filter as the query and keeps the records', async () => {
    const { store, queries } = setup();
    expect(store.getState().consoleLog).toBeNull();
    await store.getState().loadConsoleLog({ minLevel: 'warn', search: 'gen0' });
    expect(queries).toEqual([{ tail: 1000, minLevel: 'warn', search: 'gen0' }]);
    expect(store.getState().consoleLog?.map((r) => r.msg)).toEqual(['port in use', 'gen0 crashed']);
    await store.getState().loadConsoleLog({ minLevel: 'debug' });
    expect(store.getState().consoleLog).toHaveLength(4);
  });

  it('tells a failure in a toast and keeps what it had', async () => {
    const { store } = setup(true);
    await store.getState().loadConsoleLog({ minLevel: 'info' });
    expect(store.getState().consoleLog).toBeNull();
    expect(store.getState().toasts.at(-1)).toMatchObject({ kind: 'error' });
    expect(store.getState().toasts.at(-1)?.text).toContain('Console log');
  });

  it('opens and closes the panel', () => {
    const { store } = setup();
    store.getState().openConsoleLog(true);
    expect(store.getState().isConsoleLogOpen).toBe(true);
    store.getState().openConsoleLog(false);
    expect(store.getState().isConsoleLogOpen).toBe(false);
  });
});
