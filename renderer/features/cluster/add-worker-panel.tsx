// The Add worker panel (feature C2): opened by clicking free GPUs; role, model, engine, port (blank = a free
// one), name, options from the role's template; pre-flight (topology:validate) before start; then the new
// worker's progress until it is ready. Layer: renderer.

import { type FormEvent, type ReactNode, useState } from 'react';

import type { ValidationReport } from '../../../shared/model/topology';
import type { WorkerEngine, WorkerRole } from '../../../shared/model/worker';
import type { WorkerAddRequest } from '../../../shared/model/worker-view';
import { IssueList } from '../../components/issue-list';
import { StateBadge } from '../../components/state-badge';
import { formatDuration } from '../../lib/format';
import { useNow } from '../../lib/use-now';
import { nextWorkerName, workerOptionsTemplate } from '../../lib/worker-templates';
import { useAppStore, useAppStoreApi } from '../../store/app-store-context';
import { selectDefaultModel } from '../../store/selectors';

export function AddWorkerPanel({
  gpus,
  onClose,
}: {
  gpus: number[];
  onClose: () => void;
}): ReactNode {
  const storeApi = useAppStoreApi();
  const preflightWorker = useAppStore((s) => s.preflightWorker);
  const addWorker = useAppStore((s) => s.addWorker);
  const defaultEngine: WorkerEngine = useAppStore((s) =>
    s.inventory?.simulated ? 'simulated' : 'trtllm-serve',
  );
  const [role, setRole] = useState<WorkerRole>(() =>
    Object.values(storeApi.getState().workers).some((w) => w.role === 'context')
      ? 'generation'
      : 'context',
  );
  const [model, setModel] = useState(() => selectDefaultModel(storeApi.getState()));
  const [engine, setEngine] = useState<WorkerEngine>(defaultEngine);
  const [port, setPort] = useState('');
  const [name, setName] = useState('');
  const [options, setOptions] = useState(() => workerOptionsTemplate(role));
  const [isOptionsEdited, setOptionsEdited] = useState(false);
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [isBusy, setBusy] = useState(false);
  const [startedId, setStartedId] = useState<string | null>(null);
  const started = useAppStore((s) => (startedId ? s.workers[startedId] : undefined));
  const nowMs = useNow(1000);

  const defaultName = nextWorkerName(role, Object.keys(storeApi.getState().workers));
  const portError =
    port.trim() !== '' && !(/^\d+$/.test(port.trim()) && Number(port) >= 1 && Number(port) <= 65535)
      ? 'a port is a number from 1 to 65535'
      : null;

  const request = (): WorkerAddRequest => ({
    role,
    gpus,
    model: model.trim(),
    engine,
    id: name.trim() || defaultName,
    optionsYaml: options,
    tpSize: gpus.length,
    ...(port.trim() !== '' ? { port: Number(port) } : {}),
  });

  const changeRole = (next: WorkerRole): void => {
    setRole(next);
    setReport(null);
    if (!isOptionsEdited) setOptions(workerOptionsTemplate(next));
  };

  const runPreflight = async (): Promise<ValidationReport | null> => {
    setBusy(true);
    try {
      const r = await preflightWorker(request());
      setReport(r);
      return r;
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (portError || model.trim() === '') return;
    const r = report ?? (await runPreflight());
    if (!r || r.issues.some((i) => i.severity === 'error')) return;
    setBusy(true);
    try {
      const view = await addWorker(request());
      if (view) {
        setStartedId(view.id);
        storeApi.getState().clearGpuSelection();
      }
    } finally {
      setBusy(false);
    }
  };

  if (started) {
    const st = started.status;
    return (
      <section className="panel" aria-label={`Worker ${started.id}`}>
        <div className="panel-head">
          <h2>{started.id}</h2>
          <StateBadge state={st.state} />
          <span className="spacer" />
          <button type="button" className="btn btn-small" onClick={onClose}>
            Close
          </button>
        </div>
        <p className="dim">
          {started.role} worker on GPU {gpus.join(', ')} at{' '}
          <span className="mono">{started.url}</span>
        </p>
        {st.state === 'starting' ? (
          <>
            <div
              className="bar"
              role="progressbar"
              aria-label="Loading"
              aria-valuenow={
                st.progress?.fraction !== null && st.progress?.fraction !== undefined
                  ? Math.round(st.progress.fraction * 100)
                  : undefined
              }
            >
              <div style={{ width: `${Math.round((st.progress?.fraction ?? 0.05) * 100)}%` }} />
            </div>
            <p className="progress-line">
              {st.progress?.message ?? 'Starting the process and waiting for /health…'}
              {st.startedAtMs ? ` · ${formatDuration(nowMs - st.startedAtMs)}` : ''}
            </p>
          </>
        ) : null}
        {st.state === 'ready' ? (
          <p className="ok-box">Ready: /health answers and the proxy routes to it.</p>
        ) : null}
        {st.state === 'errored' || st.state === 'backoff' ? (
          <div className="error-box">
            {st.message ?? 'The worker exited.'} Open its logs from the worker list for the last
            lines.
          </div>
        ) : null}
      </section>
    );
  }

  return (
    <form className="panel" aria-label="Add worker" onSubmit={(e) => void onSubmit(e)}>
      <div className="panel-head">
        <h2>Add worker</h2>
        <span className="dim">
          GPU {gpus.join(', ')}
          {gpus.length > 1 ? ` · TP ${gpus.length}` : ''}
        </span>
        <span className="spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={onClose}
          aria-label="Close add worker panel"
        >
          ×
        </button>
      </div>
      <div style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
        <div className="field">
          <span>Role</span>
          <div className="seg" role="group" aria-label="Role">
            {(['context', 'generation'] as const).map((r) => (
              <button key={r} type="button" aria-pressed={role === r} onClick={() => changeRole(r)}>
                {r}
              </button>
            ))}
          </div>
        </div>
        <label className="field">
          <span>Model (HF id, checkpoint or engine dir)</span>
          <input
            value={model}
            onChange={(e) => {
              setModel(e.target.value);
              setReport(null);
            }}
            required
          />
        </label>
        <div className="field-row">
          <label className="field">
            <span>Engine</span>
            <select
              value={engine}
              onChange={(e) => {
                setEngine(e.target.value as WorkerEngine);
                setReport(null);
              }}
            >
              <option value="trtllm-serve">trtllm-serve</option>
              <option value="simulated">simulated</option>
            </select>
          </label>
          <label className="field">
            <span>Port (blank = free port)</span>
            <input
              value={port}
              inputMode="numeric"
              placeholder="auto"
              onChange={(e) => {
                setPort(e.target.value);
                setReport(null);
              }}
              aria-invalid={portError !== null}
            />
          </label>
          <label className="field">
            <span>Name</span>
            <input
              value={name}
              placeholder={defaultName}
              onChange={(e) => {
                setName(e.target.value);
                setReport(null);
              }}
            />
          </label>
        </div>
        {portError ? <span className="issue-error">{portError}</span> : null}
        <label className="field">
          <span>Options (--extra_llm_api_options YAML, from the {role} template)</span>
          <textarea
            rows={10}
            value={options}
            spellCheck={false}
            onChange={(e) => {
              setOptions(e.target.value);
              setOptionsEdited(true);
              setReport(null);
            }}
          />
        </label>
        {report ? (
          report.issues.length === 0 ? (
            <p className="ok-box">Pre-flight passed: no problems across the topology files.</p>
          ) : (
            <div
              className={
                report.issues.some((i) => i.severity === 'error') ? 'error-box' : 'warn-box'
              }
            >
              <strong>Pre-flight</strong>
              <IssueList issues={report.issues} />
            </div>
          )
        ) : null}
        <div className="btn-group">
          <button
            type="button"
            className="btn"
            disabled={isBusy}
            onClick={() => void runPreflight()}
          >
            Run pre-flight
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={isBusy || portError !== null || model.trim() === ''}
          >
            Start worker
          </button>
        </div>
      </div>
    </form>
  );
}
