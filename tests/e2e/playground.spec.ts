// Playground end to end: send a prompt through the proxy and see the streamed text and its metrics.
import { expect, SCREENSHOT_DIR, test } from './fixtures';

/** True when the proxy answers a browser preflight from the console's origin (CORS), which the playground needs. */
async function proxyAllowsConsoleOrigin(proxyUrl: string, consoleUrl: string): Promise<boolean> {
  const res = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin: new URL(consoleUrl).origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  return res.headers.get('access-control-allow-origin') !== null;
}

test('send a playground prompt and see streamed text and metrics', async ({ app }) => {
  const { console: c, page } = app;
  // The page (console port) calls the proxy (its own port): the proxy must grant the console's origin.
  expect(await proxyAllowsConsoleOrigin(app.proxyUrl, app.consoleUrl)).toBe(true);
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Playground');
  await page.getByLabel('Max tokens').fill('24');
  await page
    .getByLabel('Prompt (Ctrl+Enter sends)')
    .fill('Explain disaggregated serving in one sentence.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const card = page.getByTestId('response-card');
  await expect(card).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  await expect(page.getByTestId('response-text')).not.toBeEmpty();
  await expect(page.getByTestId('metric-ttft')).toHaveText(/\d+(\.\d+)? (ms|s)/);
  await expect(page.getByTestId('metric-tokens')).toHaveText(/\d+ \/ \d+/);
  await page.getByRole('button', { name: 'View code' }).click();
  await expect(page.getByTestId('code-snippet')).toContainText('curl -N');
  await c.screenshot(SCREENSHOT_DIR, 'playground');
});
