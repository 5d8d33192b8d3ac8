// Timeline segments of one request from the proxy's timestamps.
import { describe, expect, it } from 'vitest';

import { requestTimeline } from '../../../../shared/logic/request-timeline';
import type { RequestDetail } from '../../../../shared/model/requests';

function detail(patch: Partial<RequestDetail> = {}): RequestDetail {
  return {
    id: 1,
    endpoint: 'chat',
    isStream: true,
    receivedAtMs: 1000,
    doneAtMs: 1115,
    outcome: 'ok',
    status: 200,
    ctxWorkerUrl: 'http://127.0.0.1:8001',
    genWorkerUrl: 'http://127.0.0.1:8002',
    ctxWorkerId: 'ctx0',
    genWorkerId: 'gen0',
    promptTokens: 12,
    completionTokens: 3,
    ttftMs: 80,
    tpotMs: 10,
    e2eMs: 115,
    retries: 0,
    errorMessage: null,
    ctxSentAtMs: 1001,
    ctxAnsweredAtMs: 1050,
    genSentAtMs: 1052,
    firstByteAtMs: 1070,
    tokenTimesMs: [1080, 1090, 1100],
    tokenEvents: 3,
    ...patch,
  };
}

const brief = (d: RequestDetail): [string, number, number][] =>
  requestTimeline(d).segments.map((s) => [s.kind, s.fromMs, s.toMs]);

describe('requestTimeline', () => {
  it('splits a disaggregated request into proxy, context, hand-off and generation, with token ticks', () => {
    expect(brief(detail())).toEqual([
      ['proxy', 0, 1],
      ['context', 1, 50],
      ['handoff', 50, 70],
      ['generation', 70, 115],
    ]);
    expect(requestTimeline(detail()).ticksMs).toEqual([80, 90, 100]);
    expect(requestTimeline(detail()).totalMs).toBe(115);
  });

  it.each([
    {
      name: 'no context phase: generation queue',
      patch: { ctxSentAtMs: null, ctxAnsweredAtMs: null, ctxWorkerUrl: null },
      want: [
        ['proxy', 0, 52],
        ['handoff', 52, 70],
        ['generation', 70, 115],
      ],
    },
    {
      name: 'context phase finished the request',
      patch: {
        genSentAtMs: null,
        firstByteAtMs: null,
        outcome: 'ok_context_only' as const,
        tokenTimesMs: [],
      },
      want: [
        ['proxy', 0, 1],
        ['context', 1, 50],
        ['tokens', 50, 115],
      ],
    },
    {
      name: 'rejected before any upstream call',
      patch: {
        ctxSentAtMs: null,
        ctxAnsweredAtMs: null,
        genSentAtMs: null,
        firstByteAtMs: null,
        tokenTimesMs: [],
        doneAtMs: 1002,
      },
      want: [['proxy', 0, 2]],
    },
    {
      name: 'context failed: its phase runs to done',
      patch: {
        ctxAnsweredAtMs: null,
        genSentAtMs: null,
        firstByteAtMs: null,
        tokenTimesMs: [],
        doneAtMs: 1030,
      },
      want: [
        ['proxy', 0, 1],
        ['context', 1, 30],
      ],
    },
  ])('$name', ({ patch, want }) => {
    expect(brief(detail(patch))).toEqual(want);
  });
});
