// The Configuration view (features K1-K5): the topology's files with inline lint, forms for common fields in
// sync with the text, cross-file pre-flight, Apply with its plan, history, import and export. Layer: renderer.

import { type ReactNode, useMemo, useState } from 'react';

import type { ConfigIssue } from '../../../shared/logic/config-issues';
import { Button } from '../../components/button';
import { EmptyState } from '../../components/empty-state';
import { ErrorBox } from '../../components/error-box';
import { IssueList } from '../../components/issue-list';
import { PanelHead } from '../../components/panel-head';
import { ViewFrame } from '../../components/view-frame';
import { lintFile, mergeIssues } from '../../lib/lint-file';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { orderedFileNames } from '../../store/config-slice';
import { selectDraft, selectDraftFiles, selectTopology } from '../../store/selectors';
import { ApplyPanel } from './apply-panel';
import { ConfigForm } from './config-form';
import { HistoryPanel } from './history-panel';
import { ImportExportPanel } from './import-export-panel';
import { YamlEditor } from './yaml-editor';

export function ConfigView(): ReactNode {
  const topology = useAppStore(selectTopology);
  const topologyError = useAppStore((s) => s.clusterError);
  const resyncCluster = useAppStore((s) => s.resyncCluster);
  const drafts = useAppStore(selectDraftFiles);
  const draftIssues = useAppStore((s) => selectDraft(s)?.issues);
  const { activeFile, setActiveFile, setDraft, validation } = useAppFields(
    'activeFile',
    'setActiveFile',
    'setDraft',
    'validation',
  );
  const [showForm, setShowForm] = useState(true);

  const names = useMemo(() => orderedFileNames(Object.keys(drafts)), [drafts]);
  const issuesByFile = useMemo(() => {
    const out: Record<string, ConfigIssue[]> = {};
    for (const n of names) {
      const reported = [...(draftIssues ?? []), ...(validation?.issues ?? [])];
      out[n] = mergeIssues(lintFile(n, drafts[n] ?? '', drafts), reported, n);
    }
    return out;
  }, [names, drafts, validation, draftIssues]);
  const isDirty = useMemo(() => {
    const applied = topology?.files ?? {};
    const keys = new Set([...Object.keys(applied), ...Object.keys(drafts)]);
    return [...keys].some((k) => applied[k] !== drafts[k]);
  }, [topology, drafts]);

  const active = activeFile && drafts[activeFile] !== undefined ? activeFile : (names[0] ?? null);
  const activeIssues = active ? (issuesByFile[active] ?? []) : [];

  return (
    <ViewFrame
      title="Configuration"
      head={
        topology ? (
          <span className="dim">
            {topology.name} ·{' '}
            {topology.appliedVersion === null
              ? 'never applied'
              : `version ${topology.appliedVersion} applied`}
          </span>
        ) : null
      }
    >
      <ErrorBox
        title="The topology could not be loaded"
        message={topologyError}
        onRetry={resyncCluster}
      />
      {!topology && !topologyError ? <EmptyState title="Loading the topology…" /> : null}
      {topology && names.length === 0 ? (
        <EmptyState title="This topology has no files yet">
          Add a worker from the Cluster view, or import a set of upstream files below.
        </EmptyState>
      ) : null}
      <div className="config-grid">
        <nav className="panel" aria-label="Files">
          <h2 style={{ marginBottom: 8 }}>Files</h2>
          <ul className="file-list">
            {names.map((n) => {
              const errors = (issuesByFile[n] ?? []).filter((i) => i.severity === 'error').length;
              const changed = topology?.files[n] !== drafts[n];
              return (
                <li key={n}>
                  <button
                    type="button"
                    aria-current={n === active ? 'true' : undefined}
                    onClick={() => setActiveFile(n)}
                  >
                    <span>
                      {n}
                      {changed ? ' •' : ''}
                    </span>
                    {errors > 0 ? (
                      <span className="count" aria-label={`${errors} errors`}>
                        {errors}
                      </span>
                    ) : null}
                  </button>
                </li>
              );
            })}
          </ul>
        </nav>
        <div style={{ display: 'flex', flexDirection: 'column', gap: 12, minWidth: 0 }}>
          {active ? (
            <section className="panel" aria-label={`Editor for ${active}`}>
              <PanelHead
                title={<span className="mono">{active}</span>}
                actions={
                  <Button isSmall aria-pressed={showForm} onClick={() => setShowForm(!showForm)}>
                    {showForm ? 'Hide form' : 'Show form'}
                  </Button>
                }
              />
              <div
                style={{
                  display: 'grid',
                  gridTemplateColumns: showForm ? 'minmax(0, 1fr) 240px' : '1fr',
                  gap: 12,
                }}
              >
                <YamlEditor
                  key={active}
                  label={`YAML of ${active}`}
                  value={drafts[active] ?? ''}
                  onChange={(t) => setDraft(active, t)}
                  issues={activeIssues}
                />
                {showForm ? <ConfigForm file={active} /> : null}
              </div>
              <div className="inline-issues" aria-live="polite">
                {activeIssues.length === 0 ? (
                  <p className="dim">No problems in this file.</p>
                ) : (
                  <IssueList issues={activeIssues} />
                )}
              </div>
            </section>
          ) : null}
        </div>
        <div style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
          <ApplyPanel isDirty={isDirty} onPickIssue={(i) => setActiveFile(i.file)} />
          <HistoryPanel />
          <ImportExportPanel />
        </div>
      </div>
    </ViewFrame>
  );
}
