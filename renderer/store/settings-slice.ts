// Console settings (settings:get / settings:set): trtllm-serve path, default engine, simulated GPU inventory,
// ready timeout, cluster mode, etcd endpoint, proxy port. Layer: renderer.

import { describeError } from '../lib/error-text';
import type { SettingsSlice, SliceCreator } from './store-types';

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get, { api }) => ({
  settings: null,
  settingsError: null,
  isSettingsOpen: false,
  openSettings: (isSettingsOpen) => {
    set({ isSettingsOpen, settingsError: null });
    if (isSettingsOpen) void get().loadSettings();
  },
  loadSettings: async () => {
    try {
      set({ settings: await api.invoke('settings:get'), settingsError: null });
    } catch (err) {
      set({ settingsError: describeError(err) });
    }
  },
  saveSettings: async (patch) => {
    try {
      const settings = await api.invoke('settings:set', patch);
      set({ settings, settingsError: null });
      get().notify('success', 'Settings saved');
      await get().loadGpus();
      return true;
    } catch (err) {
      set({ settingsError: describeError(err) });
      return false;
    }
  },
});
