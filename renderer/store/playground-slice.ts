// Playground (features G1-G4): chat/completions requests streamed from the LLM proxy with a stop button,
// sampling parameters, a system prompt, per-response metrics and route pins, optionally two routes side by
// side. Requests go to the proxy's own port (proxy:info), not through the console API. After an answer, the
// proxy's own timeline of the request is fetched with `requests:get` by its `x-disagg-request-id` header.
// Column B may target another base URL (a second proxy, a single aggregated worker) with its own timings.
// Layer: renderer.

import { isAppError } from '../../shared/api/envelope';
import { describeError } from '../lib/error-text';
import { type PlaygroundRequest, runStreamingRequest } from '../lib/openai-request';
import { selectDefaultModel } from './selectors';
import type { PlaygroundRun, PlaygroundSlice, ServerTimeline, SliceCreator } from './store-types';

/** How long to wait for the proxy's record after an answer: records reach the backend in 200 ms batches. */
export const SERVER_TIMELINE_TRIES = 12;
export const SERVER_TIMELINE_RETRY_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when `url` is the console's proxy (same origin), whatever its trailing slashes. */
function isSameBase(url: string, proxyUrl: string): boolean {
  const norm = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase();
  return norm(url) === norm(proxyUrl);
}

/** What one column (A or B) sends: where, what, and the controller its Stop aborts. */
interface SideJob {
  side: 0 | 1;
  proxyUrl: string;
  request: PlaygroundRequest;
  controller: AbortController;
}

