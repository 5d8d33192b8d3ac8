// Electron shell logic without Electron: crash notifications, quit semantics (close hides, Quit disposes once
// then exits), menus, window hardening.
import { describe, expect, it, vi } from 'vitest';

import { crashMessage, watchWorkerCrashes } from '../../../../electron/platform/crash-notifier';
import {
  appMenuTemplate,
  trayMenuTemplate,
  workerSummary,
} from '../../../../electron/platform/menus';
import { createQuitController } from '../../../../electron/platform/quit-controller';
import {
  applyResponseHeaders,
  CONSOLE_CSP,
  hardenWebContents,
  isExternalWebUrl,
} from '../../../../electron/platform/window-security';
import type { OnApiEvent } from '../../../../shared/api/contract';
import type { WorkerState } from '../../../../shared/model/worker';
import type { WorkerView } from '../../../../shared/model/worker-view';

function view(state: WorkerState, origin: 'local' | 'remote' = 'local'): WorkerView {
  return {
    id: 'gen0',
    role: 'generation',
    url: 'http://localhost:8002',
    origin,
    spec: null,
    status: {
      id: 'gen0',
      state,
      pid: null,
      restarts: 1,
      lastExit:
        state === 'ready'
          ? null
          : { code: 137, signal: null, stderrTail: ['CUDA out of memory'], atMs: 1, reason: null },
      startedAtMs: null,
      readyAtMs: null,
      progress: null,
      nextRestartAtMs: null,
      message: null,
    },
  };
}

describe('watchWorkerCrashes', () => {
  it('notifies once per transition into errored/backoff, for local workers only', () => {
    let listener: ((v: WorkerView) => void) | undefined;
    const onEvent = ((_name: string, l: (v: WorkerView) => void) => {
      listener = l;
      return () => (listener = undefined);
    }) as unknown as OnApiEvent;
    const notify = vi.fn();
    const off = watchWorkerCrashes(onEvent, notify);
    listener!(view('ready'));
    listener!(view('backoff'));
    listener!(view('errored'));
    listener!(view('ready'));
    listener!(view('errored'));
    listener!(view('errored', 'remote'));
    expect(notify).toHaveBeenCalledTimes(2);
    expect(notify.mock.calls[0]![0]).toBe('Worker gen0 crashed');
    off();
    expect(listener).toBeUndefined();
  });

  it('says how it ended, the last stderr line and what happens next', () => {
    expect(crashMessage(view('backoff')).body).toBe(
      'generation worker stopped (exit code 137). Last line: CUDA out of memory The console will restart it.',
    );
    expect(crashMessage(view('errored')).body).toMatch(/will not be restarted/);
  });
});

describe('createQuitController', () => {
  it('hides on close while running, disposes once on quit, then exits and lets windows close', async () => {
    let finish!: () => void;
    const dispose = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const exit = vi.fn();
    const q = createQuitController({ dispose, exit });
    const hide = vi.fn();
    const closeEvent = { preventDefault: vi.fn() };
    expect(q.onWindowClose(closeEvent, hide)).toBe(true);
    expect(hide).toHaveBeenCalled();
    const quitEvent = { preventDefault: vi.fn() };
    q.onBeforeQuit(quitEvent);
    q.onBeforeQuit(quitEvent);
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(quitEvent.preventDefault).toHaveBeenCalledTimes(2);
    expect(q.isQuitting()).toBe(true);
    expect(q.onWindowClose({ preventDefault: vi.fn() }, hide)).toBe(false);
    expect(exit).not.toHaveBeenCalled();
    finish();
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
    const last = { preventDefault: vi.fn() };
    q.onBeforeQuit(last);
    expect(last.preventDefault).not.toHaveBeenCalled();
  });

  it('exits after the timeout when dispose hangs, and with 1 when it fails', async () => {
    const exit = vi.fn();
    createQuitController({
      dispose: () => new Promise(() => undefined),
      exit,
      timeoutMs: 20,
    }).onBeforeQuit({ preventDefault: () => undefined });
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0), { timeout: 10_000 });
    const exit2 = vi.fn();
    createQuitController({
      dispose: () => Promise.reject(new Error('boom')),
      exit: exit2,
    }).onBeforeQuit({ preventDefault: () => undefined });
    await vi.waitFor(() => expect(exit2).toHaveBeenCalledWith(1), { timeout: 10_000 });
  });
});

