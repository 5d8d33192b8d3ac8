// Pre-flight results across files, and Apply with the plan (start/restart/stop) shown before confirming
// (features K3, K5). Layer: renderer.

import type { ReactNode } from 'react';

import type { ConfigIssue } from '../../../shared/logic/config-issues';
import { Button } from '../../components/button';
import { IssueList } from '../../components/issue-list';
import { Panel } from '../../components/panel';
import { useAppFields, useAppStore } from '../../store/app-store-context';
import { selectDraft, selectTopology } from '../../store/selectors';

function PlanList({ label, names }: { label: string; names: string[] }): ReactNode {
  if (names.length === 0) return null;
  return (
    <div>
      <b>{label}</b>: {names.join(', ')}
    </div>
  );
}

export function ApplyPanel({
  isDirty,
  onPickIssue,
}: {
  isDirty: boolean;
  onPickIssue: (issue: ConfigIssue) => void;
}): ReactNode {
  const {
    validation,
    isValidating,
    validateDrafts: validate,
    requestApply,
    pendingPlan,
    cancelApply,
    confirmApply,
    isApplying,
    applyError,
    revertDrafts: revert,
    lastApply,
  } = useAppFields(
    'validation',
    'isValidating',
    'validateDrafts',
    'requestApply',
    'pendingPlan',
    'cancelApply',
    'confirmApply',
    'isApplying',
    'applyError',
    'revertDrafts',
    'lastApply',
  );
  const hasErrors = validation?.issues.some((i) => i.severity === 'error') ?? false;
  const draftBase = useAppStore((s) => selectDraft(s)?.baseTopologyVersion ?? null);
  const applied = useAppStore((s) => selectTopology(s)?.appliedVersion ?? null);
  const isDraftBehind = isDirty && draftBase !== applied;

  return (
    <Panel
      title="Pre-flight and apply"
      titleId="apply-title"
      actions={
        isDirty ? (
          <span className="badge state-starting nodot">draft not applied</span>
        ) : (
          <span className="dim">no edits</span>
        )
      }
    >
      <div className="btn-group" style={{ marginBottom: 10 }}>
        <Button onClick={validate} disabled={isValidating}>
          {isValidating ? 'Checking…' : 'Run pre-flight'}
        </Button>
        <Button
          variant="primary"
          onClick={requestApply}
          disabled={isValidating || isApplying || pendingPlan !== null}
        >
          Apply…
        </Button>
        <Button onClick={revert} disabled={!isDirty}>
          Revert
        </Button>
      </div>
      {isDraftBehind ? (
        <div className="warn-box" role="status">
          This draft was started from version {draftBase ?? 'none'}; version {applied ?? 'none'} is
          applied now. Apply will be refused so the newer change is not undone: Revert and edit
          again.
        </div>
      ) : null}
      {validation ? (
        validation.issues.length === 0 ? (
          <p className="ok-box">Pre-flight passed across all files.</p>
        ) : (
          <div className={hasErrors ? 'error-box' : 'warn-box'}>
            <strong>
              {validation.issues.filter((i) => i.severity === 'error').length} error(s),{' '}
              {validation.issues.filter((i) => i.severity === 'warning').length} warning(s)
            </strong>
            <IssueList issues={validation.issues} onPick={onPickIssue} />
          </div>
        )
      ) : null}
      {pendingPlan ? (
        <div
          className="plan-box panel"
          role="dialog"
          aria-label="Apply plan"
          style={{ marginTop: 10 }}
        >
          <strong>Applying will:</strong>
          <PlanList label="Start" names={pendingPlan.start} />
          <PlanList label="Restart" names={pendingPlan.restart} />
          <PlanList label="Stop" names={pendingPlan.stop} />
          <PlanList label="Keep running" names={pendingPlan.unchanged} />
          {pendingPlan.proxyChanged ? <div>Reload the proxy configuration.</div> : null}
          {pendingPlan.start.length + pendingPlan.restart.length + pendingPlan.stop.length === 0 &&
          !pendingPlan.proxyChanged ? (
            <div className="dim">Change nothing that runs (the version is still recorded).</div>
          ) : null}
          {hasErrors ? (
            <div className="issue-error">
              Pre-flight found errors: the backend will refuse this apply until they are fixed.
            </div>
          ) : null}
          <div className="btn-group">
            <Button variant="primary" onClick={confirmApply} disabled={isApplying}>
              {isApplying ? 'Applying…' : 'Confirm apply'}
            </Button>
            <Button onClick={cancelApply} disabled={isApplying}>
              Cancel
            </Button>
          </div>
        </div>
      ) : null}
      {applyError ? (
        <div className="error-box" style={{ marginTop: 10 }} role="alert">
          <strong>Apply failed:</strong> {applyError.message}
          <IssueList issues={applyError.issues} onPick={onPickIssue} />
        </div>
      ) : null}
      {lastApply && !pendingPlan && !applyError ? (
        <p className="ok-box" style={{ marginTop: 10 }}>
          Applied as version {lastApply.version}
          {lastApply.warnings.length > 0 ? ` with ${lastApply.warnings.length} warning(s)` : ''}.
        </p>
      ) : null}
    </Panel>
  );
}
