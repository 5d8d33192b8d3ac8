// The Add worker panel (feature C2): opened by clicking free GPUs; role, model, engine, port (blank = a free
// one), name, tensor/pipeline split (TP = GPUs / PP), options from the role's template; pre-flight
// (topology:validate) before start; then the new worker's progress until it is ready. The placement is
// re-checked against the cluster mirror as it changes: a GPU, name or port taken meanwhile is shown and the
// submit refused; the command carries the version the pre-flight saw, so the backend refuses a stale one
// too (STALE_STATE). Layer: renderer.

import { type FormEvent, type ReactNode, useMemo, useState } from 'react';

import { commandConflicts, namesInUse } from '../../../shared/logic/cluster-preconditions';
import type { ValidationReport } from '../../../shared/model/topology';
import type { WorkerEngine, WorkerRole } from '../../../shared/model/worker';
import type { WorkerAddRequest } from '../../../shared/model/worker-view';
import { Button } from '../../components/button';
import { Field } from '../../components/field';
import { IssueList } from '../../components/issue-list';
import { PanelHead } from '../../components/panel-head';
import { Segmented } from '../../components/segmented';
import { SelectField } from '../../components/select-field';
import { StateBadge } from '../../components/state-badge';
import { TextField } from '../../components/text-field';
import { formatDuration } from '../../lib/format';
import { useNow } from '../../lib/use-now';
import {
  ENGINE_CHOICES,
  nextWorkerName,
  pipelineChoices,
  withParallelism,
  workerOptionsTemplate,
} from '../../lib/worker-templates';
import { useAppFields, useAppStore, useAppStoreApi } from '../../store/app-store-context';
import { selectDefaultModel, selectWorker, selectWorkers } from '../../store/selectors';

const ROLES: { value: WorkerRole; label: string }[] = [
  { value: 'context', label: 'context' },
  { value: 'generation', label: 'generation' },
];

/** A report with the mirror version it was made at (the version the add command is built on). */
interface CheckedReport {
  report: ValidationReport;
  version: number;
}

