// The settings dialog: where trtllm-serve lives, the default engine, the simulated GPU inventory (used where
// nvidia-smi is absent), how long a worker may take to become ready, cluster mode and etcd, the proxy port.
// Escape or Cancel closes it. Layer: renderer.

import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';

import type { ConsoleSettings, ConsoleSettingsPatch } from '../../../shared/model/settings';
import type { ClusterMode } from '../../../shared/model/topology';
import type { WorkerEngine } from '../../../shared/model/worker';
import { NumberField } from '../../components/number-field';
import { useAppStore } from '../../store/app-store-context';

function SettingsForm({
  settings,
  onClose,
}: {
  settings: ConsoleSettings;
  onClose: () => void;
}): ReactNode {
  const save = useAppStore((s) => s.saveSettings);
  const error = useAppStore((s) => s.settingsError);
  const confirmation = useAppStore((s) => s.settingsConfirmation);
  // The patch that asked for a confirmation, sent again with the user's consent.
  const [lastPatch, setLastPatch] = useState<ConsoleSettingsPatch | null>(null);
  const [draft, setDraft] = useState({
    trtllmServePath: settings.trtllmServePath ?? '',
    defaultEngine: settings.defaultEngine,
    simulatedGpuCount: String(settings.simulatedGpuCount),
    simulatedGpuModel: settings.simulatedGpuModel,
    readyTimeoutSec: String(Math.round(settings.readyTimeoutMs / 1000)),
    clusterMode: settings.clusterMode,
    etcdEndpoint: settings.etcdEndpoint ?? '',
    proxyPort: String(settings.proxyPort),
  });
  const [isSaving, setSaving] = useState(false);
  const set = (patch: Partial<typeof draft>): void => setDraft({ ...draft, ...patch });

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const patch: ConsoleSettingsPatch = {
      trtllmServePath: draft.trtllmServePath.trim() === '' ? null : draft.trtllmServePath.trim(),
      defaultEngine: draft.defaultEngine,
      simulatedGpuCount: Math.round(Number(draft.simulatedGpuCount)),
      simulatedGpuModel: draft.simulatedGpuModel.trim(),
      readyTimeoutMs: Math.round(Number(draft.readyTimeoutSec) * 1000),
      clusterMode: draft.clusterMode,
      etcdEndpoint: draft.etcdEndpoint.trim() === '' ? null : draft.etcdEndpoint.trim(),
      proxyPort: Math.round(Number(draft.proxyPort)),
    };
    await send(patch);
  };

  const send = async (patch: ConsoleSettingsPatch): Promise<void> => {
    setLastPatch(patch);
    setSaving(true);
    const ok = await save(patch);
    setSaving(false);
    if (ok) onClose();
  };

  return (
    <form
      onSubmit={(e) => void onSubmit(e)}
      style={{ display: 'flex', flexDirection: 'column', gap: 10 }}
    >
      <label className="field">
        <span>trtllm-serve binary (blank = found on PATH)</span>
        <input
          value={draft.trtllmServePath}
          placeholder="trtllm-serve"
          onChange={(e) => set({ trtllmServePath: e.target.value })}
        />
      </label>
      <div className="field-row">
        <label className="field">
          <span>Default engine</span>
          <select
            value={draft.defaultEngine}
            onChange={(e) => set({ defaultEngine: e.target.value as WorkerEngine })}
          >
            <option value="trtllm-serve">trtllm-serve</option>
            <option value="simulated">simulated</option>
          </select>
        </label>
        <NumberField
          label="Ready timeout (s)"
          value={draft.readyTimeoutSec}
          onChange={(v) => set({ readyTimeoutSec: v })}
        />
        <NumberField
          label="Proxy port"
          max={65535}
          value={draft.proxyPort}
          onChange={(v) => set({ proxyPort: v })}
        />
      </div>
      <div className="field-row">
        <NumberField
          label="Simulated GPUs (without nvidia-smi)"
          max={64}
          value={draft.simulatedGpuCount}
          onChange={(v) => set({ simulatedGpuCount: v })}
        />
        <label className="field">
          <span>Simulated GPU model</span>
          <input
            value={draft.simulatedGpuModel}
            onChange={(e) => set({ simulatedGpuModel: e.target.value })}
          />
        </label>
      </div>
      <div className="field-row">
        <label className="field">
          <span>Cluster mode</span>
          <select
            value={draft.clusterMode}
            onChange={(e) => set({ clusterMode: e.target.value as ClusterMode })}
          >
            <option value="static">static (urls in disagg_config.yaml)</option>
            <option value="metadata">etcd metadata mode</option>
            <option value="disagg_cluster">disagg_cluster</option>
          </select>
        </label>
        <label className="field">
          <span>etcd endpoint (blank = embedded)</span>
          <input
            value={draft.etcdEndpoint}
            placeholder="http://127.0.0.1:2379"
            onChange={(e) => set({ etcdEndpoint: e.target.value })}
          />
        </label>
      </div>
      {error ? (
        <div className="error-box" role="alert">
          {error}
        </div>
      ) : null}
      {confirmation && lastPatch ? (
        <div className="error-box" role="alertdialog" aria-label="Confirm executable">
          <p>
            Workers would run <code>{confirmation.realPath}</code>
            {confirmation.realPath !== confirmation.path ? (
              <>
                {' '}
                (via <code>{confirmation.path}</code>)
              </>
            ) : null}{' '}
            as trtllm-serve, with your permissions.
          </p>
          <p className="dim">
            sha256 <code>{confirmation.sha256}</code>, {confirmation.sizeBytes} bytes
          </p>
          <button
            type="button"
            className="btn btn-primary"
            disabled={isSaving}
            onClick={() => void send({ ...lastPatch, confirmExecutable: true })}
          >
            Trust this program and save
          </button>
        </div>
      ) : null}
      <div className="btn-group">
        <button type="submit" className="btn btn-primary" disabled={isSaving}>
          {isSaving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function SettingsDialog(): ReactNode {
  const isOpen = useAppStore((s) => s.isSettingsOpen);
  const open = useAppStore((s) => s.openSettings);
  const settings = useAppStore((s) => s.settings);
  const error = useAppStore((s) => s.settingsError);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!isOpen) return;
    ref.current?.querySelector<HTMLElement>('input, select, button')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') open(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [isOpen, open, settings]);

  if (!isOpen) return null;
  return (
    <div className="modal-backdrop" onClick={() => open(false)} role="presentation">
      <div
        className="panel modal"
        role="dialog"
        aria-modal="true"
        aria-label="Settings"
        ref={ref}
        onClick={(e) => e.stopPropagation()}
      >
        <div className="panel-head">
          <h2>Settings</h2>
          <span className="spacer" />
          <button
            type="button"
            className="btn btn-small"
            aria-label="Close settings"
            onClick={() => open(false)}
          >
            ×
          </button>
        </div>
        {settings ? (
          <SettingsForm settings={settings} onClose={() => open(false)} />
        ) : error ? (
          <div className="error-box">{error}</div>
        ) : (
          <p className="dim">Loading…</p>
        )}
      </div>
    </div>
  );
}
