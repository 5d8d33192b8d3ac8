// The phases of one proxied request for a timeline bar (features O4, G2), from the timestamps the proxy took
// (docs/architecture.md "The request path"): proxy routing, context queue + prefill, KV hand-off (the
// generation request sent, the KV cache pulled and the request scheduled, until the generation worker's
// first byte), generation until done, and a tick per token. Layer: shared (pure).

import type { RequestDetail } from '../model/requests';

/** Kinds of timeline segments (each has its colour in the UI). */
export type TimelineKind = 'proxy' | 'context' | 'handoff' | 'generation' | 'tokens';

/** One phase, in ms from the request's arrival (or from the send, for the browser's view). */
export interface TimelineSegment {
  kind: TimelineKind;
  label: string;
  fromMs: number;
  toMs: number;
}

/** The whole bar of one request. */
export interface RequestTimeline {
  segments: TimelineSegment[];
  /** Token times in ms from arrival. */
  ticksMs: number[];
  totalMs: number;
}

/** Segments and ticks of one request; zero-length phases are left out, missing timestamps skip their phase. */
export function requestTimeline(d: RequestDetail): RequestTimeline {
  const t0 = d.receivedAtMs;
  const rel = (t: number | null): number | null => (t === null ? null : Math.max(0, t - t0));
  const ctxSent = rel(d.ctxSentAtMs);
  const ctxAnswered = rel(d.ctxAnsweredAtMs);
  const genSent = rel(d.genSentAtMs);
  const firstByte = rel(d.firstByteAtMs);
  const done = Math.max(0, d.doneAtMs - t0);
  const out: TimelineSegment[] = [];
  const push = (
    kind: TimelineKind,
    label: string,
    from: number | null,
    to: number | null,
  ): void => {
    if (from !== null && to !== null && to > from) {
      out.push({ kind, label, fromMs: from, toMs: to });
    }
  };
  const firstUpstream = ctxSent ?? genSent;
  push('proxy', 'proxy routing', 0, firstUpstream ?? done);
  if (ctxSent !== null) push('context', 'context queue + prefill', ctxSent, ctxAnswered ?? done);
  if (genSent !== null) {
    // Without a context phase (conditional disaggregation, gen-only) the same span is the generation queue.
    const from = ctxAnswered ?? genSent;
    push(
      'handoff',
      ctxAnswered === null ? 'generation queue' : 'KV hand-off',
      from,
      firstByte ?? done,
    );
    push('generation', 'generation', firstByte, done);
  } else if (ctxAnswered !== null) {
    // The context phase answered the whole request (trtllm-protocol.md 5.5): only the relay remains.
    push('tokens', 'answer relayed', ctxAnswered, done);
  }
  const ticksMs = d.tokenTimesMs.map((t) => Math.max(0, t - t0));
  return { segments: out, ticksMs, totalMs: Math.max(done, ticksMs[ticksMs.length - 1] ?? 0) };
}
