// Load generator for the proxy benchmark: closed loop (C clients back to back) or open loop (Poisson
// arrivals, latency counted from the scheduled send time, so no coordinated omission). The measured
// window is a time (warm-up, then `durationMs`) or, in a closed loop, a request count (`requestCount`).
// Prints WINDOW_START / WINDOW_END around the window (the orchestrator samples the proxy's CPU there)
// and one `RESULT {json}` line. With `directGenPort` it is itself the client of both workers (the direct
// two-hop path that run 5 compares the proxy's latency with).
//   node --import tsx bench/load-gen.ts '<json LoadSpec>'
import http from 'node:http';

import type { LoadGenResult, LoadSpec } from './load-spec';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: spec.mode === 'closed' ? spec.concurrency : 2048,
});
const bodyBuf = Buffer.from(
  spec.promptBytes === undefined ? spec.body : withPromptOf(spec.body, spec.promptBytes),
);

/** `body` with its prompt replaced by English-like text of `bytes` bytes (ASCII, so bytes = characters). */
function withPromptOf(body: string, bytes: number): string {
  const words =
    'the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing ';
  const prompt = words.repeat(Math.ceil(bytes / words.length)).slice(0, bytes);
  return JSON.stringify({ ...(JSON.parse(body) as object), prompt });
}

let phase: 'warmup' | 'window' | 'done' = 'warmup';
let windowStart = 0;
/** Answers after this time are late (the time window's end, or the counted window's bound). */
let windowEnd = Number.POSITIVE_INFINITY;
const lat: number[] = [];
const ttft: number[] = [];
const shedLat: number[] = [];
let shedRetryAfter = 0;
let unfinished = 0;
const statuses: Record<string, number> = {};
let ok = 0;
let transportErrors = 0;
let doneMissing = 0;
let tokens = 0;
let outstanding = 0;
/** Requests sent in the window and not yet answered. */
let windowOutstanding = 0;

interface DirectPath {
  genPort: number;
  ctxBody: Buffer;
  genBody: Buffer;
}
/** Set with `directGenPort` (see LoadSpec): the two bodies of the direct two-hop path. */
let direct: DirectPath | undefined;

function countData(s: string): number {
  let n = 0;
  let i = s.indexOf('data: {');
  while (i >= 0) {
    n++;
    i = s.indexOf('data: {', i + 7);
  }
  return n;
}

/** What a request sends and where: the spec's body to its port, or the direct path's generation call. */
function mainCall(): { port: number; body: Buffer } {
  return direct === undefined
    ? { port: spec.port, body: bodyBuf }
    : { port: direct.genPort, body: direct.genBody };
}

/** One request of the load (on the direct path: its context call, then its generation call). */
async function one(scheduledAt: number): Promise<void> {
  outstanding++;
  const inWindow = phase === 'window';
  if (inWindow) windowOutstanding++;
  try {
    if (direct !== undefined) {
      const status = await postWhole(spec.port, direct.ctxBody, false).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) {
        if (inWindow && status === 0) transportErrors++;
        else if (inWindow) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
        return;
      }
    }
    await exchange(scheduledAt, inWindow);
  } finally {
    outstanding--;
    if (inWindow) windowOutstanding--;
  }
}

/** A POST of `body` to 127.0.0.1:port on the shared keep-alive agent. */
function postOptions(port: number, body: Buffer): http.RequestOptions {
  return {
    host: '127.0.0.1',
    port,
    path: spec.path,
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': body.length },
  };
}

/** The measured call of one request: its answer's status, latency, TTFT and tokens are recorded. */
function exchange(scheduledAt: number, inWindow: boolean): Promise<void> {
  const { port, body } = mainCall();
  return new Promise((resolve) => {
    // A socket reset can raise both the response's and the request's error: count the request once.
    let isSettled = false;
    const settle = (): boolean => {
      if (isSettled) return false;
      isSettled = true;
      resolve();
      return true;
    };
    const req = http.request(postOptions(port, body), (res) => {
      let first = 0;
      let tail = '';
      let n = 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (first === 0) first = performance.now();
        if (spec.isStream) {
          n += countData(c);
          tail = (tail + c).slice(-32);
        }
      });
      res.on('end', () => {
        const end = performance.now();
        if (!settle()) return;
        const st = String(res.statusCode ?? 0);
        const isInTime = inWindow && end <= windowEnd;
        if (isInTime && res.statusCode === 200) ok++;
        if (spec.isBySend ? inWindow : isInTime) {
          statuses[st] = (statuses[st] ?? 0) + 1;
          if (res.statusCode === 200) {
            lat.push(end - scheduledAt);
            if (spec.isStream) {
              ttft.push(first - scheduledAt);
              tokens += n;
              if (!tail.includes('[DONE]')) doneMissing++;
            }
          } else if (res.statusCode === 429 || res.statusCode === 503) {
            shedLat.push(end - scheduledAt);
            if (res.headers['retry-after'] !== undefined) shedRetryAfter++;
          }
        }
      });
      res.on('error', () => {
        if (settle()) transportErrors++;
      });
    });
    req.on('error', () => {
      if (settle() && inWindow) transportErrors++;
    });
    req.end(body);
  });
}

/**
 * POSTs `body` to 127.0.0.1:port on the shared agent and resolves once the answer has ended, with its
 * bytes when `isKept` (the load's context calls only read them: a relay doing nothing keeps nothing).
 */