describe('menus', () => {
  const actions = { showWindow: vi.fn(), quit: vi.fn(), openDataDir: vi.fn() };
  it('tray: summary, show, quit that stops workers', () => {
    const t = trayMenuTemplate(actions, '2/2 workers ready');
    expect(t[0]).toMatchObject({ label: '2/2 workers ready', enabled: false });
    const quit = t.find((i) => i.label === 'Quit and stop all workers');
    (quit!.click as () => void)();
    expect(actions.quit).toHaveBeenCalled();
  });

  it('app menu has the mac app menu only on mac, and a quit item', () => {
    expect(appMenuTemplate(actions, true)[0]).toEqual({ role: 'appMenu' });
    expect(appMenuTemplate(actions, false)[0]).toMatchObject({ label: 'File' });
  });

  it.each([
    [new Map(), 'No workers running'],
    [
      new Map([
        ['a', 'ready'],
        ['b', 'starting'],
      ]),
      '1/2 workers ready',
    ],
  ])('workerSummary', (states, text) => {
    expect(workerSummary(states)).toBe(text);
  });
});

describe('window hardening', () => {
  it('denies new windows (web links go to the browser), blocks foreign navigation and webviews', () => {
    const on = new Map<string, (e: { preventDefault: () => void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const contents = {
      setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
      on: (ev: string, h: never) => on.set(ev, h),
    };
    const opened: string[] = [];
    hardenWebContents(contents as never, 'file:///app/', (u) => opened.push(u));
    expect(openHandler!({ url: 'https://docs.nvidia.com/' })).toEqual({ action: 'deny' });
    expect(openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://docs.nvidia.com/']);
    const away = { preventDefault: vi.fn() };
    on.get('will-navigate')!(away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const inside = { preventDefault: vi.fn() };
    on.get('will-navigate')!(inside, 'file:///app/index.html');
    expect(inside.preventDefault).not.toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    on.get('will-attach-webview')!(webview);
    expect(webview.preventDefault).toHaveBeenCalled();
    expect(isExternalWebUrl('javascript:alert(1)')).toBe(false);
  });

  it('adds the CSP to http main frames and CORS to the proxy answers only', () => {
    type Details = {
      url: string;
      method?: string;
      resourceType: string;
      responseHeaders?: Record<string, string[]>;
    };
    type Result = { responseHeaders: Record<string, string[]>; statusLine?: string };
    let hook: ((d: Details, cb: (r: Result) => void) => void) | undefined;
    applyResponseHeaders(
      { webRequest: { onHeadersReceived: (h: typeof hook) => (hook = h) } } as never,
      () => 'http://127.0.0.1:8000',
    );
    const run = (d: Details): Result => {
      let out: Result = { responseHeaders: {} };
      hook!(d, (r) => (out = r));
      return out;
    };
    expect(
      run({ url: 'http://localhost:5173/', resourceType: 'mainFrame', responseHeaders: {} })
        .responseHeaders['Content-Security-Policy'],
    ).toEqual([CONSOLE_CSP]);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    const answer = run({
      url: 'http://127.0.0.1:8000/v1/chat/completions',
      method: 'POST',
      resourceType: 'xhr',
      responseHeaders: { 'content-type': ['text/event-stream'] },
    });
    expect(answer.responseHeaders['Access-Control-Allow-Origin']).toEqual(['*']);
    expect(answer.responseHeaders['Access-Control-Expose-Headers']![0]).toContain(
      'x-disagg-context-worker',
    );
    expect(answer.statusLine).toBeUndefined();
    const preflight = run({
      url: 'http://127.0.0.1:8000/v1/chat/completions',
      method: 'OPTIONS',
      resourceType: 'xhr',
      responseHeaders: {},
    });
    expect(preflight.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(preflight.responseHeaders['Access-Control-Allow-Headers']![0]).toContain('content-type');
    const other = run({
      url: 'http://127.0.0.1:8001/v1/chat/completions',
      method: 'POST',
      resourceType: 'xhr',
      responseHeaders: {},
    });
    expect(other.responseHeaders['Access-Control-Allow-Origin']).toBeUndefined();
    expect(run({ url: 'http://127.0.0.1:80001/', resourceType: 'xhr' }).responseHeaders).toEqual(
      {},
    );
  });
});
