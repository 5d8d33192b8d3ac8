// The `app` fixture: a fresh data dir, `disagg-console serve --port 0 --demo` (a simulated 4-GPU machine with
// one context and one generation worker), the page opened at the console URL with its token; afterwards the
// server is stopped by its pid (SIGTERM: it stops every worker it started), SIGKILL after a bound. Journeys
// can stop the backend and start it again on the same data dir and console port (`stopBackend`,
// `startBackend`), and call the console API as another window would (`call`).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, type Page, test as base } from '@playwright/test';

import { ConsolePage } from './pages/console-page';

const ROOT = join(import.meta.dirname, '..', '..');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

export interface ConsoleApp {
  page: Page;
  console: ConsolePage;
  consoleUrl: string;
  proxyUrl: string;
  dataDir: string;
  /** Browser console errors seen so far (CSP violations, exceptions). */
  pageErrors: string[];
  /** Calls one API channel with the console's token (as a second window would); rejects on an error envelope. */
  call: <T = unknown>(channel: string, ...args: unknown[]) => Promise<T>;
  /** The same call, answering the envelope (for refusals a test expects). */
  callEnvelope: (channel: string, ...args: unknown[]) => Promise<ApiEnvelope>;
  /** Stops the backend by its pid (SIGTERM) and waits for it to exit. */
  stopBackend: () => Promise<void>;
  /** Starts the backend again on the same data dir and console port; resolves with its console URL. */
  startBackend: () => Promise<string>;
}

export interface ApiEnvelope {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

function serveArgs(dataDir: string, port: number): string[] {
  return [
    join(ROOT, 'bin', 'disagg-console.mjs'),
    'serve',
    '--port',
    String(port),
    '--proxy-port',
    '0',
    '--data-dir',
    dataDir,
    '--demo',
  ];
}

function spawnServe(dataDir: string, port: number): ChildProcess {
  return spawn(process.execPath, serveArgs(dataDir, port), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** POSTs one call to the console API with the token of `consoleUrl`. */
async function callApi(consoleUrl: string, channel: string, args: unknown[]): Promise<ApiEnvelope> {
  const url = new URL(consoleUrl);
  const token = url.searchParams.get('token') ?? '';
  const res = await fetch(`${url.origin}/api/${encodeURIComponent(channel)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  return (await res.json()) as ApiEnvelope;
}

function waitForUrls(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ consoleUrl: string; proxyUrl: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let consoleUrl: string | null = null;
    const timer = setTimeout(
      () => reject(new Error(`serve did not print its URLs within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      consoleUrl ??= /Console: (\S+)/.exec(out)?.[1] ?? null;
      const proxyUrl = /Proxy: (\S+)/.exec(out)?.[1];
      if (consoleUrl && proxyUrl) {
        clearTimeout(timer);
        resolve({ consoleUrl, proxyUrl });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URLs:\n${out}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, 'SIGTERM');
  const killed = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 20_000)),
  ]);
  if (!killed && child.exitCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

export const test = base.extend<{ app: ConsoleApp }>({
  app: async ({ page }, use) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'disagg-e2e-'));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    let child = spawnServe(dataDir, 0);
    try {
      let { consoleUrl, proxyUrl } = await waitForUrls(child, 60_000);
      const port = Number(new URL(consoleUrl).port);
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
      await page.goto(consoleUrl);
      const cp = new ConsolePage(page);
      await expect(cp.connectionBadge).toHaveText('connected');
      const callEnvelope = (channel: string, ...args: unknown[]): Promise<ApiEnvelope> =>
        callApi(consoleUrl, channel, args);
      const call = async <T>(channel: string, ...args: unknown[]): Promise<T> => {
        const envelope = await callEnvelope(channel, ...args);
        if (!envelope.ok) throw new Error(`${channel}: ${JSON.stringify(envelope.error)}`);
        return envelope.value as T;
      };
      await use({
        page,
        console: cp,
        get consoleUrl() {
          return consoleUrl;
        },
        get proxyUrl() {
          return proxyUrl;
        },
        dataDir,
        pageErrors,
        call,
        callEnvelope,
        stopBackend: () => stop(child),
        startBackend: async () => {
          child = spawnServe(dataDir, port);
          ({ consoleUrl, proxyUrl } = await waitForUrls(child, 60_000));
          return consoleUrl;
        },
      });
    } finally {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
});

export { expect };
