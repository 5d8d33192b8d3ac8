// Number formatting with units (renderer/lib/format.ts).
import { describe, expect, it } from 'vitest';

import {
  formatAddress,
  formatCount,
  formatDuration,
  formatFraction,
  formatMiB,
  formatMs,
  formatRate,
  formatTemp,
  formatWatts,
} from '../../../../renderer/lib/format';

describe('format helpers', () => {
  it.each([
    [null, '—'],
    [0.456, '0.46 ms'],
    [12.34, '12.3 ms'],
    [456.7, '457 ms'],
    [1234, '1.23 s'],
    [65_000, '65.0 s'],
  ])('formatMs(%s) = %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });

  it.each([
    [812, '812 MiB'],
    [81_559, '79.6 GiB'],
    [null, '—'],
  ])('formatMiB(%s) = %s', (mib, text) => {
    expect(formatMiB(mib)).toBe(text);
  });

  it.each([
    [5_000, '5 s'],
    [725_000, '12 min 5 s'],
    [3 * 3600_000 + 4 * 60_000, '3 h 4 min'],
    [2 * 86_400_000 + 5 * 3600_000, '2 d 5 h'],
    [-1, '—'],
  ])('formatDuration(%s) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('formats rates, counts, fractions, temperatures and power with units', () => {
    expect(formatRate(12.345, 'req')).toBe('12.3 req/s');
    expect(formatRate(12_500, 'tok')).toBe('12.5k tok/s');
    expect(formatCount(12345.4)).toBe('12,345');
    expect(formatFraction(0.425)).toBe('43 %');
    expect(formatTemp(63.4)).toBe('63 °C');
    expect(formatWatts(312.4, 700)).toBe('312 / 700 W');
    expect(formatWatts(null)).toBe('—');
  });

  it.each([
    ['http://127.0.0.1:8001', '127.0.0.1:8001'],
    ['https://gpu-a:8443', 'gpu-a:8443'],
    ['127.0.0.1:8001', '127.0.0.1:8001'],
  ])('formatAddress(%s) is %s', (url, want) => {
    expect(formatAddress(url)).toBe(want);
  });
});
