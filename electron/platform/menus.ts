// Menu templates of the desktop app: the application menu (views, reload, devtools, quit) and the tray menu
// (show the console, the worker summary, quit and stop every worker). Pure templates: the actions are passed
// in, so tests check them without Electron. Layer: electron shell.

import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  showWindow: () => void;
  quit: () => void;
  openDataDir: () => void;
}

/** The application menu. */
export function appMenuTemplate(
  actions: MenuActions,
  isMac: boolean,
): MenuItemConstructorOptions[] {
  return [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open data folder', click: actions.openDataDir },
        { type: 'separator' },
        { label: 'Close window (workers keep running)', accelerator: 'CmdOrCtrl+W', role: 'close' },
        { label: 'Quit and stop all workers', accelerator: 'CmdOrCtrl+Q', click: actions.quit },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
}

/** The tray menu; `summary` is e.g. "2/2 workers ready". */
export function trayMenuTemplate(
  actions: MenuActions,
  summary: string,
): MenuItemConstructorOptions[] {
  return [
    { label: summary, enabled: false },
    { type: 'separator' },
    { label: 'Show console', click: actions.showWindow },
    { label: 'Open data folder', click: actions.openDataDir },
    { type: 'separator' },
    { label: 'Quit and stop all workers', click: actions.quit },
  ];
}

/** "2/3 workers ready" from the latest states by worker id. */
export function workerSummary(states: ReadonlyMap<string, string>): string {
  if (states.size === 0) return 'No workers running';
  const ready = [...states.values()].filter((s) => s === 'ready').length;
  return `${ready}/${states.size} workers ready`;
}
