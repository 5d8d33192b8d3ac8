// The Playground (features G1-G4): chat or completions through the proxy, streaming with a stop button,
// sampling parameters and a system prompt, a chosen worker pair or the router's pick, two routes side by side
// (column B may also target another base URL: a second proxy or one aggregated worker, i.e. another
// topology), and the request as code. Layer: renderer.

import { type KeyboardEvent, type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { Button } from '../../components/button';
import { EmptyState } from '../../components/empty-state';
import { Field } from '../../components/field';
import { NumberField } from '../../components/number-field';
import { Segmented } from '../../components/segmented';
import { SelectField } from '../../components/select-field';
import { TextField } from '../../components/text-field';
import { ViewFrame } from '../../components/view-frame';
import { formatAddress } from '../../lib/format';
import type { PlaygroundMode, PlaygroundRequest, RoutePin } from '../../lib/openai-request';
import { useAppStore } from '../../store/app-store-context';
import {
  selectDefaultModel,
  selectLocalWorkers,
  selectRemoteWorkers,
  selectWorkers,
} from '../../store/selectors';
import { CodeView } from './code-view';
import { ResponseCard } from './response-card';

function hostPort(url: string): string {
  return formatAddress(url).replace(/\/+$/, '');
}

const MODES: { value: PlaygroundMode; label: string }[] = [
  { value: 'chat', label: 'Chat' },
  { value: 'completions', label: 'Completions' },
];

/** The two pins of a route: which worker of each role serves the request. */
const ROUTE_ROLES = [
  { role: 'context', key: 'contextWorker', label: 'Context worker' },
  { role: 'generation', key: 'generationWorker', label: 'Generation worker' },
] as const;

function RoutePicker({ side, route }: { side: 0 | 1; route: RoutePin }): ReactNode {
  const local = useAppStore(useShallow(selectLocalWorkers));
  const remote = useAppStore(useShallow(selectRemoteWorkers));
  const setRoute = useAppStore((s) => s.setRoute);
  const all = [...local, ...remote];
  const letter = side === 0 ? 'A' : 'B';
  return (
    <div className="field-row" role="group" aria-label={`Route ${letter}`}>
      {ROUTE_ROLES.map(({ role, key, label }) => (
        <SelectField
          key={role}
          label={`${label} (${letter})`}
          value={route[key] ?? ''}
          choices={[
            { value: '', label: 'router picks' },
            ...all
              .filter((w) => w.role === role)
              .map((w) => ({ value: hostPort(w.url), label: `${w.id} (${hostPort(w.url)})` })),
          ]}
          onChange={(v) => setRoute(side, { ...route, [key]: v || undefined })}
        />
      ))}
    </div>
  );
}

export function PlaygroundView(): ReactNode {
  const s = useAppStore(
    useShallow((st) => ({
      proxy: st.proxy,
      proxyError: st.proxyError,
      mode: st.pgMode,
      model: st.pgModel,
      systemPrompt: st.pgSystemPrompt,
      prompt: st.pgPrompt,
      params: st.pgParams,
      compare: st.pgCompare,
      routes: st.pgRoutes,
      runs: st.pgRuns,
      targetB: st.pgTargetB,
    })),
  );
  const defaultModel = useAppStore(selectDefaultModel);
  const hasReadyPair = useAppStore((st) => {
    const ws = selectWorkers(st).filter((w) => w.status.state === 'ready');
    return ws.some((w) => w.role === 'context') && ws.some((w) => w.role === 'generation');
  });
  const setPlayground = useAppStore((st) => st.setPlayground);
  const setParams = useAppStore((st) => st.setParams);
  const sendPrompt = useAppStore((st) => st.sendPrompt);
  const stopPrompt = useAppStore((st) => st.stopPrompt);
  const loadProxy = useAppStore((st) => st.loadProxy);
  const setView = useAppStore((st) => st.setView);
  const [stopText, setStopText] = useState(s.params.stop.join(', '));
  const [showCode, setShowCode] = useState(false);
  const isStreaming = s.runs.some((r) => r?.status === 'streaming');

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void sendPrompt();
    }
  };

  const request: PlaygroundRequest = {
    mode: s.mode,
    model: s.model.trim() || defaultModel,
    systemPrompt: s.systemPrompt,
    prompt: s.prompt || 'Hello!',
    params: s.params,
    route: s.routes[0],
  };

  return (
    <ViewFrame
      title="Playground"
      head={
        <>
          {s.proxy ? (
            <span className="dim">
              proxy <span className="mono">{s.proxy.url}</span>{' '}
              {s.proxy.isRunning
                ? ''
                : s.proxy.state === 'restarting'
                  ? '(restarting after a crash)'
                  : '(not running)'}
              {s.proxy.restarts ? ` · restarted ${s.proxy.restarts}×` : ''}
            </span>
          ) : null}
          <span className="spacer" />
          <label className="btn-group" style={{ alignItems: 'center' }}>
            <input
              type="checkbox"
              checked={s.compare}
              onChange={(e) => setPlayground({ pgCompare: e.target.checked })}
            />
            Side by side (two routes or two topologies)
          </label>
          <Button isSmall aria-pressed={showCode} onClick={() => setShowCode(!showCode)}>
            View code
          </Button>
        </>
      }
    >
      {s.proxyError ? (
        <div className="error-box" role="alert">
          The proxy address is unknown: {s.proxyError}{' '}
          <Button isSmall onClick={loadProxy}>
            Try again
          </Button>
        </div>
      ) : null}
      {!hasReadyPair ? (
        <EmptyState
          title="No ready context + generation pair"
          action={
            <Button isSmall onClick={() => setView('cluster')}>
              Go to Cluster
            </Button>
          }
        >
          Requests need at least one ready context worker and one ready generation worker. Add them
          from the Cluster view (preset 1+1).
        </EmptyState>
      ) : null}
      <div className="pg-grid">
        <form
          className="panel"
          aria-label="Request"
          onSubmit={(e) => {
            e.preventDefault();
            void sendPrompt();
          }}
          style={{ display: 'flex', flexDirection: 'column', gap: 10 }}
        >
          <Segmented
            label="Endpoint"
            choices={MODES}
            value={s.mode}
            onPick={(pgMode) => setPlayground({ pgMode })}
          />
          <TextField
            label="Model"
            value={s.model}
            placeholder={defaultModel}
            onChange={(v) => setPlayground({ pgModel: v })}
          />
          <TextField
            label="System prompt"
            rows={2}
            value={s.systemPrompt}
            onChange={(v) => setPlayground({ pgSystemPrompt: v })}
          />
          <Field label="Prompt (Ctrl+Enter sends)">
            <textarea
              rows={5}
              value={s.prompt}
              onChange={(e) => setPlayground({ pgPrompt: e.target.value })}
              onKeyDown={onKey}
            />
          </Field>
          <div className="field-row">
            <NumberField
              label="Temperature"
              min={0}
              max={2}
              step={0.1}
              value={String(s.params.temperature)}
              onChange={(t) => setParams({ temperature: Number(t) })}
            />
            <NumberField
              label="top_p"
              min={0}
              max={1}
              step={0.05}
              value={String(s.params.topP)}
              onChange={(t) => setParams({ topP: Number(t) })}
            />
            <NumberField
              label="Max tokens"
              step={1}
              value={String(s.params.maxTokens)}
              onChange={(t) => setParams({ maxTokens: Math.max(1, Math.round(Number(t))) })}
            />
            <NumberField
              label="Seed"
              min={null}
              step={1}
              placeholder="random"
              value={s.params.seed === null ? '' : String(s.params.seed)}
              onChange={(t) => setParams({ seed: t === '' ? null : Math.round(Number(t)) })}
            />
          </div>
          <TextField
            label="Stop strings (comma separated)"
            value={stopText}
            onChange={(v) => {
              setStopText(v);
              setParams({
                stop: v
                  .split(',')
                  .map((x) => x.trim())
                  .filter((x) => x !== ''),
              });
            }}
          />
          <RoutePicker side={0} route={s.routes[0]} />
          {s.compare ? (
            <TextField
              label="Column B target (base URL; empty = this console's proxy)"
              value={s.targetB}
              placeholder="http://127.0.0.1:8100 (a second proxy or an aggregated worker)"
              onChange={(v) => setPlayground({ pgTargetB: v })}
            />
          ) : null}
          {s.compare && s.targetB.trim() === '' ? (
            <RoutePicker side={1} route={s.routes[1]} />
          ) : null}
          <div className="btn-group">
            <Button isSubmit variant="primary" disabled={isStreaming || s.prompt.trim() === ''}>
              Send
            </Button>
            <Button onClick={stopPrompt} disabled={!isStreaming}>
              Stop
            </Button>
          </div>
        </form>
        <div style={{ display: 'flex', flexDirection: 'column', gap: 12, minWidth: 0 }}>
          <div className={`pg-out${s.compare ? ' compare' : ''}`}>
            <ResponseCard run={s.runs[0]} title={s.compare ? 'A · console proxy' : 'Response'} />
            {s.compare ? (
              <ResponseCard
                run={s.runs[1]}
                title={s.targetB.trim() === '' ? 'B · console proxy' : `B · ${s.targetB.trim()}`}
              />
            ) : null}
          </div>
          {showCode && s.proxy ? <CodeView request={request} proxyUrl={s.proxy.url} /> : null}
        </div>
      </div>
    </ViewFrame>
  );
}
