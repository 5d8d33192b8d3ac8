// reliability.md item 15, slow reader: a client stops reading a stream while its generation worker
// produces tokens as fast as its socket takes them (gen: flood, which waits for 'drain' like uvicorn).
// The proxy must not buffer the stream: backpressure reaches the worker (its writes block, the bytes it
// wrote stop growing), the proxy gives up on the client after the idle timeout and frees the worker, and
// a concurrent normal stream through the same proxy is served whole (its inter-token gaps are printed).
import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterEach, describe, expect, it } from 'vitest';

import { DISAGG_HEADER } from '../../../electron/core/proxy/proxy-server';
import type { ProxyRequestRecord } from '../../../electron/core/proxy/types';
import type { FakeWorker, ProxyUnderTest } from './proxy-test-kit';
import {
  checkInvariants,
  completionBody,
  fdBaselineOf,
  request,
  sseData,
  startFakeWorker,
  startProxy,
  streamRequest,
  waitFor,
} from './proxy-test-kit';

/** The flood a worker would send if nothing pushed back: 500k chunks of ~190 bytes, about 95 MB. */
const FLOOD_TOKENS = 500_000;
/** Long enough that even a loaded machine sees the worker block (polled for most of it) before the
 *  proxy cuts the stalled client (a load average of 20 on 2 cores took over 3 s). */
const IDLE_TIMEOUT_MS = 10_000;

interface SlowReader {
  /** Resolves once the first chunk arrived (then the client stops reading). */
  firstChunk: Promise<void>;
  /** Reads again; resolves with the bytes that still came and how the response ended. */
  resume(): Promise<{ bytes: number; ending: string }>;
  destroy(): void;
}

/** Opens a stream, reads one chunk, then stops reading (the socket is paused; the kernel buffers fill). */
function slowReader(port: number, body: string, headers: Record<string, string>): SlowReader {
  let onFirst!: () => void;
  const firstChunk = new Promise<void>((r) => (onFirst = r));
  let response: http.IncomingMessage | undefined;
  let ending = '';
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/completions',
      agent: false,
      headers: { 'content-type': 'application/json', ...headers },
    },
    (res) => {
      response = res;
      res.once('data', () => {
        res.pause();
        onFirst();
      });
      res.on(
        'error',
        (e: NodeJS.ErrnoException) => (ending ||= `error ${e.code ?? ''} ${e.message}`),
      );
      res.on('end', () => (ending ||= 'end'));
    },
  );
  req.on('error', (e: NodeJS.ErrnoException) => (ending ||= `error ${e.code ?? ''} ${e.message}`));
  req.end(body);
  return {
    firstChunk,
    resume: () =>
      new Promise((resolve) => {
        let bytes = 0;
        const timer = setTimeout(() => resolve({ bytes, ending: ending || 'still open' }), 3_000);
        response?.on('data', (c: Buffer) => (bytes += c.length));
        response?.on('close', () => {
          clearTimeout(timer);
          // Let the error or end handler name the ending first.
          setImmediate(() => resolve({ bytes, ending }));
        });
        response?.resume();
      }),
    destroy: () => req.destroy(),
  };
}

/** Gaps between consecutive chunks after the first two (ms). */
function gaps(chunkTimes: number[]): number[] {
  return chunkTimes.slice(2).map((t, i) => t - (chunkTimes[i + 1] as number));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

// A real collection before each reading, so the numbers are what is retained, not garbage not yet swept.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function bufferedBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.arrayBuffers + m.external;
}

