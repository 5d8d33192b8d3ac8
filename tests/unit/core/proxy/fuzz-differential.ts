// One differential check: our parser and llhttp on the same bytes. llhttp's verdict is the reference;
// where ours is stricter on purpose, the rejection must carry one of the reasons listed in
// INTENDED_STRICTER (each one is explained in http1-response-parser.ts).
import {
  Http1ResponseParser,
  HttpParseError,
  MAX_HEAD_BYTES,
} from '../../../../electron/core/proxy/http1-response-parser';
import { type ParseOutcome, parseWithLlhttp } from './fuzz-llhttp-oracle';

/** Our rejections of responses llhttp accepts, each deliberate; matched against our error message. */
export const INTENDED_STRICTER: { reason: RegExp; why: string }[] = [
  {
    reason: /^unsupported HTTP version/,
    why: 'an HTTP/1.x client: HTTP/2.0 or 0.9 on this socket is a broken worker',
  },
  { reason: /^unexpected protocol switch/, why: 'the proxy never asks for an upgrade' },
  {
    reason: /^unsupported transfer-encoding/,
    why: 'only plain chunked: the proxy relays bodies without transfer codings',
  },
  {
    reason: /^content-length too large/,
    why: 'above 2^53 bytes a length is not exact in a JS number',
  },
  { reason: /^chunk size too large/, why: 'more than 12 hex digits (256 TB) is no real chunk' },
  {
    reason: /^empty line before the status line/,
    why: 'RFC 9112 2.2 allows empty lines before a request only',
  },
];

export function parseWithOurs(pieces: Buffer[]): ParseOutcome {
  let status = 0;
  let contentType: string | undefined;
  let canReuse = false;
  const body: Buffer[] = [];
  const parser = new Http1ResponseParser({
    onHead(s, ct) {
      status = s;
      contentType = ct;
    },
    onBody(chunk) {
      body.push(Buffer.from(chunk));
    },
    onComplete(reuse) {
      canReuse = reuse;
    },
  });
  let leftover = 0;
  try {
    for (const piece of pieces) leftover += parser.push(piece);
  } catch (err) {
    if (err instanceof HttpParseError) return { kind: 'rejected', reason: err.message };
    throw err;
  }
  if (!parser.isDone && !parser.endOfInput()) return { kind: 'incomplete' };
  return {
    kind: 'accepted',
    status,
    contentType,
    body: Buffer.concat(body).toString('latin1'),
    canReuse,
    hasTrailingBytes: leftover > 0,
  };
}

/** Undefined when ours agrees with llhttp (or is stricter for an intended reason); else what differs. */
export function divergence(
  bytes: Buffer,
  pieces: Buffer[],
  theirs = parseWithLlhttp(bytes, MAX_HEAD_BYTES),
): string | undefined {
  return compareOutcomes(theirs, parseWithOurs(pieces));
}

/** Undefined when `ours` agrees with llhttp's `theirs` (or is stricter for an intended reason). */
export function compareOutcomes(theirs: ParseOutcome, ours: ParseOutcome): string | undefined {
  if (theirs.kind !== 'accepted') {
    return ours.kind === 'accepted'
      ? `llhttp ${describe(theirs)}, ours accepted ${describe(ours)}`
      : undefined;
  }
  if (ours.kind === 'rejected') {
    return INTENDED_STRICTER.some((s) => s.reason.test(ours.reason))
      ? undefined
      : `llhttp accepted ${describe(theirs)}, ours rejected: ${ours.reason}`;
  }
  if (ours.kind !== 'accepted') return `llhttp accepted ${describe(theirs)}, ours ${ours.kind}`;
  const differs: string[] = [];
  if (ours.status !== theirs.status) differs.push(`status ${ours.status} vs ${theirs.status}`);
  if (ours.contentType !== theirs.contentType) {
    differs.push(
      `content-type ${JSON.stringify(ours.contentType)} vs ${JSON.stringify(theirs.contentType)}`,
    );
  }
  if (ours.body !== theirs.body) {
    differs.push(
      `body ${JSON.stringify(ours.body.slice(0, 40))} vs ${JSON.stringify(theirs.body.slice(0, 40))}`,
    );
  }
  // Trailing bytes: ours must not reuse a connection llhttp found more bytes on; "\r\n" alone after
  // a response llhttp skips, and ours (stricter) treats as unexpected: the connection is just not reused.
  if (theirs.hasTrailingBytes && !ours.hasTrailingBytes) {
    differs.push('llhttp saw bytes after the response, ours did not');
  }
  const reusable = (o: { canReuse: boolean; hasTrailingBytes: boolean }): boolean =>
    o.canReuse && !o.hasTrailingBytes;
  if (reusable(ours) && !reusable(theirs)) {
    differs.push('ours would reuse a connection llhttp would not');
  }
  if (!ours.canReuse && theirs.canReuse && !theirs.hasTrailingBytes) {
    differs.push('ours would close a connection llhttp keeps');
  }
  return differs.length > 0 ? differs.join('; ') : undefined;
}

function describe(o: ParseOutcome): string {
  if (o.kind === 'rejected') return `rejected (${o.reason})`;
  if (o.kind === 'incomplete') return 'incomplete';
  return `${o.status} ${JSON.stringify(o.contentType)} body ${o.body.length} B reuse=${o.canReuse} trailing=${o.hasTrailingBytes}`;
}
