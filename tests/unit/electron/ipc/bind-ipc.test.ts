// IPC binding (electron/ipc/bind-ipc.ts) and the sender check (trusted-sender.ts) with `electron` mocked:
// every channel handled through dispatch, untrusted senders refused, events forwarded, disposer removes all.
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ ipcMain: { handle: vi.fn(), removeHandler: vi.fn() } }));

import { bindIpc } from '../../../../electron/ipc/bind-ipc';
import { isTrustedSender, urlPrefixOf } from '../../../../electron/ipc/trusted-sender';
import {
  API_CHANNELS,
  API_EVENTS,
  type ApiBackend,
  EVENT_CHANNEL_PREFIX,
} from '../../../../shared/api/contract';
import { AppError } from '../../../../shared/api/envelope';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;

function setup(isTrusted = true) {
  const handlers = new Map<string, Handler>();
  const ipcMain = {
    handle: vi.fn((ch: string, h: Handler) => void handlers.set(ch, h)),
    removeHandler: vi.fn((ch: string) => void handlers.delete(ch)),
  };
  const listeners = new Map<string, (p: unknown) => void>();
  const backend: ApiBackend = {
    api: {
      'workers:remove': (id) =>
        id === 'x'
          ? Promise.reject(new AppError('WORKER_NOT_FOUND', "no worker 'x'"))
          : Promise.resolve(),
      'proxy:info': () =>
        Promise.resolve({
          url: 'http://127.0.0.1:8000',
          host: '127.0.0.1',
          port: 8000,
          isRunning: true,
        }),
    },
    onEvent: (name, l) => {
      listeners.set(name, l as (p: unknown) => void);
      return () => listeners.delete(name);
    },
  };
  const sent: [string, unknown][] = [];
  let destroyed = false;
  const wc = {
    send: (ch: string, p: unknown) => void sent.push([ch, p]),
    isDestroyed: () => destroyed,
  };
  const dispose = bindIpc({
    ipcMain: ipcMain,
    backend,
    target: () => wc,
    isTrusted: () => isTrusted,
    log: () => undefined,
  });
  return { handlers, ipcMain, listeners, sent, dispose, destroy: () => (destroyed = true) };
}

describe('bindIpc', () => {
  it('handles every contract channel through dispatch and returns envelopes', async () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual([...API_CHANNELS].sort());
    await expect(handlers.get('proxy:info')!({})).resolves.toEqual({
      ok: true,
      value: { url: 'http://127.0.0.1:8000', host: '127.0.0.1', port: 8000, isRunning: true },
    });
    await expect(handlers.get('workers:remove')!({}, 'x')).resolves.toEqual({
      ok: false,
      error: { code: 'WORKER_NOT_FOUND', message: "no worker 'x'" },
    });
    await expect(handlers.get('workers:remove')!({}, 42)).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    await expect(handlers.get('settings:get')!({})).resolves.toMatchObject({
      ok: false,
      error: { code: 'NOT_SUPPORTED' },
    });
  });

  it('refuses untrusted senders without calling the backend', async () => {
    const { handlers } = setup(false);
    await expect(handlers.get('proxy:info')!({})).resolves.toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED' },
    });
  });

  it('forwards backend events to the window, not to a destroyed one, and unbinds everything', () => {
    const { listeners, sent, dispose, destroy, ipcMain } = setup();
    expect([...listeners.keys()].sort()).toEqual([...API_EVENTS].sort());
    listeners.get('metrics:tick')!({ n: 1 });
    expect(sent).toEqual([[`${EVENT_CHANNEL_PREFIX}metrics:tick`, { n: 1 }]]);
    destroy();
    listeners.get('metrics:tick')!({ n: 2 });
    expect(sent).toHaveLength(1);
    dispose();
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(API_CHANNELS.length);
    expect(listeners.size).toBe(0);
  });
});

describe('isTrustedSender', () => {
  const policy = {
    webContentsIds: () => [7],
    allowedUrlPrefixes: ['file:///opt/app/.vite/renderer/main_window/'],
  };
  it.each([
    [
      'our top frame',
      {
        sender: { id: 7 },
        senderFrame: { url: 'file:///opt/app/.vite/renderer/main_window/index.html', parent: null },
      },
      true,
    ],
    [
      'another window',
      {
        sender: { id: 8 },
        senderFrame: { url: 'file:///opt/app/.vite/renderer/main_window/index.html', parent: null },
      },
      false,
    ],
    [
      'a subframe',
      {
        sender: { id: 7 },
        senderFrame: { url: 'file:///opt/app/.vite/renderer/main_window/index.html', parent: {} },
      },
      false,
    ],
    [
      'a foreign page',
      { sender: { id: 7 }, senderFrame: { url: 'https://evil.example/', parent: null } },
      false,
    ],
    [
      'a sibling file: folder',
      {
        sender: { id: 7 },
        senderFrame: { url: 'file:///opt/app/.vite/renderer/other/index.html', parent: null },
      },
      false,
    ],
    ['no frame', { sender: { id: 7 }, senderFrame: null }, false],
  ])('%s -> %s', (_name, event, expected) => {
    expect(isTrustedSender(event, policy)).toBe(expected);
  });

  it('derives the prefix from the page URL', () => {
    expect(urlPrefixOf('http://localhost:5173/index.html')).toBe('http://localhost:5173/');
    expect(urlPrefixOf('file:///opt/app/.vite/renderer/main_window/index.html')).toBe(
      'file:///opt/app/.vite/renderer/main_window/',
    );
  });
});
