// The "bare two-hop relay" floor of docs/performance.md: context call, then the generation stream
// copied through. No validation, routing, retries or metrics. `GET /__eld` answers its event-loop delay
// since the previous ask (p99 and max in ms, beyond the monitor's 1 ms interval) for run 2's tail rows.
//   node --import tsx bench/bare-relay.ts --port P --ctx host:port --gen host:port
import http from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const argv = process.argv;
const val = (n: string): string => argv[argv.indexOf(`--${n}`) + 1] ?? '';
const [ctxHost, ctxPort] = val('ctx').split(':');
const [genHost, genPort] = val('gen').split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function post(
  host: string,
  port: string,
  path: string,
  body: string,
  cb: (res: http.IncomingMessage) => void,
): void {
  const req = http.request(
    {
      host,
      port: Number(port),
      path,
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    cb,
  );
  req.on('error', () => undefined);
  req.end(body);
}

const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
// GC pauses since the last /__eld, to set beside the proxy's own (its /metrics gc_pause_seconds).
const gc = { totalMs: 0, maxMs: 0, count: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    gc.count++;
  }
}).observe({ entryTypes: ['gc'] });

function answerLoopDelay(res: http.ServerResponse): void {
  const beyondInterval = (ns: number): number => Math.max(0, ns / 1e6 - 1);
  const body = JSON.stringify({
    p99Ms: beyondInterval(loopDelay.percentile(99)),
    maxMs: beyondInterval(loopDelay.max),
    count: loopDelay.count,
    gcTotalMs: gc.totalMs,
    gcMaxMs: gc.maxMs,
    gcCount: gc.count,
  });
  loopDelay.reset();
  Object.assign(gc, { totalMs: 0, maxMs: 0, count: 0 });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
}

const server = http.createServer((req, res) => {
  if (req.url === '/__eld') {
    req.resume();
    answerLoopDelay(res);
    return;
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (raw += c));
  req.on('end', () => {
    const body = JSON.parse(raw) as Record<string, unknown>;
    const ctxBody = JSON.stringify({
      ...body,
      stream: false,
      stream_options: null,
      disaggregated_params: { request_type: 'context_only' },
    });
    post(ctxHost ?? '', ctxPort ?? '', req.url ?? '/', ctxBody, (cres) => {
      let text = '';
      cres.setEncoding('utf8');
      cres.on('data', (c: string) => (text += c));
      cres.on('end', () => {
        const ctx = JSON.parse(text) as {
          choices: Array<{ disaggregated_params: Record<string, unknown> }>;
          prompt_token_ids: unknown;
        };
        const params = { ...ctx.choices[0]?.disaggregated_params, request_type: 'generation_only' };
        const genBody = JSON.stringify({
          ...body,
          prompt: ctx.prompt_token_ids,
          disaggregated_params: params,
        });
        post(genHost ?? '', genPort ?? '', req.url ?? '/', genBody, (gres) => {
          res.writeHead(gres.statusCode ?? 502, {
            'content-type': gres.headers['content-type'] ?? 'application/json',
          });
          gres.pipe(res);
        });
      });
    });
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(val('port')), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`bare-relay listening on ${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
