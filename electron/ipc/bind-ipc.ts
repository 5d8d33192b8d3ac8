// bindIpc: the console API over Electron IPC. One ipcMain.handle per contract channel, each answered by the
// same dispatcher as HTTP (electron/core/dispatch.ts) after the sender check; backend events forwarded to the
// window as `event:<name>` (style-guide §3.3). Returns a disposer that removes every handler and listener.
// Layer: electron shell (the only place besides preload that touches ipcMain).

import {
  type IpcMain,
  ipcMain as electronIpcMain,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';

import {
  API_CHANNELS,
  API_EVENTS,
  type ApiBackend,
  EVENT_CHANNEL_PREFIX,
} from '../../shared/api/contract';
import { type Envelope, errorEnvelope } from '../../shared/api/envelope';
import { dispatch, type DispatchLogger } from '../core/dispatch';

export interface BindIpcOptions {
  /** Default: Electron's ipcMain (tests pass a fake). */
  ipcMain?: Pick<IpcMain, 'handle' | 'removeHandler'>;
  backend: ApiBackend;
  /** The window events go to (null while there is none, e.g. closed to the tray). */
  target: () => Pick<WebContents, 'send' | 'isDestroyed'> | null;
  isTrusted: (event: IpcMainInvokeEvent) => boolean;
  log?: DispatchLogger;
}

/** Registers every channel and event; the returned function undoes it. */
export function bindIpc(options: BindIpcOptions): () => void {
  const { backend, target, isTrusted, log } = options;
  const ipcMain = options.ipcMain ?? electronIpcMain;
  for (const channel of API_CHANNELS) {
    ipcMain.handle(
      channel,
      (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<Envelope<unknown>> => {
        if (!isTrusted(event)) {
          return Promise.resolve(
            errorEnvelope('UNAUTHORIZED', `IPC from an untrusted frame refused on '${channel}'`),
          );
        }
        return dispatch(backend.api, channel, args, log);
      },
    );
  }
  const offs = API_EVENTS.map((name) =>
    backend.onEvent(name, (payload) => {
      const wc = target();
      if (wc && !wc.isDestroyed()) wc.send(EVENT_CHANNEL_PREFIX + name, payload);
    }),
  );
  return () => {
    for (const channel of API_CHANNELS) ipcMain.removeHandler(channel);
    for (const off of offs) off();
  };
}
