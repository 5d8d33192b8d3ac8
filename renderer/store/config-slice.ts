// Configuration (features K1-K5): the draft next to what was applied, backend pre-flight, Apply with a
// preview of the plan, history with diffs and rollback, import and export. The draft is the backend's (the
// cluster mirror's `draft`, so every window sees one draft); this slice only holds edits typed in the last
// moment before they are saved, and results of the user's own requests. Inline lint of one file runs in the
// editor from the shared parsers; this slice holds the cross-file report. Layer: renderer.

import type { TopologyFiles } from '../../shared/model/topology';
import { describeError } from '../lib/error-text';
import { previewApplyPlan } from '../lib/plan-preview';
import { selectDraftBase, selectDraftFiles, selectTopology } from './selectors';
import type { ConfigSlice, SliceCreator } from './store-types';

/** The pause after the last keystroke before the draft is saved to the backend. */
export const DRAFT_SAVE_DELAY_MS = 500;

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

/** True when two file sets have the same names and texts. */
export function sameFiles(a: TopologyFiles | undefined, b: TopologyFiles | undefined): boolean {
  if (!a || !b) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export const createConfigSlice: SliceCreator<ConfigSlice> = (set, get, { api }) => {
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  const cancelSave = (): void => {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = null;
  };

  /** Topology history changes with every apply and rollback. */
  const afterTopologyChange = async (): Promise<void> => {
    await get().loadHistory();
  };

  return {
    draftEdits: null,
    draftEditsSavedAt: null,
    activeFile: null,
    validation: null,
    isValidating: false,
    pendingPlan: null,
    isApplying: false,
    lastApply: null,
    applyError: null,
    importError: null,
    history: [],
    diff: null,
    setActiveFile: (activeFile) => set({ activeFile }),
    setDraft: (name, text) => {
      set({
        draftEdits: { ...selectDraftFiles(get()), [name]: text },
        draftEditsSavedAt: null,
        pendingPlan: null,
      });
      cancelSave();
      saveTimer = setTimeout(() => {
        saveTimer = null;
        void get().flushDraft();
      }, DRAFT_SAVE_DELAY_MS);
    },
    flushDraft: async () => {
      cancelSave();
      const edits = get().draftEdits;
      if (!edits || get().draftEditsSavedAt !== null) return true;
      const outcome = await get().runCommand({
        kind: 'saveDraft',
        files: edits,
        baseTopologyVersion: selectDraftBase(get()),
      });
      if (!outcome.ok) {
        get().notify('error', `The draft was not saved: ${outcome.message}`);
        return false;
      }
      // Typed on meanwhile: those edits are saved by their own timer.
      if (get().draftEdits === edits) set({ draftEditsSavedAt: outcome.result.version });
      get().settleDraftEdits();
      return true;
    },
    settleDraftEdits: () => {
      const { draftEdits, draftEditsSavedAt, cluster } = get();
      if (!draftEdits || !cluster) return;
      const isSaved = draftEditsSavedAt !== null && cluster.version >= draftEditsSavedAt;
      if (isSaved || sameFiles(draftEdits, cluster.draft?.files)) {
        set({ draftEdits: null, draftEditsSavedAt: null });
      }
    },
    revertDrafts: async () => {
      cancelSave();
      set({
        draftEdits: null,
        draftEditsSavedAt: null,
        validation: null,
        pendingPlan: null,
        applyError: null,
      });
      if (!get().cluster?.draft) return;
      const outcome = await get().runCommand({ kind: 'discardDraft' });
      if (!outcome.ok) get().notify('error', `The draft was not discarded: ${outcome.message}`);
    },
    validateDrafts: async () => {
      set({ isValidating: true });
      try {
        set({ validation: await api.invoke('topology:validate', selectDraftFiles(get())) });
      } catch (err) {
        get().notify('error', `Pre-flight failed: ${describeError(err)}`);
      } finally {
        set({ isValidating: false });
      }
    },
    requestApply: async () => {
      if (!(await get().flushDraft())) return;
      await get().validateDrafts();
      const plan = previewApplyPlan(selectTopology(get())?.files ?? {}, selectDraftFiles(get()));
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
        if (!(await get().flushDraft())) return false;
        const outcome = await get().runCommand({
          kind: 'applyConfig',
          files: selectDraftFiles(get()),
          baseTopologyVersion: selectDraftBase(get()),
        });
        if (!outcome.ok) {
          set({
            applyError: { message: outcome.message, issues: outcome.issues },
            pendingPlan: null,
          });
          return false;
        }
        const result = outcome.result.applied ?? null;
        set({ lastApply: result, pendingPlan: null, validation: null });
        get().notify(
          'success',
          result
            ? `Applied version ${result.version}: ${result.plan.start.length} started, ${result.plan.restart.length} restarted, ${result.plan.stop.length} stopped`
            : outcome.result.summary,
        );
        await afterTopologyChange();
        return true;
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
      const outcome = await get().runCommand({ kind: 'rollback', version });
      if (!outcome.ok) {
        get().notify('error', `Rollback: ${outcome.message}`);
        return;
      }
      const now = outcome.result.applied?.version;
      get().notify(
        'success',
        `Rolled back to version ${version}${now !== undefined ? ` (now version ${now})` : ''}`,
      );
      await afterTopologyChange();
    },
    importFiles: async (files) => {
      cancelSave();
      set({ importError: null });
      const outcome = await get().runCommand({ kind: 'importFiles', files });
      if (!outcome.ok) {
        set({ importError: { message: outcome.message, issues: outcome.issues } });
        return;
      }
      const issues = outcome.result.imported?.issues ?? [];
      if (issues.some((i) => i.severity === 'error')) {
        // The backend kept the draft as it was; say what is wrong where, next to the import button.
        set({ importError: { message: outcome.result.summary, issues } });
        return;
      }
      // The imported files arrive as the mirror's draft; the editor opens on its first file.
      set({ draftEdits: null, draftEditsSavedAt: null, validation: null, activeFile: null });
      get().notify('info', `${outcome.result.summary}. Review, then Apply.`);
    },
    exportTopology: async (format) => {
      try {
        return await api.invoke('topology:export', { format });
      } catch (err) {
        get().notify('error', `Export: ${describeError(err)}`);
        return [];
      }
    },
  };
};
