// Configuration (features K1-K5): the topology files as drafts next to what was applied, backend pre-flight,
// Apply with a preview of the plan, history with diffs and rollback, import and export. Inline lint of one
// file runs in the editor from the shared parsers; this slice holds the cross-file report. Layer: renderer.

import { isAppError } from '../../shared/api/envelope';
import type { ConfigIssue } from '../../shared/logic/config-issues';
import { describeError } from '../lib/error-text';
import { previewApplyPlan } from '../lib/plan-preview';
import type { ConfigSlice, SliceCreator } from './store-types';

/** Issues an APPLY_FAILED/CONFIG_INVALID error carries in `details.issues`, when it does. */
function issuesOf(err: unknown): ConfigIssue[] {
  if (
    !isAppError(err) ||
    typeof err.details !== 'object' ||
    err.details === null ||
    Array.isArray(err.details)
  ) {
    return [];
  }
  const raw: unknown = (err.details as { issues?: unknown }).issues;
  if (!Array.isArray(raw)) return [];
  const list: unknown[] = raw;
  return list.filter(
    (i): i is ConfigIssue =>
      typeof i === 'object' &&
      i !== null &&
      typeof (i as { message?: unknown }).message === 'string',
  );
}

const FILE_ORDER = ['disagg_config.yaml', 'console.yaml', 'metadata_config.yaml'];

/** Files in the order the editor lists them: proxy config, console.yaml, metadata, then worker options. */
export function orderedFileNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => {
    const ia = FILE_ORDER.indexOf(a);
    const ib = FILE_ORDER.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    return a.localeCompare(b, 'en', { numeric: true });
  });
}

export const createConfigSlice: SliceCreator<ConfigSlice> = (set, get, { api }) => ({
  topology: null,
  topologyError: null,
  drafts: {},
  activeFile: null,
  validation: null,
  isValidating: false,
  pendingPlan: null,
  isApplying: false,
  lastApply: null,
  applyError: null,
  history: [],
  diff: null,
  loadTopology: async () => {
    try {
      const topology = await api.invoke('topology:get');
      const names = orderedFileNames(Object.keys(topology.files));
      const active = get().activeFile;
      set({
        topology,
        topologyError: null,
        drafts: { ...topology.files },
        activeFile: active && names.includes(active) ? active : (names[0] ?? null),
      });
    } catch (err) {
      set({ topologyError: describeError(err) });
    }
  },
  setActiveFile: (activeFile) => set({ activeFile }),
  setDraft: (name, text) => set({ drafts: { ...get().drafts, [name]: text }, pendingPlan: null }),
  revertDrafts: () =>
    set({
      drafts: { ...(get().topology?.files ?? {}) },
      validation: null,
      pendingPlan: null,
      applyError: null,
    }),
  validateDrafts: async () => {
    set({ isValidating: true });
    try {
      set({ validation: await api.invoke('topology:validate', get().drafts) });
    } catch (err) {
      get().notify('error', `Pre-flight failed: ${describeError(err)}`);
    } finally {
      set({ isValidating: false });
    }
  },
  requestApply: async () => {
    await get().validateDrafts();
    const plan = previewApplyPlan(get().topology?.files ?? {}, get().drafts);
    if (!plan) {
      set({
        applyError: { message: 'console.yaml cannot be read: fix its YAML first.', issues: [] },
      });
      return;
    }
    set({ pendingPlan: plan, applyError: null });
  },
  cancelApply: () => set({ pendingPlan: null }),
  confirmApply: async () => {
    set({ isApplying: true, applyError: null });
    try {
      const result = await api.invoke('topology:apply', get().drafts);
      set({ lastApply: result, pendingPlan: null });
      get().notify(
        'success',
        `Applied version ${result.version}: ${result.plan.start.length} started, ${result.plan.restart.length} restarted, ${result.plan.stop.length} stopped`,
      );
      await Promise.all([get().loadTopology(), get().loadHistory(), get().loadWorkers()]);
      return true;
    } catch (err) {
      set({
        applyError: { message: describeError(err), issues: issuesOf(err) },
        pendingPlan: null,
      });
      return false;
    } finally {
      set({ isApplying: false });
    }
  },
  loadHistory: async () => {
    try {
      set({ history: await api.invoke('topology:history') });
    } catch (err) {
      get().notify('error', `History: ${describeError(err)}`);
    }
  },
  loadDiff: async (from, to) => {
    try {
      set({ diff: { from, to, files: await api.invoke('topology:diff', from, to) } });
    } catch (err) {
      get().notify('error', `Diff: ${describeError(err)}`);
    }
  },
  rollback: async (version) => {
    try {
      const result = await api.invoke('topology:rollback', version);
      get().notify('success', `Rolled back to version ${version} (now version ${result.version})`);
      await Promise.all([get().loadTopology(), get().loadHistory(), get().loadWorkers()]);
    } catch (err) {
      get().notify('error', `Rollback: ${describeError(err)}`);
    }
  },
  importFiles: async (files) => {
    try {
      const result = await api.invoke('topology:import', files);
      const names = orderedFileNames(Object.keys(result.files));
      set({
        drafts: result.files,
        activeFile: names[0] ?? null,
        validation: {
          ok: !result.issues.some((i) => i.severity === 'error'),
          issues: result.issues,
        },
      });
      get().notify(
        'info',
        `Imported ${names.length} file(s) (${result.format === 'mpi-worker' ? 'deprecated MPI worker format, converted' : 'upstream files'}). Review, then Apply.`,
      );
    } catch (err) {
      get().notify('error', `Import: ${describeError(err)}`);
    }
  },
  exportTopology: async (format) => {
    try {
      return await api.invoke('topology:export', { format });
    } catch (err) {
      get().notify('error', `Export: ${describeError(err)}`);
      return [];
    }
  },
});
