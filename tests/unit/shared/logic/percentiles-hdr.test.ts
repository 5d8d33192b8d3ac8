// The console's log-bucket percentiles (shared/logic/percentiles.ts) held to hdr-histogram-js, the
// maintained library for the same job, within each one's stated error. Ours stays because it is a plain
// JSON object that per-second histograms sum into coarser steps, store on disk and send to the UI as is
// (hdr's portable form is a compressed base64 blob, and its values are integers at a fixed unit); this
// test is what keeps it honest.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';

import {
  createLogHistogram,
  DEFAULT_BUCKET_RATIO,
  mergeInto,
  observe,
  percentile,
} from '../../../../shared/logic/percentiles';

/** Seeded latencies in ms: a lognormal body and a long tail, as TTFT and ITL look. */
function latencies(seed: number, n: number): number[] {
  let s = seed;
  const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 1) / (2 ** 32 + 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const normal = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
    out.push(rnd() < 0.02 ? 200 + rnd() * 5000 : Math.exp(3 + 0.6 * normal));
  }
  return out;
}

const QUANTILES = [0.5, 0.9, 0.99, 0.999];
/** Ours reports within +-(ratio-1)/2 of a value in the right bucket; hdr at 3 digits within 0.1%. */
const OURS_ERROR = (DEFAULT_BUCKET_RATIO - 1) / 2 + 1e-9;
const HDR_ERROR = 0.001;

describe('percentiles against hdr-histogram-js', () => {
  it.each([1, 2, 3])(
    'seed %i: every quantile within both stated errors of the exact value and of each other',
    (seed) => {
      const values = latencies(seed, 20_000);
      const ours = createLogHistogram();
      // hdr records integers: microseconds, 3 significant digits.
      const theirs = hdr.build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: 3_600_000_000,
        numberOfSignificantValueDigits: 3,
      });
      for (const v of values) {
        observe(ours, v);
        theirs.recordValue(Math.round(v * 1000));
      }
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of QUANTILES) {
        const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
        const mine = percentile(ours, q) as number;
        const hdrValue = theirs.getValueAtPercentile(q * 100) / 1000;
        expect(Math.abs(hdrValue - exact) / exact, `hdr p${q * 100}`).toBeLessThanOrEqual(
          HDR_ERROR + 0.0005,
        );
        expect(Math.abs(mine - exact) / exact, `ours p${q * 100}`).toBeLessThanOrEqual(OURS_ERROR);
        expect(Math.abs(mine - hdrValue) / hdrValue, `ours vs hdr p${q * 100}`).toBeLessThanOrEqual(
          OURS_ERROR + HDR_ERROR + 0.0005,
        );
      }
    },
  );

  it('merging per-second histograms gives what one histogram of everything gives, as hdr.add does', () => {
    const values = latencies(7, 6_000);
    const whole = createLogHistogram();
    const merged = createLogHistogram();
    const hdrMerged = hdr.build({ numberOfSignificantValueDigits: 3 });
    for (let second = 0; second < 6; second++) {
      const part = createLogHistogram();
      const hdrPart = hdr.build({ numberOfSignificantValueDigits: 3 });
      for (const v of values.slice(second * 1000, (second + 1) * 1000)) {
        observe(part, v);
        observe(whole, v);
        hdrPart.recordValue(Math.round(v * 1000));
      }
      // A JSON round trip: how per-second histograms reach the disk and the UI.
      mergeInto(merged, JSON.parse(JSON.stringify(part)) as typeof part);
      hdrMerged.add(hdrPart);
    }
    for (const q of QUANTILES) {
      expect(percentile(merged, q)).toBe(percentile(whole, q));
      const hdrValue = hdrMerged.getValueAtPercentile(q * 100) / 1000;
      expect(Math.abs((percentile(merged, q) as number) - hdrValue) / hdrValue).toBeLessThanOrEqual(
        OURS_ERROR + HDR_ERROR + 0.0005,
      );
    }
  });
});
