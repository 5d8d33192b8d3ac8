// Recent requests (feature O4): the newest requests the proxy finished, loaded with `requests:list` and kept
// current from `requests:recorded` events, filtered by outcome and worker, and the timeline of the one the
// user opened (`requests:get`). The event wiring is in create-app-store.ts. Layer: renderer (no DOM).

import { isAppError } from '../../shared/api/envelope';
import {
  isOkOutcome,
  REQUEST_OUTCOMES,
  type RequestDetail,
  type RequestOutcome,
  type RequestQuery,
  type RequestsRecordedEvent,
  type RequestSummary,
} from '../../shared/model/requests';
import { describeError } from '../lib/error-text';
import type { SliceCreator } from './store-types';

/** Rows the table keeps. */
export const RECENT_REQUESTS_MAX = 200;

/** The table's filter: outcome group and one worker (console id) or all. */
export interface RequestsFilter {
  outcome: 'all' | 'ok' | 'errors';
  worker: string | null;
}

/** The request whose timeline is open. */
export interface OpenRequest {
  key: string;
  id: number;
  detail: RequestDetail | null;
  error: string | null;
}

export interface RequestsSlice {
  recentRequests: RequestSummary[];
  requestsLoaded: boolean;
  requestsError: string | null;
  requestsFilter: RequestsFilter;
  openRequest: OpenRequest | null;
  loadRequests: () => Promise<void>;
  applyRequestsRecorded: (event: RequestsRecordedEvent) => void;
  setRequestsFilter: (patch: Partial<RequestsFilter>) => Promise<void>;
  /** Opens (fetches) the timeline of one row, or closes it with null. */
  openRequestTimeline: (row: RequestSummary | null) => Promise<void>;
}

/** A row's identity: proxy ids restart with the proxy, so the arrival time is part of it. */
export function requestKey(r: Pick<RequestSummary, 'id' | 'receivedAtMs'>): string {
  return `${r.id}@${r.receivedAtMs}`;
}

/** The `requests:list` query of a filter. */
function queryOfFilter(f: RequestsFilter): RequestQuery {
  const q: RequestQuery = { limit: RECENT_REQUESTS_MAX };
  if (f.outcome === 'ok') q.outcomes = REQUEST_OUTCOMES.filter(isOkOutcome);
  if (f.outcome === 'errors') {
    q.outcomes = REQUEST_OUTCOMES.filter((o: RequestOutcome) => !isOkOutcome(o));
  }
  if (f.worker !== null) q.worker = f.worker;
  return q;
}

/** True when a row passes the filter (events are filtered here, the list by the backend). */
function matchesFilter(r: RequestSummary, f: RequestsFilter): boolean {
  if (f.outcome === 'ok' && !isOkOutcome(r.outcome)) return false;
  if (f.outcome === 'errors' && isOkOutcome(r.outcome)) return false;
  if (f.worker !== null && r.ctxWorkerId !== f.worker && r.genWorkerId !== f.worker) return false;
  return true;
}

/** New rows merged in front of the old ones, newest first, no key twice, bounded. */
export function mergeRecent(
  current: readonly RequestSummary[],
  incoming: readonly RequestSummary[],
): RequestSummary[] {
  const seen = new Set<string>();
  const out: RequestSummary[] = [];
  for (const r of [...incoming, ...current]) {
    const k = requestKey(r);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  out.sort((a, b) => b.doneAtMs - a.doneAtMs);
  return out.slice(0, RECENT_REQUESTS_MAX);
}

export const createRequestsSlice: SliceCreator<RequestsSlice> = (set, get, { api }) => ({
  recentRequests: [],
  requestsLoaded: false,
  requestsError: null,
  requestsFilter: { outcome: 'all', worker: null },
  openRequest: null,
  loadRequests: async () => {
    const filter = get().requestsFilter;
    try {
      const rows = await api.invoke('requests:list', queryOfFilter(filter));
      // A filter changed while this call ran: its own load wins.
      if (get().requestsFilter !== filter) return;
      set({ recentRequests: rows, requestsLoaded: true, requestsError: null });
    } catch (err) {
      set({ requestsLoaded: true, requestsError: describeError(err) });
    }
  },
  applyRequestsRecorded: (event) => {
    const filter = get().requestsFilter;
    const rows = event.requests.filter((r) => matchesFilter(r, filter));
    if (rows.length === 0) return;
    set({ recentRequests: mergeRecent(get().recentRequests, rows) });
  },
  setRequestsFilter: async (patch) => {
    set({ requestsFilter: { ...get().requestsFilter, ...patch } });
    await get().loadRequests();
  },
  openRequestTimeline: async (row) => {
    if (row === null) {
      set({ openRequest: null });
      return;
    }
    const key = requestKey(row);
    set({ openRequest: { key, id: row.id, detail: null, error: null } });
    let patch: Pick<OpenRequest, 'detail' | 'error'>;
    try {
      const detail = await api.invoke('requests:get', row.id);
      patch =
        detail.receivedAtMs === row.receivedAtMs
          ? { detail, error: null }
          : { detail: null, error: 'This request is no longer held (the proxy restarted since).' };
    } catch (err) {
      patch = {
        detail: null,
        error:
          isAppError(err) && err.code === 'NOT_FOUND'
            ? 'This request is no longer held: only the most recent ones are kept.'
            : describeError(err),
      };
    }
    // Another row was opened meanwhile.
    if (get().openRequest?.key === key) set({ openRequest: { key, id: row.id, ...patch } });
  },
});
