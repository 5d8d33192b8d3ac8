// The console's own log through a real backend: services write structured records to
// <dataDir>/logs/console.log (beside, not inside, the worker logs), the console:logs channel reads them back
// with its level filter, the echo (stderr by default) gets the same records, and bad queries are refused.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dispatch } from '../../../../electron/core/dispatch';
import type { ConsoleLogRecord } from '../../../../shared/model/logs';
import { type BackendHarness, startTestBackend } from './backend-kit';

describe('console log (backend)', () => {
  let h: BackendHarness;
  let dataDir = '';
  const echoed: { level: string; message: string; fields?: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dc-console-log-'));
    // An unreadable settings file: the settings service warns (component 'settings') and uses defaults.
    writeFileSync(join(dataDir, 'settings.json'), '{ not json');
    h = await startTestBackend({
      dataDir,
      log: (level, message, fields) => void echoed.push({ level, message, fields }),
    });
  }, 30_000);

  afterAll(async () => {
    await h?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes JSON records to <dataDir>/logs/console.log and echoes the same records', () => {
    const path = join(dataDir, 'logs', 'console.log');
    expect(existsSync(path)).toBe(true);
    const records = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const warning = records.find((r) => r.component === 'settings');
    expect(warning).toMatchObject({ level: 'warn' });
    expect(typeof warning?.time).toBe('number');
    expect(String(warning?.msg)).toContain('settings file');
    expect(echoed.some((e) => e.level === 'warn' && e.message === warning?.msg)).toBe(true);
  });

  it('console:logs filters by level and component', async () => {
    const warnAndUp = await h.client.invoke('console:logs', { minLevel: 'warn' });
    expect(warnAndUp.some((r) => r.component === 'settings')).toBe(true);
    expect(warnAndUp.every((r) => r.level === 'warn' || r.level === 'error')).toBe(true);
    const errorsOnly = await h.client.invoke('console:logs', { minLevel: 'error' });
    expect(errorsOnly.some((r: ConsoleLogRecord) => r.component === 'settings')).toBe(false);
    const settingsOnly = await h.client.invoke('console:logs', { component: 'settings' });
    expect(settingsOnly.length).toBeGreaterThan(0);
    expect(settingsOnly.every((r) => r.component === 'settings')).toBe(true);
  });

  it('refuses a bad query with a validation error naming the field', async () => {
    const answer = await dispatch(h.backend.api, 'console:logs', [{ minLevel: 'fatal' }]);
    expect(answer).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(JSON.stringify(answer)).toContain('minLevel');
  });
});
