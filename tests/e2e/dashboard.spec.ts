// Dashboard end to end: traffic through the proxy shows up in the live charts and the proxy-cost meter.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect, SCREENSHOT_DIR, test } from './fixtures';

/** A saved `bench:proxy --json` result, as the meter's floor reads it from the data folder. */
const SAVED_BENCH = {
  date: '2026-12-07T10:00:00.000Z',
  machine: '2 x test CPU',
  run1: {
    'disagg-console proxy': { cpuUsPerReq: 76.8 },
    'bare two-hop relay': { cpuUsPerReq: 108.6 },
  },
  run2: {
    'disagg-console proxy': { cpuUsPerToken: 14.8 },
    'bare two-hop relay': { cpuUsPerToken: 19.0 },
  },
};

async function sendRequests(proxyUrl: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const res = await fetch(`${proxyUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'demo',
        prompt: `request ${i}: tell me about GPUs`,
        max_tokens: 8,
        stream: false,
      }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.status).toBe(200);
    await res.text();
    // Spread over a few seconds so the 1 s buckets hold a line, not a single point.
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('charts show data', async ({ app }) => {
  const { console: c, page, proxyUrl, dataDir } = app;
  writeFileSync(join(dataDir, 'proxy-bench.json'), JSON.stringify(SAVED_BENCH));
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Dashboard');
  await sendRequests(proxyUrl, 6);
  await expect(c.chart('chart-ttft')).toHaveAttribute('data-has-data', 'true', { timeout: 30_000 });
  await expect(c.chart('chart-throughput')).toHaveAttribute('data-has-data', 'true');
  await expect(c.chart('chart-gpu-util')).toHaveAttribute('data-has-data', 'true');
  await expect(c.chart('chart-ttft').locator('.recharts-line').first()).toBeVisible();
  await expect(page.getByTestId('stat-rps')).not.toHaveText('0.0 req/s');
  // The meter: the proxy thread's CPU over the 6 requests (a figure, not a dash), beside the saved floor.
  await expect(page.getByTestId('proxy-cost-request')).toHaveText(/^[\d.]+ µs \/ req$/, {
    timeout: 15_000,
  });
  await expect(page.getByTestId('proxy-cost-token')).toContainText(/[\d.]+ µs \/ token/);
  await expect(page.getByTestId('proxy-cost-floor')).toHaveText(
    'bare relay 109 µs / req, 19 µs / token (bench 2026-12-07)',
  );
  await c.screenshot(SCREENSHOT_DIR, 'dashboard');
  const csv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  expect((await csv).suggestedFilename()).toMatch(/\.csv$/);
});
