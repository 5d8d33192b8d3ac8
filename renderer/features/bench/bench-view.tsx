// The Benchmark view (features B1, B2): the load-test form (endpoint, model, streaming, ISL/OSL, prompts,
// concurrency or rate steps, goodput SLOs), live progress, latency-vs-throughput charts of the shown run,
// saved runs with two compared side by side and CSV export, and the what-if planner panel. Layer: renderer.

import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import type { BenchEndpointPath, BenchSweepRequest } from '../../../shared/model/bench';
import { Button } from '../../components/button';
import { type Column, DataTable } from '../../components/data-table';
import { EmptyState } from '../../components/empty-state';
import { ErrorBox } from '../../components/error-box';
import { Field } from '../../components/field';
import { NumberField } from '../../components/number-field';
import { PanelHead } from '../../components/panel-head';
import { type SelectChoice, SelectField } from '../../components/select-field';
import { TextField } from '../../components/text-field';
import { ViewFrame } from '../../components/view-frame';
import { downloadText } from '../../lib/download';
import { formatMs } from '../../lib/format';
import { slosFromText } from '../../lib/slo-text';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { selectDefaultModel } from '../../store/selectors';
import { PlannerPanel } from './planner-panel';
import { SloFields } from './slo-fields';
import { SweepCharts } from './sweep-chart';

/** Parses "1,2,4,8" into positive numbers; null when any part is not one. */
function parseSteps(text: string): number[] | null {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const values = parts.map(Number);
  if (values.length === 0 || values.some((v) => !(Number.isFinite(v) && v > 0))) return null;
  return values;
}

const ENDPOINT_CHOICES: SelectChoice<BenchEndpointPath>[] = [
  { value: '/v1/completions' },
  { value: '/v1/chat/completions' },
];

const SWEEP_CHOICES: SelectChoice<'concurrency' | 'rate'>[] = [
  { value: 'concurrency', label: 'Concurrency steps' },
  { value: 'rate', label: 'Request-rate steps (req/s, Poisson)' },
];

const RUN_COLUMNS = [
  'Step',
  'Completed',
  'Failed',
  'Req/s',
  'Goodput',
  'Out tok/s',
  'TTFT p50 / p99',
  'TPOT p50 / p99',
  'E2EL p50 / p99',
];

const SAVED_COLUMNS: Column[] = [
  { ariaLabel: 'Compare' },
  'Name',
  'Topology',
  'Steps',
  'Best out tok/s',
  'When',
  '',
];

function fmt(v: number | null, digits = 2): string {
  return v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

function BenchForm(): ReactNode {
  const defaultModel = useAppStore(selectDefaultModel);
  const {
    isBenchRunning: isRunning,
    runBenchSweep,
    cancelBench,
  } = useAppFields('isBenchRunning', 'runBenchSweep', 'cancelBench');
  const [endpoint, setEndpoint] = useState<BenchEndpointPath>('/v1/completions');
  const [model, setModel] = useState('');
  const [isStreaming, setStreaming] = useState(true);
  const [inputLen, setInputLen] = useState('128');
  const [outputLen, setOutputLen] = useState('32');
  const [numPrompts, setNumPrompts] = useState('20');
  const [sweepKind, setSweepKind] = useState<'concurrency' | 'rate'>('concurrency');
  const [steps, setSteps] = useState('1,4');
  const [ttft, setTtft] = useState('');
  const [tpot, setTpot] = useState('');
  const [dataset, setDataset] = useState<{ name: string; text: string } | null>(null);
  const values = parseSteps(steps);
  const isConcurrencyBad = sweepKind === 'concurrency' && values?.some((v) => !Number.isInteger(v));
  const stepsError =
    values === null
      ? 'Use positive numbers separated by commas, e.g. 1,2,4,8'
      : isConcurrencyBad
        ? 'Concurrency steps are whole numbers'
        : null;

  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    if (values === null || stepsError !== null) return;
    const slos = slosFromText(ttft, tpot);
    const request: BenchSweepRequest = {
      endpoint,
      isStreaming,
      inputLen: Math.max(1, Math.floor(Number(inputLen) || 1)),
      outputLen: Math.max(1, Math.floor(Number(outputLen) || 1)),
      numPrompts: Math.max(1, Math.floor(Number(numPrompts) || 1)),
      sweep: { kind: sweepKind, values },
      ...(model.trim() !== '' ? { model: model.trim() } : {}),
      ...(dataset ? { datasetText: dataset.text } : {}),
      ...(Object.keys(slos).length > 0 ? { slos } : {}),
    };
    void runBenchSweep(request);
  };

  return (
    <form className="panel" onSubmit={onSubmit} aria-label="Load test">
      <PanelHead title="Load test" note="against the current topology's proxy" />
      <div className="field-row">
        <SelectField
          label="Endpoint"
          value={endpoint}
          choices={ENDPOINT_CHOICES}
          onChange={setEndpoint}
        />
        <TextField label="Model" value={model} placeholder={defaultModel} onChange={setModel} />
        <label className="field" style={{ justifyContent: 'flex-end' }}>
          <span>
            <input
              type="checkbox"
              checked={isStreaming}
              onChange={(e) => setStreaming(e.target.checked)}
            />{' '}
            Streaming
          </span>
        </label>
      </div>
      <div className="field-row">
        <NumberField label="Input length (tokens)" value={inputLen} onChange={setInputLen} />
        <NumberField label="Output length (tokens)" value={outputLen} onChange={setOutputLen} />
        <Field label="Prompts file (optional)">
          <input
            type="file"
            title="JSONL, ShareGPT JSON or one prompt a line; replaces the random prompts"
            accept=".json,.jsonl,.txt"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) {
                setDataset(null);
                return;
              }
              void file.text().then((text) => setDataset({ name: file.name, text }));
            }}
          />
        </Field>
        <NumberField label="Prompts per step" value={numPrompts} onChange={setNumPrompts} />
      </div>
      <div className="field-row">
        <SelectField
          label="Sweep"
          value={sweepKind}
          choices={SWEEP_CHOICES}
          onChange={setSweepKind}
        />
        <TextField
          label="Steps"
          value={steps}
          isInvalid={stepsError !== null}
          ariaLabel="Sweep steps"
          onChange={setSteps}
        />
        <SloFields ttft={ttft} tpot={tpot} onTtft={setTtft} onTpot={setTpot} />
      </div>
      {stepsError ? <div className="dim">{stepsError}</div> : null}
      <div className="btn-group" style={{ marginTop: 10 }}>
        <Button isSubmit variant="primary" disabled={isRunning || stepsError !== null}>
          {isRunning ? 'Running…' : 'Run sweep'}
        </Button>
        {isRunning ? <Button onClick={cancelBench}>Cancel</Button> : null}
      </div>
    </form>
  );
}