function postWhole(
  port: number,
  body: Buffer,
  isKept: boolean,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(postOptions(port, body), (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (isKept) parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The direct path's two bodies, built once: the context-only request (the spec's body with
 * `disaggregated_params`, not streamed) and, from one real context answer, the generation request
 * (the prompt replaced by the answer's token ids, its `disaggregated_params` as generation_only).
 */
async function prepareDirect(genPort: number): Promise<DirectPath> {
  const request = JSON.parse(bodyBuf.toString()) as Record<string, unknown>;
  const ctxBody = Buffer.from(
    JSON.stringify({
      ...request,
      stream: false,
      stream_options: null,
      disaggregated_params: { request_type: 'context_only' },
    }),
  );
  const answer = await postWhole(spec.port, ctxBody, true);
  if (answer.status !== 200) {
    throw new Error(
      `direct path: the context worker on port ${spec.port} answered ${answer.status}`,
    );
  }
  const ctx = JSON.parse(answer.body.toString()) as {
    choices?: Array<{ disaggregated_params?: Record<string, unknown> }>;
    prompt_token_ids?: unknown;
  };
  const params = ctx.choices?.[0]?.disaggregated_params;
  if (params === undefined || !Array.isArray(ctx.prompt_token_ids)) {
    throw new Error(
      'direct path: the context answer has no disaggregated_params or prompt_token_ids',
    );
  }
  const genBody = Buffer.from(
    JSON.stringify({
      ...request,
      prompt: ctx.prompt_token_ids,
      disaggregated_params: { ...params, request_type: 'generation_only' },
    }),
  );
  return { genPort, ctxBody, genBody };
}

function pct(a: number[], q: number): number {
  if (a.length === 0) return Number.NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

async function closedLoop(until: () => boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (!until()) await one(performance.now());
    }),
  );
}

function openLoop(until: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    let next = performance.now();
    const tick = (): void => {
      const now = performance.now();
      while (next <= now) {
        void one(next);
        next += -Math.log(1 - Math.random()) * (1000 / spec.rate);
      }
      if (until()) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

type CpuUsage = { user: number; system: number };

/** The window as a time: `warmupMs` of load, then `durationMs` measured, the load going on throughout. */
async function timedWindow(): Promise<{ ms: number; cpu: CpuUsage }> {
  windowStart = performance.now() + spec.warmupMs;
  windowEnd = windowStart + spec.durationMs;
  let cpuStart = process.cpuUsage();
  const timerStart = setTimeout(() => {
    phase = 'window';
    cpuStart = process.cpuUsage();
    process.stdout.write('WINDOW_START\n');
  }, spec.warmupMs);
  let cpu = { user: 0, system: 0 };
  const timerEnd = setTimeout(() => {
    phase = 'done';
    cpu = process.cpuUsage(cpuStart);
    process.stdout.write('WINDOW_END\n');
  }, spec.warmupMs + spec.durationMs);
  const until = (): boolean => phase === 'done';
  if (spec.mode === 'closed') await closedLoop(until);
  else await openLoop(until);
  await drain();
  clearTimeout(timerStart);
  clearTimeout(timerEnd);
  return { ms: spec.durationMs, cpu };
}

/**
 * The window as a count (`requestCount`): one warm-up request per client, then exactly `count`
 * requests by the same clients, the window closing on the last answer or at `durationMs`, whichever
 * comes first (then the rest counts as unfinished).
 */
async function countedWindow(count: number): Promise<{ ms: number; cpu: CpuUsage }> {
  const clients = Math.max(1, spec.concurrency);
  await Promise.all(Array.from({ length: clients }, () => one(performance.now())));
  phase = 'window';
  windowStart = performance.now();
  windowEnd = windowStart + spec.durationMs;
  const cpuStart = process.cpuUsage();
  process.stdout.write('WINDOW_START\n');
  let toSend = count;
  const sent = Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      while (toSend > 0 && phase === 'window') {
        toSend--;
        await one(performance.now());
      }
    }),
  );
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([sent, new Promise((r) => (bound = setTimeout(r, spec.durationMs)))]);
  clearTimeout(bound);
  phase = 'done';
  const ms = Math.min(performance.now(), windowEnd) - windowStart;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write('WINDOW_END\n');
  await drain();
  return { ms, cpu };
}

/** Waits up to `drainMs` for the requests still out, then counts the window's unanswered ones. */
async function drain(): Promise<void> {
  const drainUntil = performance.now() + (spec.drainMs ?? 3_000);
  while (outstanding > 0 && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  unfinished = windowOutstanding;
}

async function main(): Promise<void> {
  if (spec.requestCount !== undefined && spec.mode !== 'closed') {
    throw new Error('load spec: requestCount needs mode "closed"');
  }
  const delayMs = spec.startAtMs === undefined ? 0 : spec.startAtMs - Date.now();
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (spec.directGenPort !== undefined) direct = await prepareDirect(spec.directGenPort);
  const window =
    spec.requestCount === undefined ? await timedWindow() : await countedWindow(spec.requestCount);
  const secs = window.ms / 1000;
  const result: LoadGenResult = {
    ok,
    statuses,
    transportErrors,
    doneMissing,
    rps: ok / secs,
    offeredRps: spec.mode === 'open' ? spec.rate : undefined,
    latP50: pct(lat, 0.5),
    latP90: pct(lat, 0.9),
    latP99: pct(lat, 0.99),
    ttftP50: pct(ttft, 0.5),
    ttftP99: pct(ttft, 0.99),
    tokens,
    loadGenCoreFraction: (window.cpu.user + window.cpu.system) / 1e6 / secs,
    shedLatP50: pct(shedLat, 0.5),
    shedLatP99: pct(shedLat, 0.99),
    shedRetryAfter,
    unfinished,
    windowMs: window.ms,
    samples: spec.isWithSamples ? (spec.isStream ? ttft : lat) : undefined,
  };
  agent.destroy();
  // Exit once the line is flushed: a pipe takes a large result (raw samples) in several writes.
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`load generator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
