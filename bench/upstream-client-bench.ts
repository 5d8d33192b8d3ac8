// Our HTTP/1.1 upstream client (UpstreamPool + Http1ResponseParser) against undici's dispatcher API
// (llhttp in wasm, a raw handler: no IncomingMessage, no stream objects), in the same run, on the
// proxy benchmark's worker (bench/bench-worker.ts): CPU of the client process per request (whole
// answers, the context phase and non-streamed generation) and per streamed token (32-token SSE
// streams written one token per write). Each client runs in its own process pinned to core 0, the
// worker on core 1; runs alternate (ours, undici, ours, ...) and medians are printed.
//   node --import tsx bench/upstream-client-bench.ts [--runs 5] [--ms 3000] [--concurrency 32]
// It prints numbers; it is not a test.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

type ClientKind = 'ours' | 'undici';
type Mode = 'whole' | 'stream';

interface ClientResult {
  requests: number;
  bodyChunks: number;
  bodyBytes: number;
  cpuUs: number;
  failures: number;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : fallback;
}

// ---- client side: one process, one client kind, one mode ----

const WHOLE_BODY = JSON.stringify({
  model: 'bench',
  prompt: 'x',
  max_tokens: 32,
  disaggregated_params: { request_type: 'context_only' },
});
const STREAM_BODY = JSON.stringify({ model: 'bench', prompt: 'x', max_tokens: 32, stream: true });

/** One request's callbacks, the same for both clients. */
interface Sink {
  onData(chunk: Buffer): void;
  onEnd(): void;
  onFail(message: string): void;
}

type Send = (body: string, sink: Sink) => void;

async function ourSender(port: number, concurrency: number): Promise<Send> {
  const { UpstreamPool } = await import('../electron/core/proxy/upstream-pool');
  const pool = new UpstreamPool('127.0.0.1', port, concurrency);
  return (body, sink) => {
    pool.request('POST', '/v1/completions', body, {
      onHead: () => undefined,
      onData: (c) => sink.onData(c),
      onEnd: () => sink.onEnd(),
      onFail: (_kind, message) => sink.onFail(message),
    });
  };
}

async function undiciSender(port: number, concurrency: number): Promise<Send> {
  const { Pool } = await import('undici');
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  const headers = ['content-type', 'application/json'];
  return (body, sink) => {
    pool.dispatch(
      {
        method: 'POST',
        path: '/v1/completions',
        headers: [...headers, 'content-length', String(Buffer.byteLength(body))],
        body,
      },
      {
        onConnect: () => undefined,
        onHeaders: () => true,
        onData: (c: Buffer) => {
          sink.onData(c);
          return true;
        },
        onComplete: () => sink.onEnd(),
        onError: (err: Error) => sink.onFail(err.message),
      },
    );
  };
}

