// The preload script (sandboxed, context-isolated): exposes window.bridge = { invoke, on } to the renderer.
// invoke accepts only the contract's channels and on only its events; listeners get the payload, never the
// Electron event, and `on` returns its remover (style-guide §3.4). Functions only, no getters.
// Layer: electron preload.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

import { EVENT_CHANNEL_PREFIX, isApiChannel, isApiEvent } from '../shared/api/contract';

/** What the renderer sees as window.bridge. */
export const bridge = {
  invoke(channel: string, args: unknown[]): Promise<unknown> {
    if (typeof channel !== 'string' || !isApiChannel(channel)) {
      return Promise.reject(new Error(`unknown console API channel '${String(channel)}'`));
    }
    if (!Array.isArray(args)) {
      return Promise.reject(new Error('bridge.invoke takes the arguments as an array'));
    }
    return ipcRenderer.invoke(channel, ...args) as Promise<unknown>;
  },
  on(event: string, listener: (payload: unknown) => void): () => void {
    if (typeof event !== 'string' || !isApiEvent(event)) {
      throw new Error(`unknown console API event '${String(event)}'`);
    }
    if (typeof listener !== 'function') throw new Error('bridge.on needs a listener function');
    const channel = EVENT_CHANNEL_PREFIX + event;
    const handler = (_e: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('bridge', bridge);
