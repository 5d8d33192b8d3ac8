import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

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
  it('writes lines to <dir>/<id>.log as they are, keeps their stream in the ring, and searches the file', () => {
    const logs = createLogStore({ dir, now: () => 5 });
    logs.append('ctx/0', 'stdout', 'hello');
    expect(logs.append('ctx/0', 'stderr', 'Traceback')).toEqual({
      seq: 2,
      atMs: 5,
      stream: 'stderr',
      text: 'Traceback',
    });
    const path = logs.filePath('ctx/0') ?? '';
    expect(path).toBe(join(dir, 'ctx_0.log'));
    expect(readFileSync(path, 'utf8')).toBe('hello\nTraceback\n');
    expect(logs.lines('ctx/0').map((l) => `${l.stream}:${l.text}`)).toEqual([
      'stdout:hello',
      'stderr:Traceback',
    ]);
    expect(logs.searchFiles('ctx/0', { text: 'trace' })).toEqual([
      { file: path, lineNo: 2, text: 'Traceback' },
    ]);
    // The file does not carry streams.
    expect(logs.searchFiles('ctx/0', { text: 'hello', stream: 'stderr' })).toEqual([]);
    logs.close();
  });

  it("reads what a worker writes to its descriptor, in file order with the console's lines", () => {
    const logs = createLogStore({ dir, pollMs: 60_000 });
    const fd = logs.openOutput('w') ?? -1;
    writeSync(fd, 'loading\r10%\r');
    logs.append('w', 'stdout', '[disagg-console] note');
    writeSync(fd, '50%\rready\npart');
    logs.flush();
    expect(logs.lines('w').map((l) => l.text)).toEqual([
      'loading',
      '10%',
      '[disagg-console] note',
      '50%',
      'ready',
    ]);
    // A console line never merges with a line the worker has not finished.
    logs.append('w', 'stdout', 'mine');
    writeSync(fd, 'ial\n');
    logs.flush();
    expect(
      logs
        .lines('w')
        .map((l) => l.text)
        .slice(-3),
    ).toEqual(['part', 'mine', 'ial']);
    closeSync(fd);
    logs.close();
  });

  it('a new store over the same folder starts from the last lines of the file (a console after a crash)', () => {
    const first = createLogStore({ dir });
    const fd = first.openOutput('w') ?? -1;
    for (let i = 0; i < 10; i++) writeSync(fd, `before ${i}\n`);
    // The first console dies without closing anything; the worker keeps writing.
    const second = createLogStore({ dir, ringSize: 4, pollMs: 60_000 });
    expect(second.query('w').map((l) => l.text)).toEqual([
      'before 6',
      'before 7',
      'before 8',
      'before 9',
    ]);
    writeSync(fd, 'after\n');
    expect(second.query('w', { tail: 2 }).map((l) => l.text)).toEqual(['before 9', 'after']);
    closeSync(fd);
    first.close();
    second.close();
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

  it("rotates a worker's own output by copy and truncate; its descriptor keeps writing to the file", () => {
    const logs = createLogStore({ dir, maxFileBytes: 100, maxFiles: 1, pollMs: 60_000 });
    const fd = logs.openOutput('w') ?? -1;
    writeSync(fd, `${'a'.repeat(150)}\n`);
    logs.flush();
    const path = join(dir, 'w.log');
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(`${'a'.repeat(150)}\n`);
    expect(readFileSync(path, 'utf8')).toBe('');
    writeSync(fd, 'after rotation\n');
    logs.flush();
    expect(readFileSync(path, 'utf8')).toBe('after rotation\n');
    expect(logs.tail('w', 2)).toEqual(['a'.repeat(150), 'after rotation']);
    closeSync(fd);
    logs.close();
  });

  it('reads new lines on its own every pollMs', async () => {
    const logs = createLogStore({ dir, pollMs: 20 });
    const got: string[] = [];
    logs.onLine((_id, l) => got.push(l.text));
    const fd = logs.openOutput('w') ?? -1;
    writeSync(fd, 'later\n');
    await vi.waitFor(() => expect(got).toEqual(['later']), { timeout: 5000 });
    closeSync(fd);
    logs.close();
  });
});
