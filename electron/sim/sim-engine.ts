// The simulated executor: an in-flight batching scheduler. Requests wait in a FIFO queue, are admitted
// while the batch has room (max_batch_size), the iteration's token budget allows (max_num_tokens) and the
// KV cache has space (reserved for prompt + max new tokens, like upstream's GUARANTEED_NO_EVICT policy),
// then run one iteration at a time: the iteration's duration comes from the timing model with the current
// numbers of context tokens and decoding requests, and every active request advances by one token.
// Layer: electron/sim (plain Node). The clock and the timer are injectable so tests run without waiting.

/** How long one executor iteration takes (ms) for a mix of prefills and decoding requests. */
export interface IterationTiming {
  /**
   * @param prefillTokens the prompt tokens of each request prefilled in this iteration
   * @param generationRequests requests doing one decode step
   * @param avgContextTokens their average context (prompt + generated so far), which the step reads from the KV cache
   */
  iterationMs(
    prefillTokens: readonly number[],
    generationRequests: number,
    avgContextTokens: number,
  ): number;
}

export interface EngineLimits {
  maxBatchSize: number;
  maxNumTokens: number;
  /** KV cache capacity in tokens (blocks x tokens_per_block). */
  kvCapacityTokens: number;
  tokensPerBlock: number;
}

/** One request as the engine sees it. */
export interface EngineJob {
  /** Tokens to prefill in the first iteration (0 for a generation-only request whose KV was transferred). */
  prefillTokens: number;
  /** KV tokens reserved from admission until the job ends (prompt + max new tokens). */
  kvTokens: number;
  /** Tokens in the KV cache when decoding starts (the prompt); default prefillTokens. */
  contextTokens?: number;
  /** Called when the job enters the batch (perf metrics: first_scheduled_time, queue latency). */
  onScheduled?: (nowMs: number, iteration: number) => void;
  /** Called at the end of every iteration the job took part in; returns true when the job is finished. */
  step: (nowMs: number, iteration: number) => boolean;
  /** Called when the job can never fit (larger than the KV cache); the job is dropped. */
  onRejected?: (reason: string) => void;
}

export interface EngineHandle {
  /** Removes the job from the queue or the batch and frees its KV reservation. */
  cancel(): void;
}

/** The iteration statistics of protocol 4.5 (camelCase as upstream's serializer writes them). */
export interface IterationStats {
  iter: number;
  iterLatencyMS: number;
  newActiveRequestsQueueLatencyMS: number;
  numNewActiveRequests: number;
  numActiveRequests: number;
  numQueuedRequests: number;
  numCompletedRequests: number;
  maxNumActiveRequests: number;
  maxBatchSizeStatic: number;
  maxBatchSizeTunerRecommended: number;
  maxBatchSizeRuntime: number;
  maxNumTokensStatic: number;
  maxNumTokensTunerRecommended: number;
  maxNumTokensRuntime: number;
  gpuMemUsage: number;
  cpuMemUsage: number;
  pinnedMemUsage: number;
  timestamp: string;
  kvCacheStats: {
    maxNumBlocks: number;
    freeNumBlocks: number;
    usedNumBlocks: number;
    tokensPerBlock: number;
    allocTotalBlocks: number;
    allocNewBlocks: number;
    reusedBlocks: number;
    missedBlocks: number;
    cacheHitRate: number;
  };
  /** Always present in upstream's JSON; the PyTorch backend does no static batching, so all zeros. */
  staticBatchingStats: {
    numScheduledRequests: number;
    numContextRequests: number;
    numCtxTokens: number;
    numGenTokens: number;
    emptyGenSlots: number;
  };
  inflightBatchingStats: {
    numScheduledRequests: number;
    numContextRequests: number;
    numGenRequests: number;
    numPausedRequests: number;
    numCtxTokens: number;
    microBatchId: number;
    avgNumDecodedTokensPerIter: number;
  };
}

/** Time source and timer, injectable for tests. */
export interface EngineClock {
  nowMs(): number;
  /** Runs fn after delayMs; a delay of 0 must still be asynchronous (setImmediate). */
  schedule(fn: () => void, delayMs: number): void;
}

export const realClock: EngineClock = {
  nowMs: () => performance.now(),
  schedule: (fn, delayMs) => {
    if (delayMs <= 0) setImmediate(fn);
    else setTimeout(fn, delayMs);
  },
};

export interface EngineOptions {
  limits: EngineLimits;
  timing: IterationTiming;
  clock?: EngineClock;
  /** Receives every iteration's statistics (only wired when enable_iter_perf_stats is on). */
  onIteration?: (stats: IterationStats) => void;
  /** Approximate GPU memory in use outside the KV cache (weights), reported in iteration stats. */
  gpuMemUsageBytes?: number;
}