export const createPlaygroundSlice: SliceCreator<PlaygroundSlice> = (
  set,
  get,
  { api, now, fetch },
) => {
  let controllers: AbortController[] = [];

  const updateRun = (side: 0 | 1, patch: Partial<PlaygroundRun>): void => {
    const runs = [...get().pgRuns] as PlaygroundSlice['pgRuns'];
    const run = runs[side];
    if (!run) return;
    runs[side] = { ...run, ...patch };
    set({ pgRuns: runs });
  };

  const setServer = (side: 0 | 1, run: PlaygroundRun, server: ServerTimeline): void => {
    // Only while the same run is shown (a new Send replaces it).
    if (get().pgRuns[side] === run || get().pgRuns[side]?.request === run.request) {
      updateRun(side, { server });
    }
  };

  /** Fetches the proxy's record of the request by its x-disagg-request-id, retrying until it arrived. */
  const fetchServerTimeline = async (side: 0 | 1): Promise<void> => {
    const run = get().pgRuns[side];
    if (!run?.isConsoleProxy) return;
    const idText = run.metrics?.requestId ?? null;
    const id = idText === null ? NaN : Number(idText);
    if (!Number.isInteger(id) || id < 0) {
      setServer(side, run, { status: 'absent', detail: null, message: null });
      return;
    }
    setServer(side, run, { status: 'loading', detail: null, message: null });
    for (let attempt = 0; attempt < SERVER_TIMELINE_TRIES; attempt++) {
      try {
        const detail = await api.invoke('requests:get', id);
        // A record from before a proxy restart has the same id but arrived before this request was sent.
        if (run.metrics && detail.receivedAtMs + 1000 < run.metrics.sentAtMs) {
          throw new Error('stale');
        }
        setServer(side, run, { status: 'ok', detail, message: null });
        return;
      } catch (err) {
        const isMissing =
          (isAppError(err) && err.code === 'NOT_FOUND') ||
          (err instanceof Error && err.message === 'stale');
        if (!isMissing) {
          setServer(side, run, { status: 'error', detail: null, message: describeError(err) });
          return;
        }
      }
      await sleep(SERVER_TIMELINE_RETRY_MS);
    }
    setServer(side, run, {
      status: 'error',
      detail: null,
      message: `The proxy's record of request ${id} did not arrive.`,
    });
  };

  /** One column's request: stream the answer, then fetch the proxy's record of it. */
  const runSide = async (job: SideJob): Promise<void> => {
    await sendSide(job);
    await fetchServerTimeline(job.side);
  };

  const sendSide = async ({ side, proxyUrl, request, controller }: SideJob): Promise<void> => {
    if (!fetch) {
      updateRun(side, { status: 'error', error: 'This window cannot make HTTP requests.' });
      return;
    }
    let text = '';
    try {
      await runStreamingRequest(
        fetch,
        proxyUrl,
        request,
        controller.signal,
        {
          onText: (t) => {
            text += t;
            updateRun(side, { text });
          },
          onMetrics: (metrics) => updateRun(side, { metrics }),
        },
        now,
      );
      updateRun(side, { status: 'done' });
    } catch (err) {
      if (controller.signal.aborted) updateRun(side, { status: 'stopped' });
      else if (err instanceof TypeError) {
        // fetch rejects with a bare TypeError ("Failed to fetch") for network and CORS failures alike.
        updateRun(side, {
          status: 'error',
          error: `The browser could not reach the proxy at ${proxyUrl} (${err.message}). Check that it is running; from a browser it must also allow this page's origin (CORS).`,
        });
      } else updateRun(side, { status: 'error', error: describeError(err) });
    }
  };

  return {
    proxy: null,
    proxyError: null,
    pgMode: 'chat',
    pgModel: '',
    pgSystemPrompt: 'You are a concise assistant.',
    pgPrompt: '',
    pgParams: { temperature: 0.7, topP: 0.95, maxTokens: 128, stop: [], seed: null },
    pgCompare: false,
    pgRoutes: [{}, {}],
    pgRuns: [null, null],
    pgTargetB: '',
    loadProxy: async () => {
      try {
        set({ proxy: await api.invoke('proxy:info'), proxyError: null });
      } catch (err) {
        set({ proxyError: describeError(err) });
      }
    },
    setPlayground: (patch) => set(patch),
    setParams: (patch) => set({ pgParams: { ...get().pgParams, ...patch } }),
    setRoute: (side, route) => {
      const routes = [...get().pgRoutes] as PlaygroundSlice['pgRoutes'];
      routes[side] = route;
      set({ pgRoutes: routes });
    },
    sendPrompt: async () => {
      get().stopPrompt();
      if (!get().proxy) await get().loadProxy();
      const {
        proxy,
        pgMode,
        pgModel,
        pgSystemPrompt,
        pgPrompt,
        pgParams,
        pgCompare,
        pgRoutes,
        pgTargetB,
      } = get();
      if (!proxy) {
        get().notify(
          'error',
          `The proxy address is unknown: ${get().proxyError ?? 'proxy:info failed'}`,
        );
        return;
      }
      if (pgPrompt.trim() === '') return;
      const sides: (0 | 1)[] = pgCompare ? [0, 1] : [0];
      const model = pgModel.trim() !== '' ? pgModel : selectDefaultModel(get());
      const runs: PlaygroundSlice['pgRuns'] = [null, pgCompare ? get().pgRuns[1] : null];
      const targets = sides.map((side) =>
        side === 1 && pgTargetB.trim() !== '' ? pgTargetB.trim().replace(/\/+$/, '') : proxy.url,
      );
      const requests = sides.map((side, i) => {
        const targetUrl = targets[i]!;
        const isConsoleProxy = isSameBase(targetUrl, proxy.url);
        const request: PlaygroundRequest = {
          mode: pgMode,
          model,
          systemPrompt: pgSystemPrompt,
          prompt: pgPrompt,
          params: pgParams,
          // Worker pins mean something only to the console's proxy.
          route: isConsoleProxy ? pgRoutes[side] : {},
        };
        runs[side] = {
          request,
          text: '',
          metrics: null,
          status: 'streaming',
          error: null,
          targetUrl,
          isConsoleProxy,
          server: null,
        };
        return request;
      });
      set({ pgRuns: runs });
      controllers = sides.map(() => new AbortController());
      const mine = controllers;
      await Promise.all(
        sides.map((side, i) =>
          runSide({ side, proxyUrl: targets[i]!, request: requests[i]!, controller: mine[i]! }),
        ),
      );
    },
    stopPrompt: () => {
      for (const c of controllers) c.abort();
      controllers = [];
    },
  };
};