describe('proxy slow reader (reliability item 15)', () => {
  let workers: FakeWorker[] = [];
  let p: ProxyUnderTest | undefined;
  let slow: SlowReader | undefined;

  afterEach(async () => {
    slow?.destroy();
    await p?.proxy.close();
    p = undefined;
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });

  // The other stream's inter-token gaps are printed, not asserted: another process can steal the CPU at any
  // time, so a wall-clock bound fails on a loaded machine. What is asserted is counted: bytes, tokens, outcomes.
  it(
    'backpressure reaches the worker, the stalled stream is cut after the idle timeout, and other streams are served whole',
    { timeout: 60_000 },
    async () => {
      workers = await Promise.all([startFakeWorker(), startFakeWorker(), startFakeWorker()]);
      const [ctx, flooder, normal] = workers as [FakeWorker, FakeWorker, FakeWorker];
      await flooder.control({ gen: 'flood' });
      await normal.control({ tokenDelayMs: 10 });
      p = await startProxy({
        contextUrls: [ctx.url],
        generationUrls: [flooder.url, normal.url],
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        logLevel: 'info',
      });
      const records: ProxyRequestRecord[] = [];
      p.proxy.onRecords((rs) => records.push(...rs));
      const pinNormal = { [DISAGG_HEADER.generationWorker]: normal.url };
      const normalBody = completionBody({ stream: true, max_tokens: 80 });
      // Warm-up (pooled sockets, JIT), then the baseline gaps of a normal stream alone.
      await streamRequest(p.port, '/v1/completions', normalBody, 10_000, pinNormal);
      const fdBase = fdBaselineOf(p);
      const alone = await streamRequest(p.port, '/v1/completions', normalBody, 10_000, pinNormal);
      const baseP99 = pct(gaps(alone.chunkTimes), 0.99);
      const memBase = bufferedBytes();

      slow = slowReader(p.port, completionBody({ stream: true, max_tokens: FLOOD_TOKENS }), {
        [DISAGG_HEADER.generationWorker]: flooder.url,
      });
      await slow.firstChunk;
      // The worker is pushed back: its writes hit a full socket and the bytes it wrote stop growing.
      let plateau = 0;
      await waitFor(
        async () => {
          const s = await flooder.stats();
          const isFlat = s.genBlocked > 0 && s.genBytes === plateau;
          plateau = s.genBytes;
          return isFlat;
        },
        IDLE_TIMEOUT_MS * 0.8,
        'the flooding worker to block',
      );
      const memBlocked = bufferedBytes() - memBase;

      // A normal stream while the slow one is stalled (and until it is cut).
      const during = await streamRequest(p.port, '/v1/completions', normalBody, 10_000, pinNormal);
      const duringP99 = pct(gaps(during.chunkTimes), 0.99);

      // The proxy gives up on the client after the idle timeout, aborting the worker's stream.
      await waitFor(
        () => records.some((r) => r.genWorker?.endsWith(flooder.url) === true),
        IDLE_TIMEOUT_MS * 3,
        'the slow stream record',
      );
      const slowRec = records.find((r) => r.genWorker?.endsWith(flooder.url) === true);
      await waitFor(
        async () => (await flooder.stats()).aborted === 1,
        3_000,
        'the worker to see its stream aborted',
      );
      const final = await flooder.stats();
      // The client was reset, not closed behind the megabytes it left unread: reading again, it gets a
      // reset and little or nothing of them (a close would deliver them all, then a truncated end).
      const after = await slow.resume();

      console.log(
        `slow reader: ${JSON.stringify({
          workerWroteMB: +(final.genBytes / 1e6).toFixed(2),
          floodMB: +((FLOOD_TOKENS * 190) / 1e6).toFixed(0),
          workerBlockedWrites: final.genBlocked,
          proxyBufferedDeltaMB: +(memBlocked / 1e6).toFixed(2),
          gapP99AloneMs: +baseP99.toFixed(1),
          gapP99DuringMs: +duringP99.toFixed(1),
          clientAfterResume: after,
        })}`,
      );

      // Bounded: what the worker managed to write is what the kernel buffers of the two hops hold (about
      // 8 MB measured: receive autotuning grows a buffer only as its reader reads), not the 95 MB flood.
      // Not asserted: that it never grew after the first flat reading. On a loaded machine the buffers can
      // still grow a few MB after two equal polls (seen: 5.2 MB, then 6.9 MB), so only the bound is a fact.
      // The proxy's own buffers (measured after a GC) stay far below what it would hold if it ignored
      // backpressure (the whole flood).
      expect(final.genBytes).toBeLessThan(24e6);
      expect(memBlocked).toBeLessThan(16e6);
      expect(after.ending).toMatch(/ECONNRESET/);
      expect(after.bytes).toBeLessThan(1e6);
      expect(slowRec).toMatchObject({
        outcome: 'client_disconnected',
        status: 499,
        errorMessage: 'client stopped reading',
      });
      // The worker was not blamed for the client's stall.
      expect(p.proxy.workers().find((w) => w.url.endsWith(flooder.url))).toMatchObject({
        errors: 0,
        isEjected: false,
      });

      // The other stream was served whole (its pace is the gapP99 figures printed above).
      expect(during.status).toBe(200);
      expect(sseData(during.body).filter((d) => d !== '[DONE]')).toHaveLength(80);

      expect((await request(p.port, 'POST', '/v1/completions', completionBody())).status).toBe(200);
      await checkInvariants(p, fdBase);
    },
  );
});
