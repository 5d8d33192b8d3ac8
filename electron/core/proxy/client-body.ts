// Reads a client's request body under three bounds, before the request may take an admission slot:
// a size limit (413), a deadline for the whole body, and a minimum rate after a grace period (408).
// A client that sends its headers and then a byte a second would otherwise hold whatever it was given
// for as long as it likes (issue #15, slow-body denial of service; nginx's client_body_timeout and
// Kestrel's MinRequestBodyDataRate are the models). Deadlines run on a shared sweep, not a timer per
// request. Layer: core.
import type { EventEmitter } from 'node:events';

import type { Deadlined, DeadlineSweep } from './deadline-sweep';

export interface BodyLimits {
  maxBytes: number;
  /** The whole body must have arrived this long after reading started. */
  timeoutMs: number;
  /** After `rateGraceMs`, the average rate since the start must stay at or above this (0: no rate check). */
  minBytesPerS: number;
  rateGraceMs: number;
}

/** Why no body: over the limit (413), past the deadline or below the rate (408), or the client left. */
export type BodyFailure = 'too_large' | 'timeout' | 'too_slow' | 'aborted';

/** The parts of an IncomingMessage the reader uses (tests pass an EventEmitter with headers). */
export interface BodySource extends EventEmitter {
  headers: { 'content-length'?: string | undefined };
}

/** How often the rate is re-checked once the grace period is over. */
const RATE_CHECK_MS = 1_000;

class BodyRead implements Deadlined {
  slot = -1;
  deadline: number;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private isDone = false;
  private readonly startedAt: number;
  private readonly endsAt: number;
  private resolve!: (r: Buffer | BodyFailure) => void;
  readonly result: Promise<Buffer | BodyFailure>;

  constructor(
    private readonly source: BodySource,
    private readonly limits: BodyLimits,
    private readonly sweep: DeadlineSweep,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
    this.startedAt = sweep.now();
    this.endsAt = this.startedAt + limits.timeoutMs;
    this.deadline = limits.minBytesPerS > 0 ? Math.min(this.endsAt, this.startedAt + limits.rateGraceMs) : this.endsAt;
    sweep.add(this);
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.once('error', this.onGone);
    source.once('close', this.onGone);
  }

  onDeadline(now: number): void {
    if (now >= this.endsAt) return this.settle('timeout');
    const elapsedS = (now - this.startedAt) / 1000;
    if (this.size < this.limits.minBytesPerS * elapsedS) return this.settle('too_slow');
    this.deadline = Math.min(this.endsAt, now + RATE_CHECK_MS);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.isDone) return;
    this.size += chunk.length;
    if (this.size > this.limits.maxBytes) return this.settle('too_large');
    this.chunks.push(chunk);
  };

  private readonly onEnd = (): void => {
    this.settle(this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks));
  };

  private readonly onGone = (): void => this.settle('aborted');

  private settle(r: Buffer | BodyFailure): void {
    if (this.isDone) return;
    this.isDone = true;
    this.sweep.delete(this);
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onGone);
    this.source.off('close', this.onGone);
    this.resolve(r);
  }
}

/** The body as one buffer, or why not. A declared Content-Length over the limit fails at once. */
export function readClientBody(source: BodySource, limits: BodyLimits, sweep: DeadlineSweep): Promise<Buffer | BodyFailure> {
  const declared = Number(source.headers['content-length'] ?? -1);
  if (declared > limits.maxBytes) return Promise.resolve('too_large');
  return new BodyRead(source, limits, sweep).result;
}
