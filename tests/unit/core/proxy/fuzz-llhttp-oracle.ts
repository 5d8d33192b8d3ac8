// The oracle of the parser's differential fuzzing: Node's own llhttp binding, set up as Node's http
// client sets it up for a response (strict: no lenient flags), reporting the first final (non-1xx)
// response the way our ResponseSink sees one. Test-only; the binding is internal to Node.

/** What a parser made of one response's bytes followed by the end of the connection. */
export type ParseOutcome =
  | { kind: 'rejected'; reason: string }
  /** The input ended inside the response (a cut body, a head without its blank line). */
  | { kind: 'incomplete' }
  | {
      kind: 'accepted';
      status: number;
      /** The first Content-Type header's value (Node's http client keeps the first of duplicates). */
      contentType: string | undefined;
      body: string;
      /** Whether the connection may carry the next request (llhttp's shouldKeepAlive). */
      canReuse: boolean;
      /** Whether bytes followed the response's end on the connection. */
      hasTrailingBytes: boolean;
    };

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(buf: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [key: number]: unknown;
}

interface LlhttpBinding {
  HTTPParser: {
    new (): LlhttpParser;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
}

function loadBinding(): LlhttpBinding {
  // process.binding warns once (DEP0111); silence that one warning, nothing else.
  const emit = process.emitWarning.bind(process);
  const quiet = (warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!text.includes("process.binding('http_parser')")) {
      (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
    }
  };
  process.emitWarning = quiet;
  try {
    return (process as unknown as { binding(name: string): LlhttpBinding }).binding('http_parser');
  } finally {
    process.emitWarning = emit;
  }
}

const { HTTPParser } = loadBinding();

interface Message {
  status: number;
  headers: string[];
  body: Buffer[];
  canReuse: boolean;
  isComplete: boolean;
}

/** Parses `input` with llhttp, then signals the end of the connection, as our client's tests do. */
export function parseWithLlhttp(input: Buffer, maxHeaderSize: number): ParseOutcome {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, 0);
  const messages: Message[] = [];
  let current: Message | undefined;
  // Headers past 32 arrive early through kOnHeaders; the rest with kOnHeadersComplete.
  let early: string[] = [];
  parser[HTTPParser.kOnHeaders] = (headers: string[]) => {
    early = early.concat(headers);
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _maj: number,
    _min: number,
    headers: string[] | undefined,
    _m: unknown,
    _u: unknown,
    status: number,
    _r: unknown,
    _up: boolean,
    keepAlive: boolean,
  ) => {
    current = {
      status,
      headers: early.concat(headers ?? []),
      body: [],
      canReuse: keepAlive,
      isComplete: false,
    };
    early = [];
    messages.push(current);
    return 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    current?.body.push(Buffer.from(b));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current) current.isComplete = true;
  };
  const executed = parser.execute(input);
  const error = executed instanceof Error ? executed : undefined;
  const finished = error === undefined ? parser.finish() : undefined;
  parser.close();
  const endError = finished instanceof Error ? finished : undefined;
  return outcomeOf(messages, error, endError);
}

function outcomeOf(
  messages: Message[],
  error: Error | undefined,
  endError: Error | undefined,
): ParseOutcome {
  const finalAt = messages.findIndex((m) => m.status < 100 || m.status >= 200 || m.status === 101);
  const final = finalAt >= 0 ? messages[finalAt] : undefined;
  if (final === undefined || !final.isComplete) {
    if (error) return { kind: 'rejected', reason: reasonOf(error) };
    return endError ? { kind: 'incomplete' } : { kind: 'incomplete' };
  }
  // Anything llhttp saw after the final response: another message, or an error while reading one.
  const hasTrailingBytes =
    finalAt < messages.length - 1 || error !== undefined || endError !== undefined;
  return {
    kind: 'accepted',
    status: final.status,
    contentType: firstHeader(final.headers, 'content-type'),
    body: Buffer.concat(final.body).toString('latin1'),
    canReuse: final.canReuse,
    hasTrailingBytes,
  };
}

function reasonOf(err: Error): string {
  const e = err as Error & { code?: string; reason?: string };
  return `${e.code ?? 'error'}: ${e.reason ?? e.message}`;
}

function firstHeader(flat: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if ((flat[i] as string).toLowerCase() === name) return flat[i + 1];
  }
  return undefined;
}
