// Playground (features G1-G4): chat/completions requests streamed from the LLM proxy with a stop button,
// sampling parameters, a system prompt, per-response metrics and route pins, optionally two routes side by
// side. Requests go to the proxy's own port (proxy:info), not through the console API. Layer: renderer.

import { describeError } from '../lib/error-text';
import { type PlaygroundRequest, runStreamingRequest } from '../lib/openai-request';
import { selectDefaultModel } from './selectors';
import type { PlaygroundRun, PlaygroundSlice, SliceCreator } from './store-types';

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

  const runSide = async (
    side: 0 | 1,
    proxyUrl: string,
    request: PlaygroundRequest,
    controller: AbortController,
  ): Promise<void> => {
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
      const { proxy, pgMode, pgModel, pgSystemPrompt, pgPrompt, pgParams, pgCompare, pgRoutes } =
        get();
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
      const requests = sides.map((side) => {
        const request: PlaygroundRequest = {
          mode: pgMode,
          model,
          systemPrompt: pgSystemPrompt,
          prompt: pgPrompt,
          params: pgParams,
          route: pgRoutes[side],
        };
        runs[side] = { request, text: '', metrics: null, status: 'streaming', error: null };
        return request;
      });
      set({ pgRuns: runs });
      controllers = sides.map(() => new AbortController());
      const mine = controllers;
      await Promise.all(sides.map((side, i) => runSide(side, proxy.url, requests[i]!, mine[i]!)));
    },
    stopPrompt: () => {
      for (const c of controllers) c.abort();
      controllers = [];
    },
  };
};