export function AddWorkerPanel({
  gpus,
  onClose,
}: {
  gpus: number[];
  onClose: () => void;
}): ReactNode {
  const storeApi = useAppStoreApi();
  const { preflightWorker, addWorker, cluster } = useAppFields(
    'preflightWorker',
    'addWorker',
    'cluster',
  );
  const defaultEngine: WorkerEngine = useAppStore((s) =>
    s.inventory?.simulated ? 'simulated' : 'trtllm-serve',
  );
  const [role, setRole] = useState<WorkerRole>(() =>
    selectWorkers(storeApi.getState()).some((w) => w.role === 'context') ? 'generation' : 'context',
  );
  const [model, setModel] = useState(() => selectDefaultModel(storeApi.getState()));
  const [engine, setEngine] = useState<WorkerEngine>(defaultEngine);
  const [port, setPort] = useState('');
  const [name, setName] = useState('');
  const [ppSize, setPpSize] = useState(1);
  const tpSize = gpus.length / ppSize;
  const [options, setOptions] = useState(() =>
    withParallelism(workerOptionsTemplate(role), gpus.length, 1),
  );
  const [isOptionsEdited, setOptionsEdited] = useState(false);
  const [checked, setChecked] = useState<CheckedReport | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const [startedId, setStartedId] = useState<string | null>(null);
  const started = useAppStore((s) => (startedId ? selectWorker(s, startedId) : undefined));
  const nowMs = useNow(1000);

  const defaultName = useMemo(
    () => nextWorkerName(role, cluster ? namesInUse(cluster) : []),
    [role, cluster],
  );
  const portError =
    port.trim() !== '' && !(/^\d+$/.test(port.trim()) && Number(port) >= 1 && Number(port) <= 65535)
      ? 'a port is a number from 1 to 65535'
      : null;
  const id = name.trim() || defaultName;
  const chosenPort = port.trim() !== '' && portError === null ? Number(port) : undefined;
  // The backend's own preconditions, run on the mirror as it changes (a GPU taken by another action).
  const conflicts = useMemo(() => {
    if (!cluster) return [];
    const placement = { role, gpus, model: 'm', engine, id, port: chosenPort };
    return commandConflicts({ kind: 'addWorker', request: placement }, cluster, true).map(
      (c) => c.message,
    );
  }, [cluster, role, gpus, engine, id, chosenPort]);

  const request = (): WorkerAddRequest => ({
    role,
    gpus,
    model: model.trim(),
    engine,
    id,
    optionsYaml: options,
    tpSize,
    ppSize,
    ...(chosenPort !== undefined ? { port: chosenPort } : {}),
  });

  /** Any change to the form makes the last pre-flight and refusal out of date. */
  const changed = (): void => {
    setChecked(null);
    setSubmitError(null);
  };

  /** A field's change handler that also drops the out-of-date pre-flight. */
  const edited =
    <T,>(setField: (value: T) => void) =>
    (value: T): void => {
      setField(value);
      changed();
    };

  const changeRole = (next: WorkerRole): void => {
    setRole(next);
    changed();
    if (!isOptionsEdited) setOptions(withParallelism(workerOptionsTemplate(next), tpSize, ppSize));
  };

  const changePp = (next: number): void => {
    setPpSize(next);
    changed();
    setOptions(withParallelism(options, gpus.length / next, next));
  };

  const runPreflight = async (): Promise<CheckedReport | null> => {
    const version = storeApi.getState().cluster?.version ?? null;
    if (version === null) return null;
    setBusy(true);
    try {
      const report = await preflightWorker(request());
      const next = report ? { report, version } : null;
      setChecked(next);
      return next;
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (portError || model.trim() === '' || conflicts.length > 0) return;
    setSubmitError(null);
    const c = checked ?? (await runPreflight());
    if (!c || c.report.issues.some((i) => i.severity === 'error')) return;
    setBusy(true);
    try {
      const outcome = await addWorker(request(), c.version);
      if (outcome.ok) {
        setStartedId(outcome.result.worker?.id ?? id);
        storeApi.getState().clearGpuSelection();
      } else {
        setChecked(null);
        setSubmitError(outcome.message);
      }
    } finally {
      setBusy(false);
    }
  };

  const report = checked?.report ?? null;

  if (started) {
    const st = started.status;
    return (
      <section className="panel" aria-label={`Worker ${started.id}`}>
        <PanelHead
          title={started.id}
          actions={
            <Button isSmall onClick={onClose}>
              Close
            </Button>
          }
        >
          <StateBadge state={st.state} />
        </PanelHead>
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
      <PanelHead
        title="Add worker"
        note={`GPU ${gpus.join(', ')}${gpus.length > 1 ? ` · TP ${gpus.length}` : ''}`}
        actions={
          <Button isSmall onClick={onClose} aria-label="Close add worker panel">
            ×
          </Button>
        }
      />
      <div style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
        <div className="field">
          <span>Role</span>
          <Segmented label="Role" choices={ROLES} value={role} onPick={changeRole} />
        </div>
        <TextField
          label="Model (HF id, checkpoint or engine dir)"
          value={model}
          isRequired
          onChange={edited(setModel)}
        />
        <div className="field-row">
          <SelectField
            label="Engine"
            value={engine}
            choices={ENGINE_CHOICES}
            onChange={edited(setEngine)}
          />
          <TextField
            label="Port (blank = free port)"
            value={port}
            inputMode="numeric"
            placeholder="auto"
            isInvalid={portError !== null}
            onChange={edited(setPort)}
          />
          <TextField
            label="Name"
            value={name}
            placeholder={defaultName}
            onChange={edited(setName)}
          />
        </div>
        {portError ? <span className="issue-error">{portError}</span> : null}
        <div className="field-row">
          <SelectField
            label="Pipeline parallel"
            ariaLabel="Pipeline parallel size"
            value={String(ppSize)}
            choices={pipelineChoices(gpus.length).map((pp) => ({ value: String(pp) }))}
            onChange={(v) => changePp(Number(v))}
          />
          <Field label="Tensor parallel (GPUs / PP)">
            <input value={tpSize} readOnly aria-label="Tensor parallel size" />
          </Field>
        </div>
        <TextField
          label={`Options (--extra_llm_api_options YAML, from the ${role} template)`}
          rows={10}
          spellCheck={false}
          value={options}
          onChange={(v) => {
            setOptions(v);
            setOptionsEdited(true);
            changed();
          }}
        />
        {conflicts.length > 0 ? (
          <div className="error-box" role="alert" aria-label="Placement conflicts">
            <strong>Cannot start here:</strong> {conflicts.join('; ')}. Pick another GPU, name or
            port.
          </div>
        ) : null}
        {submitError ? (
          <div className="error-box" role="alert" aria-label="Add refused">
            {submitError}
          </div>
        ) : null}
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
          <Button disabled={isBusy} onClick={runPreflight}>
            Run pre-flight
          </Button>
          <Button
            isSubmit
            variant="primary"
            disabled={isBusy || portError !== null || model.trim() === '' || conflicts.length > 0}
          >
            Start worker
          </Button>
        </div>
      </div>
    </form>
  );
}
