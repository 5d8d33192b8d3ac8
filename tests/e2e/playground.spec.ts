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

test('the timeline uses the workers’ own per-request metrics when the answer carries them', async ({
  app,
}) => {
  const { console: c, page } = app;
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  // The worker row shows the release the console detected (the demo's sims emulate 1.1 by default).
  await expect(page.getByTestId('worker-version-gen0')).toHaveText('TensorRT-LLM 1.1.0', {
    timeout: 15_000,
  });
  // A TensorRT-LLM 1.3 disaggregated server's stream: the tokens, [DONE], then its merged metrics event
  // (docs/upstream-versions.md section 3), whose numbers the playground must draw instead of its estimate.
  const metrics = {
    'Server-Timing':
      'disagg_queue;dur=2.000000, ctx_e2e;dur=198.000000, gen_kv_transfer;dur=40.000000, gen_e2e;dur=790.000000',
    'X-TRTLLM-Start-End-Time':
      'disagg-start;ts=100.000000000, disagg-end;ts=101.000000000, ctx-start;ts=100.002000000, ctx-end;ts=100.200000000, gen-start;ts=100.210000000, gen-end;ts=101.000000000',
  };
  let sawOptIn = false;
  await page.route(`${app.proxyUrl}/v1/**`, async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    sawOptIn = route.request().headers()['x-trtllm-return-metrics'] === '1';
    const isChat = route.request().url().endsWith('/chat/completions');
    const chunk = isChat
      ? { choices: [{ delta: { content: 'Hi.' } }] }
      : { choices: [{ text: 'Hi.' }] };
    await route.fulfill({
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        'access-control-allow-origin': new URL(app.consoleUrl).origin,
      },
      body: `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\nevent: trtllm.perf_metrics\ndata: ${JSON.stringify(metrics)}\n\n`,
    });
  });
  await c.open('Playground');
  await page.getByLabel('Prompt (Ctrl+Enter sends)').fill('Hello');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('response-card')).toHaveAttribute('data-status', 'done', {
    timeout: 30_000,
  });
  expect(sawOptIn).toBe(true);
  const bar = page.getByTestId('reported-timeline');
  await expect(bar).toBeVisible();
  await expect(bar).toContainText('KV transfer (reported by worker)');
  await expect(bar).toContainText('context (reported by worker)');
  await expect(bar).toContainText('generation (reported by worker)');
});
