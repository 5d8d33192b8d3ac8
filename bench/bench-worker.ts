// A lean zero-delay trtllm-serve stand-in for the proxy benchmark (docs/performance.md): canned
// context-only answers, canned generation answers, and streams of N tokens written one per write
// (each token its own TCP segment), optionally one token per interval from a shared ticker.
// With --slots K --service-ms D it is a bounded worker instead, like a GPU's batch: at most K requests
// are served at once, each holding its slot for D ms (a stream writes its tokens evenly over the D ms,
// the first after D/tokens), and the rest wait FIFO inside the worker, so a proxy that forwards
// everything sees its requests' latency grow with the worker's backlog.
//   node --import tsx bench/bench-worker.ts --port P [--tokens 32] [--interval-ms 0] [--slots K --service-ms D]
import http from 'node:http';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const port = arg('port', 0);
const tokens = arg('tokens', 32);
const intervalMs = arg('interval-ms', 0);
const slots = arg('slots', 0);
const serviceMs = arg('service-ms', 0);
const isBounded = slots > 0 && serviceMs > 0;

let ctxId = 1;
/**
 * The prompt's token ids in a context answer: 16 for a short request, one per 4 request bytes for a
 * long one (about what a tokenizer gives for English), so a long prompt costs the proxy what it would
 * with a real worker: the ids come back and go out again in the generation request.
 */
const LONG_REQUEST_BYTES = 4096;
const idsByCount = new Map<number, string>();
function promptIdsFor(requestBytes: number): { count: number; text: string } {
  const count = requestBytes < LONG_REQUEST_BYTES ? 16 : Math.floor(requestBytes / 4);
  let text = idsByCount.get(count);
  if (text === undefined) {
    text = JSON.stringify(Array.from({ length: count }, (_, i) => 100 + (i % 30_000)));
    idsByCount.set(count, text);
  }
  return { count, text };
}
const ctxAnswer = (id: number, requestBytes: number): string => {
  const ids = promptIdsFor(requestBytes);
  return `{"id":"cmpl-b","object":"text_completion","created":1,"model":"bench","choices":[{"index":0,"text":" a","token_ids":null,"logprobs":null,"finish_reason":"not_finished","stop_reason":null,"disaggregated_params":{"request_type":"context_only","first_gen_tokens":[7],"ctx_request_id":${id},"encoded_opaque_state":"b3BhcXVl","draft_tokens":null},"avg_decoded_tokens_per_iter":1.0}],"usage":{"prompt_tokens":${ids.count},"total_tokens":${ids.count + 1},"completion_tokens":1,"prompt_tokens_details":null},"prompt_token_ids":${ids.text}}`;
};
const genAnswer = `{"id":"cmpl-b","object":"text_completion","created":1,"model":"bench","choices":[{"index":0,"text":"${' tok'.repeat(tokens)}","token_ids":null,"logprobs":null,"finish_reason":"length","stop_reason":null,"disaggregated_params":null,"avg_decoded_tokens_per_iter":1.0}],"usage":{"prompt_tokens":16,"total_tokens":${16 + tokens},"completion_tokens":${tokens},"prompt_tokens_details":null},"prompt_token_ids":null}`;
const chunk = (i: number): string =>
  `data: {"id":"cmpl-b","object":"text_completion","created":1,"model":"bench","choices":[{"index":0,"text":" t${i}","token_ids":null,"logprobs":null,"finish_reason":${i === tokens - 1 ? '"length"' : 'null'},"stop_reason":null,"avg_decoded_tokens_per_iter":1.0}],"usage":null}\n\n`;
const chunks = Array.from({ length: tokens }, (_, i) => chunk(i));
const DONE = 'data: [DONE]\n\n';

interface Stream {
  res: http.ServerResponse;
  next: number;
}
const streams = new Set<Stream>();

if (intervalMs > 0) {
  setInterval(() => {
    for (const s of streams) {
      if (s.res.destroyed) {
        streams.delete(s);
        continue;
      }
      s.res.write(chunks[s.next]);
      s.next++;
      if (s.next >= tokens) {
        s.res.end(DONE);
        streams.delete(s);
      }
    }
  }, intervalMs);
}

// Bounded mode: requests holding a slot, and those waiting for one (FIFO; head index, so O(1)).
let busy = 0;
let waiting: Array<() => void> = [];
let waitHead = 0;

function acquire(serve: () => void): void {
  if (busy < slots) {
    busy++;
    serve();
  } else {
    waiting.push(serve);
  }
}

/** The slot passes straight to the oldest waiter, if any. */
function release(): void {
  if (waitHead < waiting.length) {
    const next = waiting[waitHead] as () => void;
    waiting[waitHead++] = (): void => undefined;
    if (waitHead > 1024 && waitHead * 2 > waiting.length) {
      waiting = waiting.slice(waitHead);
      waitHead = 0;
    }
    next();
  } else {
    busy--;
  }
}

function serveBounded(res: http.ServerResponse, body: string): void {
  acquire(() => {
    // A request whose client left while it waited costs no service time (a GPU drops it too).
    if (res.destroyed) {
      release();
      return;
    }
    if (!body.includes('"stream":true') || body.includes('"context_only"')) {
      setTimeout(() => {
        const a = body.includes('"context_only"') ? ctxAnswer(ctxId++, body.length) : genAnswer;
        if (!res.destroyed) {
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(a),
          });
          res.end(a);
        }
        release();
      }, serviceMs);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let next = 0;
    const step = (): void => {
      if (res.destroyed) {
        release();
        return;
      }
      res.write(chunks[next]);
      next++;
      if (next < tokens) {
        setTimeout(step, serviceMs / tokens);
        return;
      }
      res.end(DONE);
      release();
    };
    setTimeout(step, serviceMs / tokens);
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    if (isBounded) {
      serveBounded(res, body);
      return;
    }
    if (body.includes('"context_only"')) {
      const a = ctxAnswer(ctxId++, body.length);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(a),
      });
      res.end(a);
      return;
    }
    if (!body.includes('"stream":true')) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(genAnswer),
      });
      res.end(genAnswer);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (intervalMs > 0) {
      streams.add({ res, next: 0 });
      return;
    }
    for (const c of chunks) res.write(c);
    res.end(DONE);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`bench-worker listening on ${typeof a === 'object' && a ? a.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
