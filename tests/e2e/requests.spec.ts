// Recent requests end to end (O4): a streamed completion through the demo proxy shows up in the Dashboard's
// Recent requests table with its workers and timings, and a click opens its timeline with token ticks.
import { join } from 'node:path';

import { expect, SCREENSHOT_DIR, test } from './fixtures';

/** Sends one streamed completion and reads it to the end; returns the proxy's request id header if any. */
async function streamCompletion(proxyUrl: string): Promise<string | null> {
  const res = await fetch(`${proxyUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'demo',
      prompt: 'Explain the KV cache hand-off in one sentence.',
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    }),
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('data: [DONE]');
  return res.headers.get('x-disagg-request-id');
}

test('a completion through the proxy appears in Recent requests with its timeline', async ({
  app,
}) => {
  const { console: c, page, proxyUrl } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Dashboard');
  const panel = page.getByRole('region', { name: 'Recent requests' });
  await expect(panel).toBeVisible();
  const headerId = await streamCompletion(proxyUrl);
  const table = panel.getByRole('table', { name: 'Recent requests' });
  const row = table.locator('tbody tr').first();
  // Arrives through the requests:recorded event (no reload).
  await expect(row).toBeVisible({ timeout: 15_000 });
  if (headerId !== null) await expect(row).toHaveAttribute('data-request-id', headerId);
  await expect(row).toContainText('completions');
  await expect(row).toContainText('ok');
  await expect(row).toContainText('ctx0');
  await expect(row).toContainText('gen0');
  await expect(row.locator('td').nth(5)).toHaveText(/\d+(\.\d+)? (ms|s)/);
  await row.click();
  const timeline = page.getByTestId('request-timeline');
  await expect(timeline).toBeVisible();
  const bar = timeline.getByRole('img', { name: /Timeline of request \d+/ });
  await expect(bar).toHaveAttribute(
    'aria-label',
    /context queue \+ prefill .*KV hand-off .*generation .*\d+ tokens/,
  );
  expect(await bar.locator('[data-tick]').count()).toBeGreaterThan(0);
  // The panel alone: a full-page shot would cut through the sticky top bar this far down.
  await panel.screenshot({ path: join(SCREENSHOT_DIR, 'requests.png') });
  // The filter goes to the backend: no errors were sent, so the error view is empty.
  await panel.getByLabel('Outcome').selectOption('errors');
  await expect(panel.getByText('No requests match this filter.', { exact: false })).toBeVisible();
  expect(app.pageErrors).toEqual([]);
});

test('the playground shows the proxy timeline of its answer (G2)', async ({ app }) => {
  const { console: c, page } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Playground');
  await page.getByLabel('Max tokens').fill('16');
  await page.getByLabel('Prompt (Ctrl+Enter sends)').fill('What does the context worker do?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const card = page.getByTestId('response-card');
  await expect(card).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  const server = card.getByTestId('server-timeline').getByRole('img');
  await expect(server).toHaveAttribute(
    'aria-label',
    /context queue \+ prefill .*KV hand-off .*generation/,
  );
  await expect(card.getByTestId('metric-proxy-ttft')).toHaveText(/\d+(\.\d+)? (ms|s) \/ /);
  await expect(card).toContainText('ctx0');
  await expect(card).toContainText('gen0');
  await card.screenshot({ path: join(SCREENSHOT_DIR, 'playground-timeline.png') });
});
