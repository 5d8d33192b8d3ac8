import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogStore } from '../../../../electron/core/supervisor/log-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dc-logs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('log store: ring buffer', () => {
  it('keeps the last ringSize lines per worker with increasing seq', () => {
    const logs = createLogStore({ dir: null, ringSize: 3, now: () => 7 });
    for (let i = 1; i <= 5; i++) logs.append('w', 'stdout', `line ${i}`);
    logs.append('other', 'stderr', 'x');
    expect(logs.lines('w')).toEqual([
      { seq: 3, atMs: 7, stream: 'stdout', text: 'line 3' },
      { seq: 4, atMs: 7, stream: 'stdout', text: 'line 4' },
      { seq: 5, atMs: 7, stream: 'stdout', text: 'line 5' },
    ]);
    expect(logs.lines('w', 4).map((l) => l.text)).toEqual(['line 5']);
    expect(logs.lines('other').map((l) => l.seq)).toEqual([1]);
    expect(logs.lines('nobody')).toEqual([]);
  });

  it('tails one stream', () => {
    const logs = createLogStore({ dir: null });
    ['a', 'b', 'c'].forEach((t) => logs.append('w', 'stderr', t));
    logs.append('w', 'stdout', 'd');
    expect(logs.tail('w', 2, 'stderr')).toEqual(['b', 'c']);
    expect(logs.tail('w', 2)).toEqual(['c', 'd']);
  });

  it.each([
    [{ text: 'error' }, ['CUDA Error: out of memory', 'error again']],
    [{ text: 'Error', caseSensitive: true }, ['CUDA Error: out of memory']],
    [{ regex: '^INFO' }, ['INFO: ready']],
    [{ text: 'error', stream: 'stderr' as const }, ['CUDA Error: out of memory']],
    [{ text: 'error', limit: 1 }, ['error again']],
    [{}, ['INFO: ready', 'CUDA Error: out of memory', 'error again']],
  ])('search %o', (query, expected) => {
    const logs = createLogStore({ dir: null });
    logs.append('w', 'stdout', 'INFO: ready');
    logs.append('w', 'stderr', 'CUDA Error: out of memory');
    logs.append('w', 'stdout', 'error again');
    expect(logs.search('w', query).map((l) => l.text)).toEqual(expected);
  });

  it('answers the console API query (tail + search)', () => {
    const logs = createLogStore({ dir: null });
    for (let i = 0; i < 10; i++) logs.append('w', 'stdout', `req ${i}`);
    expect(logs.query('w', { tail: 2 }).map((l) => l.text)).toEqual(['req 8', 'req 9']);
    expect(logs.query('w', { search: 'REQ 3' }).map((l) => l.text)).toEqual(['req 3']);
    expect(logs.query('w', { search: 'REQ 3', isCaseSensitive: true })).toEqual([]);
  });

  it('tells listeners about each line', () => {
    const logs = createLogStore({ dir: null });
    const got: string[] = [];
    const off = logs.onLine((id, l) => got.push(`${id}:${l.text}`));
    logs.append('w', 'stdout', 'one');
    off();
    logs.append('w', 'stdout', 'two');
    expect(got).toEqual(['w:one']);
  });
});

describe('log store: files', () => {
  it('writes lines to <dir>/<id>.log with time and stream, and searches them', () => {
    const logs = createLogStore({ dir, now: () => Date.UTC(2026, 10, 24, 12, 0, 0) });
    logs.append('ctx/0', 'stdout', 'hello');
    logs.append('ctx/0', 'stderr', 'Traceback');
    logs.flush();
    const path = logs.filePath('ctx/0') ?? '';
    expect(path).toBe(join(dir, 'ctx_0.log'));
    expect(readFileSync(path, 'utf8')).toBe(
      '2026-11-24T12:00:00.000Z stdout | hello\n2026-11-24T12:00:00.000Z stderr | Traceback\n',
    );
    expect(logs.searchFiles('ctx/0', { text: 'trace' })).toEqual([
      { file: path, lineNo: 2, text: 'Traceback' },
    ]);
    expect(logs.searchFiles('ctx/0', { text: 'hello', stream: 'stderr' })).toEqual([]);
    logs.close();
  });

  it('rotates at maxFileBytes and keeps maxFiles old files', () => {
    const logs = createLogStore({ dir, maxFileBytes: 200, maxFiles: 2 });
    for (let i = 0; i < 20; i++) {
      logs.append('w', 'stdout', `line number ${String(i).padStart(2, '0')} ${'x'.repeat(20)}`);
      logs.flush();
    }
    const path = join(dir, 'w.log');
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    for (const f of [path, `${path}.1`, `${path}.2`]) {
      expect(readFileSync(f).length).toBeLessThanOrEqual(200);
    }
    const all = logs.searchFiles('w', { text: 'line number' }).map((m) => m.text.slice(12, 14));
    expect(all.at(-1)).toBe('19');
    expect(all).toEqual([...all].sort());
    expect(all.length).toBeLessThan(20);
    logs.close();
  });

  it('flushes on its own after flushDelayMs', async () => {
    const logs = createLogStore({ dir, flushDelayMs: 20 });
    logs.append('w', 'stdout', 'later');
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(join(dir, 'w.log'), 'utf8')).toContain('later');
    logs.close();
  });
});
