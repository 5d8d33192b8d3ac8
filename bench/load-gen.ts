// Load generator for the proxy benchmark: closed loop (C clients back to back) or open loop (Poisson
// arrivals, latency counted from the scheduled send time, so no coordinated omission). Prints
// WINDOW_START / WINDOW_END around the measured window (the orchestrator samples the proxy's CPU
// there) and one `RESULT {json}` line.
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
let windowEnd = 0;
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

function countData(s: string): number {
  let n = 0;
  let i = s.indexOf('data: {');
  while (i >= 0) {
    n++;
    i = s.indexOf('data: {', i + 7);
  }
  return n;
}

function one(scheduledAt: number): Promise<void> {
  outstanding++;
  return new Promise((resolve) => {
    const inWindow = phase === 'window';
    if (inWindow) windowOutstanding++;
    // A socket reset can raise both the response's and the request's error: count the request once.
    let isSettled = false;
    const settle = (): boolean => {
      if (isSettled) return false;
      isSettled = true;
      outstanding--;
      if (inWindow) windowOutstanding--;
      resolve();
      return true;
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port: spec.port,
        path: spec.path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': bodyBuf.length },
      },
      (res) => {
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
      },
    );
    req.on('error', () => {
      if (settle() && inWindow) transportErrors++;
    });
    req.end(bodyBuf);
  });
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

async function main(): Promise<void> {
  const delayMs = spec.startAtMs === undefined ? 0 : spec.startAtMs - Date.now();
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  const start = performance.now();
  windowStart = start + spec.warmupMs;
  windowEnd = windowStart + spec.durationMs;
  let cpuStart = process.cpuUsage();
  const timerStart = setTimeout(() => {
    phase = 'window';
    cpuStart = process.cpuUsage();
    process.stdout.write('WINDOW_START\n');
  }, spec.warmupMs);
  let cpuWindow = { user: 0, system: 0 };
  const timerEnd = setTimeout(() => {
    phase = 'done';
    cpuWindow = process.cpuUsage(cpuStart);
    process.stdout.write('WINDOW_END\n');
  }, spec.warmupMs + spec.durationMs);
  const until = (): boolean => phase === 'done';
  if (spec.mode === 'closed') await closedLoop(until);
  else await openLoop(until);
  const drainUntil = performance.now() + (spec.drainMs ?? 3_000);
  while (outstanding > 0 && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  unfinished = windowOutstanding;
  clearTimeout(timerStart);
  clearTimeout(timerEnd);
  const secs = spec.durationMs / 1000;
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
    loadGenCoreFraction: (cpuWindow.user + cpuWindow.system) / 1e6 / secs,
    shedLatP50: pct(shedLat, 0.5),
    shedLatP99: pct(shedLat, 0.99),
    shedRetryAfter,
    unfinished,
    samples: spec.isWithSamples ? (spec.isStream ? ttft : lat) : undefined,
  };
  agent.destroy();
  // Exit once the line is flushed: a pipe takes a large result (raw samples) in several writes.
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}

void main();
