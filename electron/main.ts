// The Electron entry (feature D1): single instance, createBackend() with the user-data folder, the console
// window (sandboxed, context-isolated, no Node integration, hardened navigation, strict CSP), IPC bound through
// the same dispatcher as HTTP, application menu, a tray that keeps the cluster running when the window closes,
// crash notifications, and Quit that stops every worker before the process exits. Layer: electron shell.

import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  app,
  BrowserWindow,
  Menu,
  nativeImage,
  Notification,
  session,
  shell,
  Tray,
} from 'electron';

import { type Backend, createBackend } from './core/backend';
import { type ConsoleLogger, createConsoleLogger } from './core/logging/console-logger';
import { bindIpc } from './ipc/bind-ipc';
import { isTrustedSender, urlPrefixOf } from './ipc/trusted-sender';
import { watchWorkerCrashes } from './platform/crash-notifier';
import {
  appMenuTemplate,
  type MenuActions,
  trayMenuTemplate,
  workerSummary,
} from './platform/menus';
import { createQuitController } from './platform/quit-controller';
import {
  applyResponseHeaders,
  hardenWebContents,
  isExternalWebUrl,
} from './platform/window-security';

// Set by @electron-forge/plugin-vite: the dev server URL under `electron-forge start`, the renderer name otherwise.
declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string | undefined;

const here = fileURLToPath(new URL('.', import.meta.url));

function rendererUrl(): string {
  if (
    typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' &&
    MAIN_WINDOW_VITE_DEV_SERVER_URL !== ''
  ) {
    return MAIN_WINDOW_VITE_DEV_SERVER_URL;
  }
  const name = typeof MAIN_WINDOW_VITE_NAME === 'string' ? MAIN_WINDOW_VITE_NAME : 'main_window';
  return pathToFileURL(join(here, '..', 'renderer', name, 'index.html')).href;
}

/** A 16x16 BGRA tray icon drawn in code (the accent square of the app's mark), so no image file ships. */
function trayIconBitmap(): Buffer {
  const px = Buffer.alloc(16 * 16 * 4);
  for (let y = 0; y < 16; y += 1) {
    for (let x = 0; x < 16; x += 1) {
      const i = (y * 16 + x) * 4;
      const inside = x >= 1 && x <= 14 && y >= 1 && y <= 14;
      px.set(inside ? [0x00, 0xb9, 0x76, 0xff] : [0, 0, 0, 0], i);
    }
  }
  return px;
}

/** The console's log (logging/console-logger.ts), opened once the data folder is known. */
let logger: ConsoleLogger | null = null;

function onUnexpectedError(err: unknown): void {
  if (logger) logger.log('error', 'unexpected error', { err });
  else {
    process.stderr.write(
      `[disagg-console] unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  process.on('unhandledRejection', onUnexpectedError);
  process.on('uncaughtException', onUnexpectedError);
  await app.whenReady();

  const dataDir = join(app.getPath('userData'), 'data');
  logger = createConsoleLogger({ dir: join(dataDir, 'logs') });
  const shellLog = logger.forComponent('electron');
  const backend: Backend = await createBackend({
    dataDir,
    platform: { name: 'electron' },
    logger,
  });
  const pageUrl = rendererUrl();
  const allowedPrefix = urlPrefixOf(pageUrl);
  let win: BrowserWindow | null = null;
  let tray: Tray | null = null;
  const states = new Map<string, string>();

  const quit = createQuitController({
    dispose: () => backend.dispose(),
    exit: (code) => app.exit(code),
    log: (m) => shellLog('info', m),
  });
  const actions: MenuActions = {
    showWindow: () => showWindow(),
    quit: () => app.quit(),
    openDataDir: () => void shell.openPath(backend.dataDir),
  };

  const createWindow = (): BrowserWindow => {
    const w = new BrowserWindow({
      width: 1440,
      height: 920,
      minWidth: 960,
      minHeight: 640,
      title: 'Disagg Console',
      show: false,
      backgroundColor: '#0e1116',
      webPreferences: {
        preload: join(here, 'preload.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webviewTag: false,
        spellcheck: false,
      },
    });
    hardenWebContents(w.webContents, allowedPrefix, (url) => {
      if (isExternalWebUrl(url)) void shell.openExternal(url);
    });
    w.once('ready-to-show', () => w.show());
    w.on('close', (event) => {
      quit.onWindowClose(event, () => w.hide());
    });
    w.on('closed', () => {
      if (win === w) win = null;
    });
    void w.loadURL(pageUrl);
    return w;
  };

  const showWindow = (): void => {
    if (!win) win = createWindow();
    win.show();
    win.focus();
  };

  const refreshTray = (): void => {
    if (!tray) return;
    const summary = workerSummary(states);
    tray.setToolTip(`Disagg Console: ${summary}`);
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(actions, summary)));
  };

  applyResponseHeaders(session.defaultSession, () => backend.proxyUrl);
  const unbind = bindIpc({
    backend,
    target: () => win?.webContents ?? null,
    isTrusted: (event) =>
      isTrustedSender(event, {
        webContentsIds: () => BrowserWindow.getAllWindows().map((w) => w.webContents.id),
        allowedUrlPrefixes: [allowedPrefix],
      }),
    log: (message, err) => shellLog('error', message, { err }),
  });
  const offCrashes = watchWorkerCrashes(backend.onEvent, (title, body) => {
    if (Notification.isSupported()) new Notification({ title, body }).show();
  });
  const offSummary = backend.onEvent('workers:statusChanged', (view) => {
    states.set(view.id, view.status.state);
    refreshTray();
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(appMenuTemplate(actions, process.platform === 'darwin')),
  );
  tray = new Tray(nativeImage.createFromBitmap(trayIconBitmap(), { width: 16, height: 16 }));
  tray.on('click', showWindow);
  refreshTray();
  win = createWindow();

  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  // Closing the last window keeps the app (and the cluster) running in the tray.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event) => {
    if (!quit.isQuitting()) {
      unbind();
      offCrashes();
      offSummary();
    }
    quit.onBeforeQuit(event);
  });
}

void main().catch((err: unknown) => {
  onUnexpectedError(err);
  app.exit(1);
});