function BenchProgress(): ReactNode {
  const p = useAppStore((s) => s.benchProgress);
  const isRunning = useAppStore((s) => s.isBenchRunning);
  if (!isRunning) return null;
  const fraction = p && p.total > 0 ? p.done / p.total : 0;
  return (
    <div className="panel" role="status" aria-label="Load test progress">
      <div className="progress-line">
        {p
          ? `Step ${p.stepIndex + 1}/${p.stepCount}${p.stepValue !== null ? ` (${p.stepValue})` : ''}: ${p.done}/${p.total} requests, ${p.failed} failed, ${(p.elapsedMs / 1000).toFixed(1)} s`
          : 'Starting: a test request, then the load…'}
      </div>
      <div className="bar" style={{ marginTop: 6 }}>
        <div style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

function CurrentRun(): ReactNode {
  const current = useAppStore((s) => s.benchCurrent);
  const error = useAppStore((s) => s.benchError);
  if (error) {
    return (
      <ErrorBox
        title="The load test failed"
        message={`${error}. Check that the topology has ready workers (Cluster view) and the model name matches.`}
      />
    );
  }
  if (!current) {
    return (
      <EmptyState title="No run shown">
        Run a sweep above, or open a saved run from the list: its latency percentiles are drawn
        against throughput, one point per step.
      </EmptyState>
    );
  }
  const { run, points } = current;
  return (
    <div className="panel" data-testid="bench-current">
      <PanelHead title={run.name} note={run.topology ?? ''}>
        {current.wasCancelled ? <span className="badge state-starting">cancelled</span> : null}
      </PanelHead>
      <SweepCharts points={points} />
      <DataTable columns={RUN_COLUMNS} style={{ marginTop: 10 }}>
        {run.steps.map((s, i) => {
          const pt = points[i];
          return (
            <tr key={i}>
              <td className="num">{s.step ? `${s.step.kind} ${s.step.value}` : 'single'}</td>
              <td className="num">{s.result.completed}</td>
              <td className="num">{s.result.failed}</td>
              <td className="num">{s.result.request_throughput.toFixed(2)}</td>
              <td className="num">{fmt(s.result.request_goodput)}</td>
              <td className="num">{s.result.output_throughput.toFixed(1)}</td>
              <td className="num">
                {formatMs(pt?.ttftP50Ms)} / {formatMs(pt?.ttftP99Ms)}
              </td>
              <td className="num">
                {formatMs(pt?.tpotP50Ms)} / {formatMs(pt?.tpotP99Ms)}
              </td>
              <td className="num">
                {formatMs(pt?.e2elP50Ms)} / {formatMs(pt?.e2elP99Ms)}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </div>
  );
}

function SavedRuns(): ReactNode {
  const s = useAppStore(
    useShallow((st) => ({
      runs: st.benchRuns,
      isLoaded: st.benchRunsLoaded,
      error: st.benchRunsError,
      currentId: st.benchCurrent?.run.id ?? null,
    })),
  );
  const {
    loadBenchRuns: load,
    openBenchRun: open,
    deleteBenchRun: remove,
    compareBenchRuns: compare,
    benchCsv: csv,
  } = useAppFields(
    'loadBenchRuns',
    'openBenchRun',
    'deleteBenchRun',
    'compareBenchRuns',
    'benchCsv',
  );
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string): void =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));

  return (
    <div className="panel" aria-label="Saved runs">
      <PanelHead
        title="Saved runs"
        actions={
          <Button
            isSmall
            disabled={picked.length !== 2}
            title="Tick two runs to compare them side by side"
            onClick={() => compare(picked[0] ?? '', picked[1] ?? '')}
          >
            Compare 2 selected
          </Button>
        }
      />
      <ErrorBox title="Saved runs cannot be listed" message={s.error} onRetry={load} />
      {s.isLoaded && !s.error && s.runs.length === 0 ? (
        <EmptyState title="No saved runs yet">
          Every finished sweep is saved here automatically.
        </EmptyState>
      ) : null}
      {s.runs.length > 0 ? (
        <DataTable testId="bench-runs" columns={SAVED_COLUMNS}>
          {s.runs.map((r) => (
            <tr key={r.id} aria-current={r.id === s.currentId ? 'true' : undefined}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select ${r.name} to compare`}
                  checked={picked.includes(r.id)}
                  onChange={() => toggle(r.id)}
                />
              </td>
              <td>{r.name}</td>
              <td className="dim">{r.topology ?? '—'}</td>
              <td className="num">{r.stepCount}</td>
              <td className="num">{r.bestOutputThroughput.toFixed(1)}</td>
              <td className="dim num">{new Date(r.createdAtMs).toLocaleString()}</td>
              <td>
                <div className="btn-group">
                  <Button isSmall onClick={() => open(r.id)}>
                    Show
                  </Button>
                  <Button
                    isSmall
                    onClick={() =>
                      csv(r.id).then((text) => {
                        if (text !== null) downloadText(`${r.id}.csv`, text, 'text/csv');
                      })
                    }
                  >
                    CSV
                  </Button>
                  <Button isSmall variant="danger" onClick={() => remove(r.id)}>
                    Delete
                  </Button>
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </div>
  );
}

function Comparison(): ReactNode {
  const {
    benchComparison: c,
    benchRuns: runs,
    closeComparison: close,
  } = useAppFields('benchComparison', 'benchRuns', 'closeComparison');
  if (!c) return null;
  const name = (id: string): string => runs.find((r) => r.id === id)?.name ?? id;
  return (
    <div className="panel" aria-label="Comparison" data-testid="bench-comparison">
      <PanelHead
        title="Side by side"
        actions={
          <Button isSmall onClick={close}>
            Close
          </Button>
        }
      />
      <DataTable columns={['Step', 'Metric', `A: ${name(c.idA)}`, `B: ${name(c.idB)}`, 'B − A']}>
        {c.rows.map((r, i) => (
          <tr key={i}>
            <td className="num">{r.stepValue ?? 'single'}</td>
            <td>{r.label}</td>
            <td className="num" style={r.better === 'a' ? { fontWeight: 600 } : undefined}>
              {fmt(r.a)}
            </td>
            <td className="num" style={r.better === 'b' ? { fontWeight: 600 } : undefined}>
              {fmt(r.b)}
            </td>
            <td className="num dim">
              {r.delta === null ? '—' : `${r.delta >= 0 ? '+' : ''}${fmt(r.delta)}`}
              {r.deltaPct !== null
                ? ` (${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct.toFixed(1)}%)`
                : ''}
            </td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}

export function BenchView(): ReactNode {
  const loadBenchRuns = useAppStore((s) => s.loadBenchRuns);
  useEffect(() => {
    void loadBenchRuns();
  }, [loadBenchRuns]);
  return (
    <ViewFrame
      title="Benchmark"
      head={
        <span className="dim">
          load-test sweeps (benchmark_serving metrics) and the what-if planner
        </span>
      }
    >
      <div style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
        <BenchForm />
        <BenchProgress />
        <CurrentRun />
        <Comparison />
        <SavedRuns />
        <PlannerPanel />
      </div>
    </ViewFrame>
  );
}