interface Slot {
  job: EngineJob;
  enqueuedAtMs: number;
  /** Decode steps done (tokens generated). */
  steps: number;
  /** True until the job's prefill iteration has run. */
  isContext: boolean;
  isDone: boolean;
}

/** In-flight batching scheduler over an injectable clock. */
export class SimEngine {
  private readonly queue: Slot[] = [];
  private readonly active: Slot[] = [];
  private usedKvTokens = 0;
  private heldKvTokens = 0;
  private iteration = 0;
  private isRunning = false;
  private slowdownFactor = 1;
  private extraIterationMs = 0;
  private readonly clock: EngineClock;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? realClock;
  }

  /** Queues a job; the loop starts if it was idle. */
  submit(job: EngineJob): EngineHandle {
    const slot: Slot = {
      job,
      enqueuedAtMs: this.clock.nowMs(),
      steps: 0,
      isContext: job.prefillTokens > 0,
      isDone: false,
    };
    if (this.kvBlocksFor(job.kvTokens) > this.maxBlocks()) {
      slot.isDone = true;
      job.onRejected?.(
        `request needs ${job.kvTokens} KV tokens but the KV cache holds ${this.options.limits.kvCapacityTokens}`,
      );
      return { cancel: () => undefined };
    }
    this.queue.push(slot);
    this.kick();
    return { cancel: () => this.cancel(slot) };
  }

  /** Tokens the KV cache holds in all. */
  get kvCapacityTokens(): number {
    return this.options.limits.kvCapacityTokens;
  }

  get tokensPerBlock(): number {
    return this.options.limits.tokensPerBlock;
  }

  /** Keeps KV blocks allocated outside any running job (a finished context waiting for its transfer). */
  holdKv(tokens: number): () => void {
    const blocks = this.kvBlocksFor(tokens) * this.options.limits.tokensPerBlock;
    this.heldKvTokens += blocks;
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      this.heldKvTokens -= blocks;
      this.kick();
    };
  }

  /** Fault switch: multiplies every iteration's duration and adds a fixed delay (works in zero-delay mode). */
  setSlowdown(factor: number, extraIterationMs = 0): void {
    this.slowdownFactor = Math.max(0, factor);
    this.extraIterationMs = Math.max(0, extraIterationMs);
  }

  /** Numbers for /metrics, /_sim/info and tests. */
  snapshot(): {
    queued: number;
    active: number;
    usedKvTokens: number;
    heldKvTokens: number;
    iteration: number;
  } {
    return {
      queued: this.queue.length,
      active: this.active.length,
      usedKvTokens: this.usedKvTokens,
      heldKvTokens: this.heldKvTokens,
      iteration: this.iteration,
    };
  }

  private maxBlocks(): number {
    return Math.floor(this.options.limits.kvCapacityTokens / this.options.limits.tokensPerBlock);
  }

  private kvBlocksFor(tokens: number): number {
    return Math.ceil(Math.max(1, tokens) / this.options.limits.tokensPerBlock);
  }

  private cancel(slot: Slot): void {
    if (slot.isDone) return;
    slot.isDone = true;
    const queued = this.queue.indexOf(slot);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return;
    }
    const active = this.active.indexOf(slot);
    if (active >= 0) {
      this.active.splice(active, 1);
      this.usedKvTokens -= this.kvBlocksFor(slot.job.kvTokens) * this.options.limits.tokensPerBlock;
    }
  }

  private kick(): void {
    if (this.isRunning) return;
    if (this.queue.length === 0 && this.active.length === 0) return;
    this.isRunning = true;
    this.clock.schedule(() => this.runIteration(), 0);
  }

  /** Admits what fits, then runs one iteration and schedules its end. */
  private runIteration(): void {
    const { limits } = this.options;
    const startMs = this.clock.nowMs();
    let contextTokens = 0;
    const prefills: number[] = [];
    let decodeCount = 0;
    let decodeContextTokens = 0;
    const contextOf = (slot: Slot): number =>
      (slot.job.contextTokens ?? slot.job.prefillTokens) + slot.steps;
    for (const slot of this.active) {
      if (slot.isContext) continue;
      decodeCount += 1;
      decodeContextTokens += contextOf(slot);
    }
    let newlyAdmitted = 0;
    let queueLatencyMs = 0;
    while (this.queue.length > 0 && this.active.length < limits.maxBatchSize) {
      const slot = this.queue[0];
      if (!slot) break;
      const tokensThisStep = slot.isContext ? slot.job.prefillTokens : 1;
      // The first request of an iteration is always admitted so an oversized prompt cannot stall the queue.
      const isBudgetFull =
        contextTokens + decodeCount > 0 &&
        contextTokens + decodeCount + tokensThisStep > limits.maxNumTokens;
      const kvTokens = this.kvBlocksFor(slot.job.kvTokens) * limits.tokensPerBlock;
      const isKvFull = this.usedKvTokens + this.heldKvTokens + kvTokens > limits.kvCapacityTokens;
      if (isBudgetFull || isKvFull) break;
      this.queue.shift();
      this.usedKvTokens += kvTokens;
      this.active.push(slot);
      newlyAdmitted += 1;
      queueLatencyMs += startMs - slot.enqueuedAtMs;
      if (slot.isContext) {
        contextTokens += slot.job.prefillTokens;
        prefills.push(slot.job.prefillTokens);
      } else {
        decodeCount += 1;
        decodeContextTokens += contextOf(slot);
      }
      slot.job.onScheduled?.(startMs, this.iteration);
    }
    if (this.active.length === 0) {
      // Nothing fits (KV held by finished contexts waiting for transfer): wait for a release.
      this.isRunning = false;
      return;
    }
    const numContext = this.active.filter((s) => s.isContext).length;
    const durationMs =
      this.options.timing.iterationMs(
        prefills,
        decodeCount,
        decodeCount > 0 ? decodeContextTokens / decodeCount : 0,
      ) *
        this.slowdownFactor +
      this.extraIterationMs;
    const iteration = this.iteration;
    this.iteration += 1;
    this.clock.schedule(() => {
      const endMs = this.clock.nowMs();
      let completed = 0;
      for (const slot of [...this.active]) {
        if (slot.isDone) continue;
        slot.isContext = false;
        slot.steps += 1;
        const isFinished = slot.job.step(endMs, iteration);
        if (isFinished) {
          completed += 1;
          this.cancel(slot);
        }
      }
      this.report({
        iteration,
        latencyMs: endMs - startMs,
        newlyAdmitted,
        queueLatencyMs: newlyAdmitted > 0 ? queueLatencyMs / newlyAdmitted : 0,
        completed,
        numContext,
        contextTokens,
        decodeCount,
      });
      this.isRunning = false;
      this.kick();
    }, durationMs);
  }

  private report(r: {
    iteration: number;
    latencyMs: number;
    newlyAdmitted: number;
    queueLatencyMs: number;
    completed: number;
    numContext: number;
    contextTokens: number;
    decodeCount: number;
  }): void {
    const onIteration = this.options.onIteration;
    if (!onIteration) return;
    const { limits } = this.options;
    const maxBlocks = this.maxBlocks();
    const usedBlocks = Math.ceil((this.usedKvTokens + this.heldKvTokens) / limits.tokensPerBlock);
    onIteration({
      iter: r.iteration,
      iterLatencyMS: r.latencyMs,
      newActiveRequestsQueueLatencyMS: r.queueLatencyMs,
      numNewActiveRequests: r.newlyAdmitted,
      numActiveRequests: this.active.length + r.completed,
      numQueuedRequests: this.queue.length,
      numCompletedRequests: r.completed,
      maxNumActiveRequests: limits.maxBatchSize,
      maxBatchSizeStatic: limits.maxBatchSize,
      maxBatchSizeTunerRecommended: limits.maxBatchSize,
      maxBatchSizeRuntime: limits.maxBatchSize,
      maxNumTokensStatic: limits.maxNumTokens,
      maxNumTokensTunerRecommended: limits.maxNumTokens,
      maxNumTokensRuntime: limits.maxNumTokens,
      gpuMemUsage: this.options.gpuMemUsageBytes ?? 0,
      cpuMemUsage: 0,
      pinnedMemUsage: 0,
      timestamp: new Date().toISOString(),
      kvCacheStats: {
        maxNumBlocks: maxBlocks,
        freeNumBlocks: Math.max(0, maxBlocks - usedBlocks),
        usedNumBlocks: usedBlocks,
        tokensPerBlock: limits.tokensPerBlock,
        allocTotalBlocks: usedBlocks,
        allocNewBlocks: Math.ceil(r.contextTokens / limits.tokensPerBlock),
        reusedBlocks: 0,
        missedBlocks: Math.ceil(r.contextTokens / limits.tokensPerBlock),
        cacheHitRate: 0,
      },
      staticBatchingStats: {
        numScheduledRequests: 0,
        numContextRequests: 0,
        numCtxTokens: 0,
        numGenTokens: 0,
        emptyGenSlots: 0,
      },
      inflightBatchingStats: {
        numScheduledRequests: r.numContext + r.decodeCount,
        numContextRequests: r.numContext,
        numGenRequests: r.decodeCount,
        numPausedRequests: 0,
        numCtxTokens: r.contextTokens,
        microBatchId: 0,
        avgNumDecodedTokensPerIter: r.decodeCount > 0 ? 1 : 0,
      },
    });
  }
}
