// UI state: current view, theme choice, toasts, which panel is open, connection state. Layer: renderer.

import type { SliceCreator, UiSlice } from './store-types';

const MAX_TOASTS = 4;

export const createUiSlice: SliceCreator<UiSlice> = (set, get) => {
  let nextToastId = 1;
  return {
    view: 'cluster',
    theme: 'system',
    toasts: [],
    logsWorkerId: null,
    isConsoleLogOpen: false,
    addPanelGpus: null,
    connection: 'connecting',
    connectionError: null,
    setView: (view) => set({ view }),
    setTheme: (theme) => set({ theme }),
    notify: (kind, text) => {
      const toast = { id: nextToastId++, kind, text };
      set({ toasts: [...get().toasts, toast].slice(-MAX_TOASTS) });
    },
    dismissToast: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
    openLogs: (logsWorkerId) => set({ logsWorkerId }),
    openConsoleLog: (isConsoleLogOpen) => set({ isConsoleLogOpen }),
    openAddPanel: (addPanelGpus) => set({ addPanelGpus }),
  };
};
