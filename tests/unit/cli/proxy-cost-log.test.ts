import { afterEach, describe, expect, it, vi } from 'vitest';

import { costLine, startCostReporting } from '../../../electron/cli/proxy-cost-log';
import type { ProxyRequestRecord } from '../../../electron/core/proxy/types';

describe('the CLI proxy cost log', () => {
  afterEach(() => vi.useRealTimers());

  it('formats per request, per token and the counts', () => {
    expect(
      costLine(
        {
          cpuUs: 2_000_000,
          requests: 20_000,
          tokens: 0,
          cpuUsPerRequest: 100,
          cpuUsPerToken: null,
        },
        4,
      ),
    ).toBe(
      '[Cost] proxy CPU 100.0 us/request, - us/token (20000 requests, 0 tokens, 2.00 CPU s, 4 processes)',
    );
  });

  it('a single process logs the requests and tokens its records counted in each interval', () => {
    vi.useFakeTimers();
    let deliver: (r: ProxyRequestRecord[]) => void = () => undefined;
    const lines: string[] = [];
    const t = startCostReporting(
      {
        onRecords: (cb) => {
          deliver = cb;
          return () => undefined;
        },
      },
      1,
      undefined,
      (_lv, m) => lines.push(m),
    );
    deliver([{ completionTokens: 5 } as ProxyRequestRecord, {} as ProxyRequestRecord]);
    vi.advanceTimersByTime(1_000);
    deliver([{ completionTokens: 3 } as ProxyRequestRecord]);
    vi.advanceTimersByTime(1_000);
    clearInterval(t);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('(2 requests, 5 tokens');
    expect(lines[1]).toContain('(1 requests, 3 tokens');
    expect(lines[1]).toContain('1 process)');
  });
});
