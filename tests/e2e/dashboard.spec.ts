// Dashboard end to end: traffic through the proxy shows up in the live charts.
import { expect, SCREENSHOT_DIR, test } from './fixtures';

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
  const { console: c, page, proxyUrl } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Dashboard');
  await sendRequests(proxyUrl, 6);
  await expect(c.chart('chart-ttft')).toHaveAttribute('data-has-data', 'true', { timeout: 30_000 });
  await expect(c.chart('chart-throughput')).toHaveAttribute('data-has-data', 'true');
  await expect(c.chart('chart-gpu-util')).toHaveAttribute('data-has-data', 'true');
  await expect(c.chart('chart-ttft').locator('.recharts-line').first()).toBeVisible();
  await expect(page.getByTestId('stat-rps')).not.toHaveText('0.0 req/s');
  await c.screenshot(SCREENSHOT_DIR, 'dashboard');
  const csv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  expect((await csv).suggestedFilename()).toMatch(/\.csv$/);
});
