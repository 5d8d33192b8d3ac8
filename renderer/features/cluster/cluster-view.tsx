// The Cluster view (features C1-C6): GPU cards and the interconnect matrix, presets, the Add worker panel
// opened from a GPU click, the worker list with actions, the logs panel and remote workers. Layer: renderer.

import { type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import type { WorkerEngine } from '../../../shared/model/worker';
import { Button } from '../../components/button';
import { EmptyState } from '../../components/empty-state';
import { ErrorBox } from '../../components/error-box';
import { Panel } from '../../components/panel';
import { ViewFrame } from '../../components/view-frame';
import { ENGINE_CHOICES, type PresetName, PRESETS } from '../../lib/worker-templates';
import { useAppFields, useAppStore, useAppStoreApi } from '../../store/app-store-context';
import { gpuHolders, selectDefaultModel, selectFreeGpus } from '../../store/selectors';
import { AddWorkerPanel } from './add-worker-panel';
import { ConsoleLogPanel } from './console-log-panel';
import { GpuCard } from './gpu-card';
import { LogsPanel } from './logs-panel';
import { RemoteWorkers } from './remote-workers';
import { TopologyMatrix } from './topology-matrix';
import { WorkerList } from './worker-list';

function GpuGrid(): ReactNode {
  const {
    inventory,
    cluster,
    selectedGpus: selected,
    selectGpu,
    openAddPanel,
    openLogs,
  } = useAppFields('inventory', 'cluster', 'selectedGpus', 'selectGpu', 'openAddPanel', 'openLogs');
  const storeApi = useAppStoreApi();
  if (!inventory) return null;
  const onSelect = (index: number, isAdditive: boolean): void => {
    selectGpu(index, isAdditive);
    openLogs(null);
    // An additive click opens the panel for the store's new selection; a plain click always for this GPU.
    const next = isAdditive ? storeApi.getState().selectedGpus : [index];
    openAddPanel(next.length > 0 ? next : null);
  };
  return (
    <div className="gpu-grid" role="group" aria-label="GPUs">
      {inventory.gpus.map((g) => (
        <GpuCard
          key={g.index}
          gpu={g}
          sample={inventory.samples.find((s) => s.index === g.index)}
          holders={gpuHolders(cluster, g.index)}
          isSelected={selected.includes(g.index)}
          onSelect={onSelect}
        />
      ))}
    </div>
  );
}

function Presets(): ReactNode {
  const freeGpus = useAppStore(useShallow(selectFreeGpus));
  const defaultModel = useAppStore(selectDefaultModel);
  const isSimulated = useAppStore((s) => Boolean(s.inventory?.simulated));
  const runPreset = useAppStore((s) => s.runPreset);
  const [model, setModel] = useState('');
  const [engine, setEngine] = useState<WorkerEngine | ''>('');
  const [isRunning, setRunning] = useState(false);
  const effectiveEngine: WorkerEngine = engine || (isSimulated ? 'simulated' : 'trtllm-serve');
  const run = (p: PresetName): void => {
    setRunning(true);
    void runPreset(p, model.trim() || defaultModel, effectiveEngine).finally(() =>
      setRunning(false),
    );
  };
  return (
    <div className="btn-group" style={{ alignItems: 'center' }}>
      <span className="dim">Presets on free GPUs:</span>
      {(Object.keys(PRESETS) as PresetName[]).map((p) => {
        const need = PRESETS[p].context + PRESETS[p].generation;
        return (
          <Button
            key={p}
            isSmall
            disabled={isRunning || freeGpus.length < need}
            title={`${PRESETS[p].context} context + ${PRESETS[p].generation} generation, one GPU each${freeGpus.length < need ? ` (needs ${need} free GPUs)` : ''}`}
            onClick={() => run(p)}
          >
            {p}
          </Button>
        );
      })}
      <input
        className="input"
        aria-label="Preset model"
        placeholder={defaultModel}
        value={model}
        onChange={(e) => setModel(e.target.value)}
        style={{ width: 240 }}
      />
      <select
        className="input"
        aria-label="Preset engine"
        value={engine}
        onChange={(e) => setEngine(e.target.value as WorkerEngine | '')}
      >
        <option value="">{isSimulated ? 'simulated (default)' : 'trtllm-serve (default)'}</option>
        {ENGINE_CHOICES.map((c) => (
          <option key={c.value} value={c.value}>
            {c.value}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ClusterView(): ReactNode {
  const {
    inventory,
    gpusError,
    loadGpus,
    addPanelGpus,
    openAddPanel,
    clearGpuSelection,
    logsWorkerId,
    openLogs,
    isConsoleLogOpen,
    openConsoleLog,
  } = useAppFields(
    'inventory',
    'gpusError',
    'loadGpus',
    'addPanelGpus',
    'openAddPanel',
    'clearGpuSelection',
    'logsWorkerId',
    'openLogs',
    'isConsoleLogOpen',
    'openConsoleLog',
  );
  const [showTopology, setShowTopology] = useState(false);

  return (
    <ViewFrame
      title="Cluster"
      head={
        <>
          {inventory ? (
            <span className="dim">
              {inventory.gpus.length} GPU{inventory.gpus.length === 1 ? '' : 's'}
              {inventory.driverVersion ? ` · driver ${inventory.driverVersion}` : ''}
              {inventory.cudaVersion ? ` · CUDA ${inventory.cudaVersion}` : ''}
            </span>
          ) : null}
          {inventory?.simulated ? (
            <span className="badge sim-badge nodot" title={inventory.simulatedReason ?? undefined}>
              simulated inventory{inventory.simulatedReason ? `: ${inventory.simulatedReason}` : ''}
            </span>
          ) : null}
          <span className="spacer" />
          <Button
            isSmall
            aria-pressed={isConsoleLogOpen}
            onClick={() => openConsoleLog(!isConsoleLogOpen)}
          >
            Console log
          </Button>
          <Presets />
        </>
      }
    >
      <div className="cluster-grid">
        <div style={{ display: 'flex', flexDirection: 'column', gap: 16, minWidth: 0 }}>
          <Panel
            title="GPUs"
            titleId="gpus-title"
            noteClass="hint"
            note="Click a free GPU to add a worker; shift- or ctrl-click to select several (tensor parallel)."
            actions={
              <Button
                isSmall
                aria-expanded={showTopology}
                onClick={() => setShowTopology(!showTopology)}
              >
                {showTopology ? 'Hide' : 'Show'} interconnect
              </Button>
            }
          >
            <ErrorBox
              title="The GPU inventory could not be read"
              message={gpusError}
              onRetry={loadGpus}
            />
            {!inventory && !gpusError ? <EmptyState title="Reading the GPU inventory…" /> : null}
            {inventory && inventory.gpus.length === 0 ? (
              <EmptyState title="No GPUs found">
                Install the NVIDIA driver (nvidia-smi), or set a simulated GPU count in Settings
                (top right) to try the console without GPUs.
              </EmptyState>
            ) : null}
            {inventory?.lastError ? (
              <div className="warn-box">nvidia-smi: {inventory.lastError}</div>
            ) : null}
            <GpuGrid />
            {showTopology ? (
              <div style={{ marginTop: 12 }}>
                <TopologyMatrix topology={inventory?.topology ?? null} />
              </div>
            ) : null}
          </Panel>
          <WorkerList />
          <RemoteWorkers />
        </div>
        <aside className="side-panel" aria-label="Details">
          {addPanelGpus ? (
            <AddWorkerPanel
              key={addPanelGpus.join(',')}
              gpus={addPanelGpus}
              onClose={() => {
                openAddPanel(null);
                clearGpuSelection();
              }}
            />
          ) : null}
          {logsWorkerId ? (
            <LogsPanel key={logsWorkerId} workerId={logsWorkerId} onClose={() => openLogs(null)} />
          ) : null}
          {isConsoleLogOpen ? <ConsoleLogPanel onClose={() => openConsoleLog(false)} /> : null}
          {!addPanelGpus && !logsWorkerId && !isConsoleLogOpen ? (
            <section className="panel">
              <EmptyState title="Nothing selected">
                Pick a free GPU to add a worker, or open a worker's logs from the list.
              </EmptyState>
            </section>
          ) : null}
        </aside>
      </div>
    </ViewFrame>
  );
}