async function runClient(): Promise<void> {
  const kind = flag('client', 'ours') as ClientKind;
  const mode = flag('mode', 'whole') as Mode;
  const port = Number(flag('port', '0'));
  const concurrency = Number(flag('concurrency', '32'));
  const ms = Number(flag('ms', '3000'));
  // Long enough for undici's llhttp wasm and both clients' hot paths to reach optimised code: with 1 s,
  // undici's first runs measured 4-6x its steady cost.
  const warmupMs = Number(flag('warmup-ms', '3000'));
  const send =
    kind === 'ours' ? await ourSender(port, concurrency) : await undiciSender(port, concurrency);
  const body = mode === 'whole' ? WHOLE_BODY : STREAM_BODY;
  const result: ClientResult = { requests: 0, bodyChunks: 0, bodyBytes: 0, cpuUs: 0, failures: 0 };
  let isMeasuring = false;
  let isStopping = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  const loop = (): void => {
    if (isStopping) {
      if (--inFlight === 0) onIdle?.();
      return;
    }
    // Whole answers are collected as the proxy does (a copy of each chunk, joined at the end); stream
    // chunks are looked at and dropped, as the relay copies each straight into its outgoing frame.
    const parts: Buffer[] = [];
    send(body, {
      onData: (c) => {
        if (mode === 'whole') parts.push(Buffer.from(c));
        if (isMeasuring) {
          result.bodyChunks++;
          result.bodyBytes += c.length;
        }
      },
      onEnd: () => {
        if (mode === 'whole') Buffer.concat(parts);
        if (isMeasuring) result.requests++;
        loop();
      },
      onFail: () => {
        result.failures++;
        loop();
      },
    });
  };
  for (let n = 0; n < concurrency; n++) {
    inFlight++;
    loop();
  }
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = process.cpuUsage();
  isMeasuring = true;
  await new Promise((r) => setTimeout(r, ms));
  isMeasuring = false;
  const cpu = process.cpuUsage(cpu0);
  result.cpuUs = cpu.user + cpu.system;
  isStopping = true;
  await new Promise<void>((r) => (onIdle = r));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- orchestrator ----

const canPin = os.cpus().length >= 2 && existsSync('/usr/bin/taskset');

function spawnPinned(core: number, args: string[]): ChildProcess {
  const cmd = [process.execPath, '--import', 'tsx', ...args];
  return canPin
    ? spawn('taskset', ['-c', String(core), ...cmd], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(cmd[0] as string, cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.on('exit', (code) =>
      reject(new Error(`exited with ${String(code)} before ${String(pattern)}:\n${out}`)),
    );
  });
}

async function startWorker(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnPinned(1, [
    path.join(ROOT, 'bench/bench-worker.ts'),
    '--port',
    '0',
    '--tokens',
    '32',
  ]);
  const m = await waitForLine(child, /listening on (\d+)/);
  return { child, port: Number(m[1]) };
}

async function runOnce(
  kind: ClientKind,
  mode: Mode,
  port: number,
  concurrency: number,
  ms: number,
): Promise<ClientResult> {
  const child = spawnPinned(0, [
    SELF,
    '--client',
    kind,
    '--mode',
    mode,
    '--port',
    String(port),
    '--concurrency',
    String(concurrency),
    '--ms',
    String(ms),
  ]);
  const m = await waitForLine(child, /RESULT (\{.*\})\n/);
  return JSON.parse(m[1] as string) as ClientResult;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

async function orchestrate(): Promise<void> {
  const runs = Number(flag('runs', '5'));
  const ms = Number(flag('ms', '3000'));
  const concurrency = Number(flag('concurrency', '32'));
  const worker = await startWorker();
  console.log(
    `upstream client bench: ${runs} interleaved runs of ${ms} ms, ${concurrency} concurrent requests, ${canPin ? 'client on core 0, worker on core 1' : 'NOT pinned'}; node ${process.version}`,
  );
  try {
    for (const mode of ['whole', 'stream'] as const) {
      const perUnit: Record<ClientKind, number[]> = { ours: [], undici: [] };
      const rates: Record<ClientKind, number[]> = { ours: [], undici: [] };
      let failures = 0;
      for (let r = 0; r < runs; r++) {
        for (const kind of r % 2 === 0
          ? (['ours', 'undici'] as const)
          : (['undici', 'ours'] as const)) {
          const res = await runOnce(kind, mode, worker.port, concurrency, ms);
          failures += res.failures;
          // A streamed token is one SSE event, 32 per stream plus [DONE].
          const units = mode === 'whole' ? res.requests : res.requests * 32;
          perUnit[kind].push(res.cpuUs / units);
          rates[kind].push((res.requests * 1000) / ms);
        }
      }
      const unit = mode === 'whole' ? 'request (whole answer)' : 'streamed token';
      const ours = median(perUnit.ours);
      const undici = median(perUnit.undici);
      console.log(
        `${mode}: client CPU per ${unit}: ours ${ours.toFixed(2)} us, undici ${undici.toFixed(2)} us (undici/ours ${(undici / ours).toFixed(2)}x); ` +
          `requests/s ours ${median(rates.ours).toFixed(0)}, undici ${median(rates.undici).toFixed(0)}; per-run ours [${perUnit.ours.map((x) => x.toFixed(2)).join(', ')}] undici [${perUnit.undici.map((x) => x.toFixed(2)).join(', ')}]` +
          (failures > 0 ? `; ${failures} FAILED requests` : ''),
      );
    }
  } finally {
    worker.child.kill('SIGTERM');
  }
}

if (process.argv.includes('--client')) void runClient();
else void orchestrate();
