// Console settings (settings:get / settings:set): trtllm-serve path, default engine, simulated GPU inventory,
// ready timeout, cluster mode, etcd endpoint, proxy port. A new trtllm-serve executable comes back as
// CONFIRMATION_REQUIRED; the slice keeps what to show the user until they confirm or cancel. Layer: renderer.

import { isAppError } from '../../shared/api/envelope';
import type { ExecutableConfirmationDetails } from '../../shared/model/settings';
import { describeError } from '../lib/error-text';
import type { SettingsSlice, SliceCreator } from './store-types';

/** The executable a CONFIRMATION_REQUIRED answer names, or null when the answer is something else. */
function confirmationOf(err: unknown): ExecutableConfirmationDetails | null {
  if (!isAppError(err) || err.code !== 'CONFIRMATION_REQUIRED') return null;
  const d = err.details as Partial<ExecutableConfirmationDetails> | undefined;
  if (
    d?.kind !== 'executable' ||
    typeof d.path !== 'string' ||
    typeof d.realPath !== 'string' ||
    typeof d.sha256 !== 'string' ||
    typeof d.sizeBytes !== 'number'
  ) {
    return null;
  }
  return {
    kind: 'executable',
    path: d.path,
    realPath: d.realPath,
    sha256: d.sha256,
    sizeBytes: d.sizeBytes,
  };
}

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get, { api }) => ({
  settings: null,
  settingsError: null,
  settingsConfirmation: null,
  isSettingsOpen: false,
  openSettings: (isSettingsOpen) => {
    set({ isSettingsOpen, settingsError: null, settingsConfirmation: null });
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
      set({ settings, settingsError: null, settingsConfirmation: null });
      get().notify('success', 'Settings saved');
      await get().loadGpus();
      return true;
    } catch (err) {
      const confirmation = confirmationOf(err);
      set({
        settingsError: confirmation ? null : describeError(err),
        settingsConfirmation: confirmation,
      });
      return false;
    }
  },
});
