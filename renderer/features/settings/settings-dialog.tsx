// The settings dialog: where trtllm-serve lives, the default engine, the simulated GPU inventory (used where
// nvidia-smi is absent), how long a worker may take to become ready, cluster mode and etcd, the proxy port.
// Escape or Cancel closes it. Layer: renderer.

import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';

import type { ConsoleSettings, ConsoleSettingsPatch } from '../../../shared/model/settings';
import type { ClusterMode } from '../../../shared/model/topology';
import { Button } from '../../components/button';
import { NumberField } from '../../components/number-field';
import { PanelHead } from '../../components/panel-head';
import { type SelectChoice, SelectField } from '../../components/select-field';
import { TextField } from '../../components/text-field';
import { ENGINE_CHOICES } from '../../lib/worker-templates';
import { useAppFields } from '../../store/app-store-context';

const CLUSTER_MODE_CHOICES: SelectChoice<ClusterMode>[] = [
  { value: 'static', label: 'static (urls in disagg_config.yaml)' },
  { value: 'metadata', label: 'etcd metadata mode' },
  { value: 'disagg_cluster' },
];

function SettingsForm({
  settings,
  onClose,
}: {
  settings: ConsoleSettings;
  onClose: () => void;
}): ReactNode {
  const {
    saveSettings: save,
    settingsError: error,
    settingsConfirmation: confirmation,
  } = useAppFields('saveSettings', 'settingsError', 'settingsConfirmation');
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
      <TextField
        label="trtllm-serve binary (blank = found on PATH)"
        value={draft.trtllmServePath}
        placeholder="trtllm-serve"
        onChange={(v) => set({ trtllmServePath: v })}
      />
      <div className="field-row">
        <SelectField
          label="Default engine"
          value={draft.defaultEngine}
          choices={ENGINE_CHOICES}
          onChange={(v) => set({ defaultEngine: v })}
        />
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
        <TextField
          label="Simulated GPU model"
          value={draft.simulatedGpuModel}
          onChange={(v) => set({ simulatedGpuModel: v })}
        />
      </div>
      <div className="field-row">
        <SelectField
          label="Cluster mode"
          value={draft.clusterMode}
          choices={CLUSTER_MODE_CHOICES}
          onChange={(v) => set({ clusterMode: v })}
        />
        <TextField
          label="etcd endpoint (blank = embedded)"
          value={draft.etcdEndpoint}
          placeholder="http://127.0.0.1:2379"
          onChange={(v) => set({ etcdEndpoint: v })}
        />
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
          <Button
            variant="primary"
            disabled={isSaving}
            onClick={() => send({ ...lastPatch, confirmExecutable: true })}
          >
            Trust this program and save
          </Button>
        </div>
      ) : null}
      <div className="btn-group">
        <Button isSubmit variant="primary" disabled={isSaving}>
          {isSaving ? 'Saving…' : 'Save'}
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </div>
    </form>
  );
}

export function SettingsDialog(): ReactNode {
  const {
    isSettingsOpen: isOpen,
    openSettings: open,
    settings,
    settingsError: error,
  } = useAppFields('isSettingsOpen', 'openSettings', 'settings', 'settingsError');
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
        <PanelHead
          title="Settings"
          actions={
            <Button isSmall aria-label="Close settings" onClick={() => open(false)}>
              ×
            </Button>
          }
        />
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
