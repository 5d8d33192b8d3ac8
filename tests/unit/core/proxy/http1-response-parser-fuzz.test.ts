// Differential fuzzing of the proxy's HTTP/1.1 response parser against llhttp, Node's own parser:
// seeded responses, valid and malformed (see fuzz-response-generator.ts), each cut into reads at
// random places and, for every 25th, split in two at every byte. Whatever llhttp rejects ours rejects
// too; whatever it accepts ours reads with the same status, content type, body and connection reuse,
// or rejects for one of the intended, listed reasons (INTENDED_STRICTER).
//
// The normal suite runs a fixed seed of 3,000 responses. For the long run:
//   FUZZ_HTTP1_COUNT=200000 FUZZ_HTTP1_SEED=7 npx vitest run tests/unit/core/proxy/http1-response-parser-fuzz.test.ts
import { describe, expect, it } from 'vitest';

import { MAX_HEAD_BYTES } from '../../../../electron/core/proxy/http1-response-parser';
import { compareOutcomes, divergence, parseWithOurs } from './fuzz-differential';
import { parseWithLlhttp } from './fuzz-llhttp-oracle';
import { everySplit, generateResponse, randomSplit, Rng } from './fuzz-response-generator';

const COUNT = Number(process.env.FUZZ_HTTP1_COUNT ?? 3_000);
const SEED = Number(process.env.FUZZ_HTTP1_SEED ?? 20261207);
const EVERY_SPLIT_EACH = 25;
/** Every-byte splits only for responses up to this size (a 70 KB head split 70,000 ways adds nothing). */
const EVERY_SPLIT_MAX_BYTES = 1_000;

interface Tally {
  bothAccepted: number;
  bothRejected: number;
  oursStricter: number;
  divergences: string[];
}

function runFuzz(count: number, seed: number): Tally {
  const rng = new Rng(seed);
  const tally: Tally = { bothAccepted: 0, bothRejected: 0, oursStricter: 0, divergences: [] };
  for (let n = 0; n < count; n++) {
    const g = generateResponse(rng);
    const theirs = parseWithLlhttp(g.bytes, MAX_HEAD_BYTES);
    const isSmall = g.bytes.length <= EVERY_SPLIT_MAX_BYTES;
    const cuts = [
      [g.bytes],
      randomSplit(rng, g.bytes),
      ...(n % EVERY_SPLIT_EACH === 0 && isSmall ? everySplit(g.bytes) : []),
    ];
    for (const pieces of cuts) {
      const d = divergence(g.bytes, pieces, theirs);
      if (d !== undefined && tally.divergences.length < 20) {
        tally.divergences.push(
          `#${n} (seed ${seed}) cut ${pieces.map((p) => p.length).join('+')}: ${d}\n  recipe: ${g.recipe.join(' | ')}\n  bytes: ${JSON.stringify(g.bytes.toString('latin1').slice(0, 400))}`,
        );
      }
    }
    const theyAccept = theirs.kind === 'accepted';
    const weAccept = parseWithOurs([g.bytes]).kind === 'accepted';
    if (theyAccept && weAccept) tally.bothAccepted++;
    else if (!theyAccept && !weAccept) tally.bothRejected++;
    else if (theyAccept) tally.oursStricter++;
  }
  return tally;
}

describe('Http1ResponseParser against llhttp (differential fuzzing)', () => {
  it(
    `agrees on ${COUNT} generated responses, cut into reads every way tried`,
    () => {
      const tally = runFuzz(COUNT, SEED);
      console.log(
        `http1 fuzz: ${COUNT} responses (seed ${SEED}): both accepted ${tally.bothAccepted}, both rejected ${tally.bothRejected}, ours stricter by intent ${tally.oursStricter}, divergences ${tally.divergences.length}`,
      );
      expect(tally.divergences).toEqual([]);
      // The generator must exercise both sides: a run of only valid or only broken responses proves little.
      expect(tally.bothAccepted).toBeGreaterThan(COUNT / 5);
      expect(tally.bothRejected).toBeGreaterThan(COUNT / 5);
    },
    Math.max(30_000, COUNT),
  );

  it('the oracle is llhttp as Node runs it: it rejects Content-Length with Transfer-Encoding, and so do we', () => {
    const smuggle = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    );
    const theirs = parseWithLlhttp(smuggle, MAX_HEAD_BYTES);
    const ours = parseWithOurs([smuggle]);
    expect(theirs.kind === 'rejected' && theirs.reason).toMatch(
      /Transfer-Encoding can't be present with Content-Length/,
    );
    expect(ours.kind === 'rejected' && ours.reason).toMatch(
      /both content-length and transfer-encoding/,
    );
  });

  it('the comparison fails on each kind of difference (so a clean run means agreement)', () => {
    const ok = {
      kind: 'accepted',
      status: 200,
      contentType: 'a/b',
      body: 'xy',
      canReuse: true,
      hasTrailingBytes: false,
    } as const;
    expect(compareOutcomes(ok, ok)).toBeUndefined();
    expect(compareOutcomes({ kind: 'rejected', reason: 'HPE_X: x' }, ok)).toMatch(/ours accepted/);
    expect(compareOutcomes({ kind: 'incomplete' }, ok)).toMatch(/ours accepted/);
    expect(compareOutcomes(ok, { kind: 'rejected', reason: 'invalid header line' })).toMatch(
      /ours rejected/,
    );
    expect(
      compareOutcomes(ok, {
        kind: 'rejected',
        reason: 'both content-length and transfer-encoding',
      }),
    ).toMatch(/ours rejected/);
    expect(
      compareOutcomes(ok, { kind: 'rejected', reason: 'unsupported transfer-encoding "gzip"' }),
    ).toBeUndefined();
    expect(compareOutcomes(ok, { ...ok, status: 201 })).toMatch(/status/);
    expect(compareOutcomes(ok, { ...ok, contentType: undefined })).toMatch(/content-type/);
    expect(compareOutcomes(ok, { ...ok, body: 'x' })).toMatch(/body/);
    expect(compareOutcomes({ ...ok, hasTrailingBytes: true }, ok)).toMatch(
      /bytes after the response/,
    );
    expect(compareOutcomes({ ...ok, canReuse: false }, ok)).toMatch(/reuse/);
  });
});
