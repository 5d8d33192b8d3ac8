// The app shell: top bar with navigation (Cluster, Configuration, Dashboard, Playground), theme toggle,
// connection and worker summary, and the current view. While the backend is lost the header says
// "disconnected" and every live number is marked stale (data-stale on the shell). Layer: renderer.

import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';

import { Button } from './components/button';
import { EmptyState } from './components/empty-state';
import { ErrorBox } from './components/error-box';
import { Toasts } from './components/toasts';
import { ClusterView } from './features/cluster/cluster-view';
import { PlaygroundView } from './features/playground/playground-view';
import { SettingsDialog } from './features/settings/settings-dialog';
import { useAppFields, useAppStore } from './store/app-store-context';
import { selectIsSimulated, selectWorkerCounts } from './store/selectors';
import type { ThemeChoice, UiSlice, ViewName } from './store/store-types';

// The editor (CodeMirror) and the charts (recharts) load with their views: the first paint needs neither.
const ConfigView = lazy(() =>
  import('./features/config/config-view').then((m) => ({ default: m.ConfigView })),
);
const DashboardView = lazy(() =>
  import('./features/dashboard/dashboard-view').then((m) => ({ default: m.DashboardView })),
);
const BenchView = lazy(() =>
  import('./features/bench/bench-view').then((m) => ({ default: m.BenchView })),
);

const VIEWS: { id: ViewName; label: string }[] = [
  { id: 'cluster', label: 'Cluster' },
  { id: 'config', label: 'Configuration' },
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'playground', label: 'Playground' },
  { id: 'bench', label: 'Benchmark' },
];

const CONNECTION_BADGE: Record<UiSlice['connection'], { text: string; className: string }> = {
  connecting: { text: 'connecting', className: 'state-starting' },
  ok: { text: 'connected', className: 'state-ready' },
  lost: { text: 'disconnected', className: 'state-errored' },
  error: { text: 'offline', className: 'state-errored' },
};

const THEME_NEXT: Record<ThemeChoice, ThemeChoice> = {
  system: 'dark',
  dark: 'light',
  light: 'system',
};

function useThemeAttribute(theme: ThemeChoice): void {
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: light)');
    const apply = (): void => {
      const resolved = theme === 'system' ? (media.matches ? 'light' : 'dark') : theme;
      document.documentElement.dataset.theme = resolved;
    };
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}

export function App(): ReactNode {
  const { view, setView, theme, setTheme, connection, connectionError } = useAppFields(
    'view',
    'setView',
    'theme',
    'setTheme',
    'connection',
    'connectionError',
  );
  const counts = useAppStore(useShallow(selectWorkerCounts));
  const isSimulated = useAppStore(selectIsSimulated);
  const openSettings = useAppStore((s) => s.openSettings);
  const isStale = connection === 'lost';
  useThemeAttribute(theme);

  useEffect(() => {
    // Alt+1..4 switch views from anywhere (the nav buttons are reachable with Tab too).
    const onKey = (e: KeyboardEvent): void => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const target = VIEWS[Number(e.key) - 1];
      if (target) {
        e.preventDefault();
        setView(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setView]);

  return (
    <div className="app" data-stale={isStale ? 'true' : undefined}>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Disagg Console
        </div>
        <nav className="nav" aria-label="Views">
          {VIEWS.map((v, i) => (
            <button
              key={v.id}
              type="button"
              aria-current={view === v.id ? 'page' : undefined}
              onClick={() => setView(v.id)}
              title={`${v.label} (Alt+${i + 1})`}
            >
              {v.label}
            </button>
          ))}
        </nav>
        <div className="topbar-right">
          {isSimulated ? (
            <span
              className="badge sim-badge nodot"
              title="Simulated GPUs or a simulated engine: timings come from a model, not hardware"
            >
              simulated
            </span>
          ) : null}
          <span
            className="dim num live"
            aria-label="Worker summary"
            title={isStale ? 'Last known state: the backend is not answering' : undefined}
          >
            {isStale ? 'last known: ' : ''}
            {counts.total === 0
              ? 'no workers'
              : `${counts.ready}/${counts.total} ready${counts.starting ? `, ${counts.starting} starting` : ''}${counts.failing ? `, ${counts.failing} failing` : ''}`}
          </span>
          <span
            className={`badge ${CONNECTION_BADGE[connection].className}`}
            aria-label="Connection"
            title={connectionError ?? undefined}
          >
            {CONNECTION_BADGE[connection].text}
          </span>
          <Button isSmall onClick={() => openSettings(true)}>
            Settings
          </Button>
          <Button
            isSmall
            onClick={() => setTheme(THEME_NEXT[theme])}
            aria-label={`Theme: ${theme}. Switch theme`}
          >
            Theme: {theme}
          </Button>
        </div>
      </header>
      <main className="main">
        {connection === 'error' ? (
          <div className="view">
            <ErrorBox
              title="The console backend cannot be reached"
              message={connectionError ?? 'unknown error'}
              onRetry={() => window.location.reload()}
            />
          </div>
        ) : null}
        {isStale ? (
          <div className="warn-box stale-banner" role="status">
            Lost the console backend ({connectionError ?? 'no answer'}). Numbers below are the last
            known ones; reconnecting by itself…
          </div>
        ) : null}
        {view === 'cluster' ? <ClusterView /> : null}
        <Suspense fallback={<EmptyState title="Loading…" />}>
          {view === 'config' ? <ConfigView /> : null}
          {view === 'dashboard' ? <DashboardView /> : null}
          {view === 'bench' ? <BenchView /> : null}
        </Suspense>
        {view === 'playground' ? <PlaygroundView /> : null}
      </main>
      <SettingsDialog />
      <Toasts />
    </div>
  );
}
