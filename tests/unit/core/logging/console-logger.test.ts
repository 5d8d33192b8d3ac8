// The console's own structured log (electron/core/logging): records with level/time/component/msg/fields as
// JSON lines in <dir>/console.log, the level filter of what is written and of the query, the size cap and
// rotation, the one-line text for people, and no secrets in records.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  type ConsoleLogger,
  createConsoleLogger,
  formatHumanLine,
} from '../../../../electron/core/logging/console-logger';
import { isSecretKey, REDACTED, scrubText } from '../../../../electron/core/logging/redact';
import type { ConsoleLogRecord } from '../../../../shared/model/logs';

const dirs: string[] = [];
const loggers: ConsoleLogger[] = [];
afterEach(() => {
  for (const l of loggers.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function make(options: Partial<Parameters<typeof createConsoleLogger>[0]> = {}): {
  logger: ConsoleLogger;
  echoed: ConsoleLogRecord[];
  dir: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'console-log-'));
  dirs.push(dir);
  const echoed: ConsoleLogRecord[] = [];
  const logger = createConsoleLogger({ dir, echo: (r) => echoed.push(r), ...options });
  loggers.push(logger);
  return { logger, echoed, dir };
}

const fileLines = (logger: ConsoleLogger): Record<string, unknown>[] =>
  readFileSync(logger.filePath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('console logger', () => {
  it('writes one JSON line per record with level, time, component, msg and the fields', () => {
    const { logger, echoed } = make();
    const before = Date.now();
    logger.forComponent('supervisor')('info', 'gen0 is ready', { workerId: 'gen0', port: 8002 });
    const [line] = fileLines(logger);
    expect(line).toMatchObject({
      level: 'info',
      component: 'supervisor',
      msg: 'gen0 is ready',
      workerId: 'gen0',
      port: 8002,
    });
    expect(line?.time).toBeGreaterThanOrEqual(before);
    expect(echoed).toEqual([
      {
        time: line?.time,
        level: 'info',
        component: 'supervisor',
        msg: 'gen0 is ready',
        fields: { workerId: 'gen0', port: 8002 },
      },
    ]);
  });

  it('drops records below its level', () => {
    const { logger, echoed } = make({ level: 'warn' });
    logger.log('debug', 'd');
    logger.log('info', 'i');
    logger.log('warn', 'w');
    logger.log('error', 'e');
    expect(fileLines(logger).map((l) => l.msg)).toEqual(['w', 'e']);
    expect(echoed.map((r) => r.level)).toEqual(['warn', 'error']);
  });

  it('an error field keeps its type, message and stack', () => {
    const { logger } = make();
    logger.log('error', 'listener failed', { err: new TypeError('boom') });
    const err = fileLines(logger)[0]?.err as Record<string, unknown>;
    expect(err.type).toBe('TypeError');
    expect(err.message).toBe('boom');
    expect(String(err.stack)).toContain('TypeError: boom');
  });

  it('query: level filter, component, search, tail; oldest first', () => {
    const { logger } = make({ level: 'debug' });
    const sup = logger.forComponent('supervisor');
    const proxy = logger.forComponent('proxy-host');
    sup('debug', 'probe 1');
    sup('info', 'gen0 starting', { workerId: 'gen0' });
    proxy('warn', 'port 8000 in use');
    sup('error', 'gen0 crashed', { workerId: 'gen0', code: 1 });
    proxy('info', 'proxy restarted');
    expect(logger.query().map((r) => r.msg)).toEqual([
      'probe 1',
      'gen0 starting',
      'port 8000 in use',
      'gen0 crashed',
      'proxy restarted',
    ]);
    expect(logger.query({ minLevel: 'warn' }).map((r) => r.msg)).toEqual([
      'port 8000 in use',
      'gen0 crashed',
    ]);
    expect(logger.query({ minLevel: 'info', component: 'proxy-host' }).map((r) => r.msg)).toEqual([
      'port 8000 in use',
      'proxy restarted',
    ]);
    expect(logger.query({ search: 'GEN0' }).map((r) => r.msg)).toEqual([
      'gen0 starting',
      'gen0 crashed',
    ]);
    expect(logger.query({ tail: 2 }).map((r) => r.msg)).toEqual([
      'gen0 crashed',
      'proxy restarted',
    ]);
    expect(logger.query({ minLevel: 'error' })[0]?.fields).toEqual({ workerId: 'gen0', code: 1 });
  });

  it('skips torn or foreign lines when reading back', () => {
    const { logger } = make();
    logger.log('info', 'first');
    logger.close();
    writeFileSync(
      logger.filePath,
      readFileSync(logger.filePath, 'utf8') + 'not json\n{"level":"info"',
      {
        flag: 'w',
      },
    );
    expect(logger.query().map((r) => r.msg)).toEqual(['first']);
  });

  it('caps the file and rotates, keeping the newest records readable across files', () => {
    const { logger } = make({ maxFileBytes: 400, maxRotatedFiles: 2 });
    for (let i = 0; i < 60; i++) logger.log('info', `record ${i}`, { i });
    for (const path of [logger.filePath, `${logger.filePath}.1`, `${logger.filePath}.2`]) {
      expect(statSync(path).size).toBeLessThanOrEqual(400);
    }
    const all = logger.query({ tail: 1000 });
    expect(all.length).toBeGreaterThan(3);
    expect(all.length).toBeLessThan(60);
    expect(all.at(-1)?.msg).toBe('record 59');
    const seq = all.map((r) => r.fields.i as number);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
  });
});

describe('no secrets in records', () => {
  it('redacts secret-keyed fields at any depth and secrets inside messages', () => {
    const { logger, echoed } = make();
    logger.log(
      'info',
      'proxy started on http://127.0.0.1:8000/?token=abc123def; key sk-proj1234567890',
      {
        apiKey: 'k-1',
        config: {
          api_key: 'k-2',
          nested: { hmac_key: 'k-3', headers: { Authorization: 'Bearer k-4' } },
        },
        list: [{ token: 'k-5' }],
        note: 'Authorization: Bearer k-6',
        port: 8000,
      },
    );
    const text = readFileSync(logger.filePath, 'utf8');
    for (const secret of [
      'abc123def',
      'sk-proj1234567890',
      'k-1',
      'k-2',
      'k-3',
      'k-4',
      'k-5',
      'k-6',
    ]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(echoed)).not.toContain(secret);
    }
    const [line] = fileLines(logger);
    expect(line?.apiKey).toBe(REDACTED);
    expect(line?.port).toBe(8000);
    expect(line?.msg).toContain('http://127.0.0.1:8000/?token=[redacted]');
  });

  it.each([
    ['apiKey', true],
    ['api_key', true],
    ['x-api-key', true],
    ['hmac_key', true],
    ['authToken', true],
    ['password', true],
    ['Authorization', true],
    ['tokens', false],
    ['maxTokens', false],
    ['max_tokens', false],
    ['keyCount', false],
    ['workerId', false],
  ])('isSecretKey(%s) is %s', (key, expected) => {
    expect(isSecretKey(key)).toBe(expected);
  });

  it('scrubText leaves ordinary text alone', () => {
    expect(scrubText('gen0 ready on port 8002 with 512 max_tokens')).toBe(
      'gen0 ready on port 8002 with 512 max_tokens',
    );
  });
});

describe('human line', () => {
  it('is one line: clock, level, component, message, fields', () => {
    const line = formatHumanLine({
      time: Date.UTC(2026, 11, 7, 16, 50, 1, 123),
      level: 'warn',
      component: 'proxy-host',
      msg: 'port in use',
      fields: { port: 8000, reason: 'taken by pid 1', err: { message: 'EADDRINUSE' } },
    });
    expect(line).toBe(
      '16:50:01.123Z WARN  proxy-host: port in use port=8000 reason="taken by pid 1" err="EADDRINUSE"',
    );
  });
});
