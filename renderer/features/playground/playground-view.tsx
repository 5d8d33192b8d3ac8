// The Playground (features G1-G4): chat or completions through the proxy, streaming with a stop button,
// sampling parameters and a system prompt, a chosen worker pair or the router's pick, two routes side by side
// (column B may also target another base URL: a second proxy or one aggregated worker, i.e. another
// topology), and the request as code. Layer: renderer.

import { type KeyboardEvent, type ReactNode, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { EmptyState } from '../../components/empty-state';
import { formatAddress } from '../../lib/format';
import type { PlaygroundRequest, RoutePin } from '../../lib/openai-request';
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

function RoutePicker({ side, route }: { side: 0 | 1; route: RoutePin }): ReactNode {
  const local = useAppStore(useShallow(selectLocalWorkers));
  const remote = useAppStore(useShallow(selectRemoteWorkers));
  const setRoute = useAppStore((s) => s.setRoute);
  const all = [...local, ...remote];
  const ctx = all.filter((w) => w.role === 'context');
  const gen = all.filter((w) => w.role === 'generation');
  return (
    <div className="field-row" role="group" aria-label={`Route ${side === 0 ? 'A' : 'B'}`}>
      <label className="field">
        <span>Context worker {side === 0 ? '(A)' : '(B)'}</span>
        <select
          value={route.contextWorker ?? ''}
          onChange={(e) => setRoute(side, { ...route, contextWorker: e.target.value || undefined })}
        >
          <option value="">router picks</option>
          {ctx.map((w) => (
            <option key={w.id} value={hostPort(w.url)}>
              {w.id} ({hostPort(w.url)})
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Generation worker {side === 0 ? '(A)' : '(B)'}</span>
        <select
          value={route.generationWorker ?? ''}
          onChange={(e) =>
            setRoute(side, { ...route, generationWorker: e.target.value || undefined })
          }
        >
          <option value="">router picks</option>
          {gen.map((w) => (
            <option key={w.id} value={hostPort(w.url)}>
              {w.id} ({hostPort(w.url)})
            </option>
          ))}
        </select>
      </label>
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
    <section className="view" aria-labelledby="view-title">
      <div className="view-head">
        <h1 id="view-title">Playground</h1>
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
        <button
          type="button"
          className="btn btn-small"
          aria-pressed={showCode}
          onClick={() => setShowCode(!showCode)}
        >
          View code
        </button>
      </div>
      {s.proxyError ? (
        <div className="error-box" role="alert">
          The proxy address is unknown: {s.proxyError}{' '}
          <button type="button" className="btn btn-small" onClick={() => void loadProxy()}>
            Try again
          </button>
        </div>
      ) : null}
      {!hasReadyPair ? (
        <EmptyState
          title="No ready context + generation pair"
          action={
            <button type="button" className="btn btn-small" onClick={() => setView('cluster')}>
              Go to Cluster
            </button>
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
          <div className="seg" role="group" aria-label="Endpoint">
            <button
              type="button"
              aria-pressed={s.mode === 'chat'}
              onClick={() => setPlayground({ pgMode: 'chat' })}
            >
              Chat
            </button>
            <button
              type="button"
              aria-pressed={s.mode === 'completions'}
              onClick={() => setPlayground({ pgMode: 'completions' })}
            >
              Completions
            </button>
          </div>
          <label className="field">
            <span>Model</span>
            <input
              value={s.model}
              placeholder={defaultModel}
              onChange={(e) => setPlayground({ pgModel: e.target.value })}
            />
          </label>
          <label className="field">
            <span>System prompt</span>
            <textarea
              rows={2}
              value={s.systemPrompt}
              onChange={(e) => setPlayground({ pgSystemPrompt: e.target.value })}
            />
          </label>
          <label className="field">
            <span>Prompt (Ctrl+Enter sends)</span>
            <textarea
              rows={5}
              value={s.prompt}
              onChange={(e) => setPlayground({ pgPrompt: e.target.value })}
              onKeyDown={onKey}
            />
          </label>
          <div className="field-row">
            <label className="field">
              <span>Temperature</span>
              <input
                type="number"
                min={0}
                max={2}
                step={0.1}
                value={s.params.temperature}
                onChange={(e) => setParams({ temperature: Number(e.target.value) })}
              />
            </label>
            <label className="field">
              <span>top_p</span>
              <input
                type="number"
                min={0}
                max={1}
                step={0.05}
                value={s.params.topP}
                onChange={(e) => setParams({ topP: Number(e.target.value) })}
              />
            </label>
            <label className="field">
              <span>Max tokens</span>
              <input
                type="number"
                min={1}
                step={1}
                value={s.params.maxTokens}
                onChange={(e) =>
                  setParams({ maxTokens: Math.max(1, Math.round(Number(e.target.value))) })
                }
              />
            </label>
            <label className="field">
              <span>Seed</span>
              <input
                type="number"
                step={1}
                placeholder="random"
                value={s.params.seed ?? ''}
                onChange={(e) =>
                  setParams({
                    seed: e.target.value === '' ? null : Math.round(Number(e.target.value)),
                  })
                }
              />
            </label>
          </div>
          <label className="field">
            <span>Stop strings (comma separated)</span>
            <input
              value={stopText}
              onChange={(e) => {
                setStopText(e.target.value);
                setParams({
                  stop: e.target.value
                    .split(',')
                    .map((x) => x.trim())
                    .filter((x) => x !== ''),
                });
              }}
            />
          </label>
          <RoutePicker side={0} route={s.routes[0]} />
          {s.compare ? (
            <label className="field">
              <span>Column B target (base URL; empty = this console&apos;s proxy)</span>
              <input
                value={s.targetB}
                placeholder="http://127.0.0.1:8100 (a second proxy or an aggregated worker)"
                onChange={(e) => setPlayground({ pgTargetB: e.target.value })}
              />
            </label>
          ) : null}
          {s.compare && s.targetB.trim() === '' ? (
            <RoutePicker side={1} route={s.routes[1]} />
          ) : null}
          <div className="btn-group">
            <button
              type="submit"
              className="btn btn-primary"
              disabled={isStreaming || s.prompt.trim() === ''}
            >
              Send
            </button>
            <button type="button" className="btn" onClick={stopPrompt} disabled={!isStreaming}>
              Stop
            </button>
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
    </section>
  );
}
