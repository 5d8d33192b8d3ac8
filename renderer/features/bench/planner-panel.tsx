// The what-if planner (feature B2): calibrate the simulated engine from a running worker (fitted profile and
// fit error), predict layouts for a workload on N GPUs (goodput, TTFT, TPOT, tokens/s per GPU, the
// recommendation highlighted), apply one with a click, and check it against a fresh load test. Layer: renderer.

import { type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import type { PlannerWorkload } from '../../../shared/model/bench';
import { Button } from '../../components/button';
import { DataTable } from '../../components/data-table';
import { EmptyState } from '../../components/empty-state';
import { ErrorBox } from '../../components/error-box';
import { NumberField } from '../../components/number-field';
import { PanelHead } from '../../components/panel-head';
import { type SelectChoice, SelectField } from '../../components/select-field';
import { formatMs } from '../../lib/format';
import { slosFromText } from '../../lib/slo-text';
import { useAppStore } from '../../store/app-store-context';
import { SloFields } from './slo-fields';

const LOAD_CHOICES: SelectChoice<'rate' | 'concurrency'>[] = [
  { value: 'concurrency', label: 'Concurrent users' },
  { value: 'rate', label: 'Requests/s' },
];

const LAYOUT_COLUMNS = [
  'Layout',
  'GPUs',
  'Goodput (req/s)',
  'TTFT mean / p99',
  'TPOT mean / p99',
  'Out tok/s per GPU',
  'Failed',
  '',
];

function num(text: string, fallback: number): number {
  const v = Number(text);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

function Calibration(): ReactNode {
  const cal = useAppStore((s) => s.calibration);
  if (!cal) {
    return (
      <p className="dim">
        Not calibrated: predictions use the simulated GPU of the settings. Calibrate to fit the
        profile to a running worker (a few seconds of measurement).
      </p>
    );
  }
  return (
    <dl className="kv" aria-label="Fitted profile">
      <dt>Measured</dt>
      <dd className="mono">
        {cal.baseUrl} ({cal.model})
      </dd>
      <dt>Prefill rate (8B ref.)</dt>
      <dd className="num">{cal.prefillTokensPerSec8B.toFixed(0)} tok/s</dd>
      <dt>Memory bandwidth</dt>
      <dd className="num">{cal.memoryBandwidthGBps.toFixed(0)} GB/s</dd>
      <dt>Fit error</dt>
      <dd className="num">
        prefill {cal.prefillErrorPct.toFixed(1)}%, decode {cal.decodeErrorPct.toFixed(1)}%
      </dd>
      {cal.notes.length > 0 ? (
        <>
          <dt>Notes</dt>
          <dd>{cal.notes.join('; ')}</dd>
        </>
      ) : null}
    </dl>
  );
}

export function PlannerPanel(): ReactNode {
  const s = useAppStore(
    useShallow((st) => ({
      task: st.plannerTask,
      progress: st.plannerProgress,
      error: st.plannerError,
      prediction: st.prediction,
      applied: st.plannerApplied,
      check: st.plannerCheck,
      gpuCount: st.inventory?.gpus.length ?? 0,
    })),
  );
  const calibrate = useAppStore((st) => st.calibrate);
  const predict = useAppStore((st) => st.predict);
  const cancel = useAppStore((st) => st.cancelPlanner);
  const applyLayout = useAppStore((st) => st.applyLayout);
  const checkPlanner = useAppStore((st) => st.checkPlanner);
  const [inputLen, setInputLen] = useState('512');
  const [outputLen, setOutputLen] = useState('64');
  const [loadKind, setLoadKind] = useState<'rate' | 'concurrency'>('concurrency');
  const [load, setLoad] = useState('4');
  const [gpus, setGpus] = useState('');
  const [ttft, setTtft] = useState('');
  const [tpot, setTpot] = useState('');
  const isBusy = s.task !== null;

  const onPredict = (): void => {
    const slos = slosFromText(ttft, tpot);
    const workload: PlannerWorkload = {
      inputLen: Math.floor(num(inputLen, 512)),
      outputLen: Math.floor(num(outputLen, 64)),
      ...(loadKind === 'rate'
        ? { requestRate: num(load, 1) }
        : { maxConcurrency: Math.floor(num(load, 1)) }),
      slos,
    };
    void predict({ workload, gpus: Math.min(64, Math.floor(num(gpus, Math.max(2, s.gpuCount)))) });
  };

  const rec = s.prediction?.recommended.index ?? -1;
  return (
    <div className="panel" aria-label="Planner" data-testid="planner-panel">
      <PanelHead
        title="What-if planner"
        note="context:generation ratios simulated before you spend GPUs on them"
        actions={
          <>
            <Button isSmall disabled={isBusy} onClick={() => calibrate({})}>
              {s.task === 'calibrate' ? 'Calibrating…' : 'Calibrate'}
            </Button>
            {isBusy ? (
              <Button isSmall onClick={cancel}>
                Cancel
              </Button>
            ) : null}
          </>
        }
      />
      <Calibration />
      <div className="field-row" style={{ marginTop: 10 }}>
        <NumberField label="Input length" value={inputLen} onChange={setInputLen} />
        <NumberField label="Output length" value={outputLen} onChange={setOutputLen} />
        <SelectField label="Load" value={loadKind} choices={LOAD_CHOICES} onChange={setLoadKind} />
        <NumberField
          label={loadKind === 'rate' ? 'Requests/s' : 'Users'}
          value={load}
          onChange={setLoad}
          min={0}
        />
        <NumberField
          label="GPUs"
          value={gpus}
          onChange={setGpus}
          placeholder={String(Math.max(2, s.gpuCount))}
        />
        <SloFields ttft={ttft} tpot={tpot} onTtft={setTtft} onTpot={setTpot} />
      </div>
      <div className="btn-group" style={{ marginTop: 10 }}>
        <Button variant="primary" disabled={isBusy} onClick={onPredict}>
          {s.task === 'predict' ? 'Predicting…' : 'Predict layouts'}
        </Button>
        {s.progress ? (
          <span className="progress-line" role="status">
            {s.progress.message} ({(s.progress.fraction * 100).toFixed(0)}%)
          </span>
        ) : null}
      </div>
      {s.error ? (
        <div style={{ marginTop: 10 }}>
          <ErrorBox title="The planner stopped" message={s.error} />
        </div>
      ) : null}
      {s.prediction ? (
        <>
          <DataTable testId="planner-layouts" columns={LAYOUT_COLUMNS} style={{ marginTop: 10 }}>
            {s.prediction.layouts.map((p, i) => (
              <tr
                key={p.label}
                aria-current={i === rec ? 'true' : undefined}
                style={i === rec ? { background: 'var(--bar-bg)' } : undefined}
              >
                <td>
                  {p.label}{' '}
                  {i === rec ? <span className="badge state-ready">recommended</span> : null}
                </td>
                <td className="num">{p.layout.gpus}</td>
                <td className="num">{p.goodput === null ? '—' : p.goodput.toFixed(2)}</td>
                <td className="num">
                  {formatMs(p.meanTtftMs)} / {formatMs(p.p99TtftMs)}
                </td>
                <td className="num">
                  {formatMs(p.meanTpotMs)} / {formatMs(p.p99TpotMs)}
                </td>
                <td className="num">{p.outputTokensPerSecPerGpu.toFixed(1)}</td>
                <td className="num">{p.failed}</td>
                <td>
                  <Button
                    isSmall
                    disabled={isBusy || p.layout.kind === 'aggregated'}
                    title={
                      p.layout.kind === 'aggregated'
                        ? 'The console runs disaggregated topologies'
                        : 'Apply this layout as the topology'
                    }
                    onClick={() => applyLayout(p)}
                  >
                    Apply
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
          <p className="dim">{s.prediction.recommended.reason}</p>
        </>
      ) : (
        <EmptyState title="No prediction yet">
          Set the workload and press Predict: each layout runs simulated workers behind the real
          proxy for a few seconds.
        </EmptyState>
      )}
      {s.applied ? (
        <div className="btn-group" style={{ marginTop: 10 }}>
          <span>
            Applied <b>{s.applied.label}</b>. Once its workers are ready, check the prediction
            against a load test:
          </span>
          <Button isSmall disabled={isBusy} onClick={checkPlanner}>
            {s.task === 'check' ? 'Checking…' : 'Check prediction'}
          </Button>
        </div>
      ) : null}
      {s.check ? (
        <DataTable
          testId="planner-check"
          columns={[`Metric (${s.check.label})`, 'Predicted', 'Measured', 'Error']}
          style={{ marginTop: 10 }}
        >
          {s.check.rows.map((r) => (
            <tr key={r.metric}>
              <td>{r.metric}</td>
              <td className="num">{r.predicted.toFixed(2)}</td>
              <td className="num">{r.measured.toFixed(2)}</td>
              <td className="num">
                {r.errorPct === null
                  ? '—'
                  : `${r.errorPct >= 0 ? '+' : ''}${r.errorPct.toFixed(1)}%`}
              </td>
            </tr>
          ))}
          <tr>
            <td>
              <b>Mean absolute error</b>
            </td>
            <td />
            <td />
            <td className="num">
              <b>
                {s.check.meanAbsErrorPct === null ? '—' : `${s.check.meanAbsErrorPct.toFixed(1)}%`}
              </b>
            </td>
          </tr>
        </DataTable>
      ) : null}
    </div>
  );
}
