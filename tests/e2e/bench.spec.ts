// Benchmark view end to end: a tiny concurrency sweep against the demo topology from the form, the
// latency-vs-throughput charts with one point per step, and the run in the saved-runs list.
import { expect, SCREENSHOT_DIR, test } from './fixtures';

test('run a tiny sweep from the Benchmark view and see the chart and the saved run', async ({
  app,
}) => {
  const { console: c, page } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Benchmark');
  await expect(page.getByText('No saved runs yet')).toBeVisible();
  const form = page.getByRole('form', { name: 'Load test' });
  await form.getByLabel('Input length (tokens)').fill('32');
  await form.getByLabel('Output length (tokens)').fill('8');
  await form.getByLabel('Prompts per step').fill('6');
  await form.getByLabel('Sweep steps').fill('1,2,4');
  await form.getByLabel('SLO TTFT (ms)').fill('2000');
  await form.getByRole('button', { name: 'Run sweep' }).click();

  const charts = c.chart('bench-charts');
  await expect(charts).toHaveAttribute('data-points', '3', { timeout: 60_000 });
  // Each of the three charts draws its two lines (p50 and p99) through the three steps.
  await expect(charts.locator('.recharts-line-curve')).toHaveCount(6);
  const runs = page.getByTestId('bench-runs');
  await expect(runs.getByRole('row')).toHaveCount(2);
  await expect(runs).toContainText('ISL 32 / OSL 8, concurrency 1,2,4, 6 prompts');
  await expect(runs).toContainText('1 ctx + 1 gen (simulated)');
  await expect(page.getByTestId('bench-current').getByRole('row')).toHaveCount(4);
  await page.evaluate('window.scrollTo(0, 0)');
  await c.screenshot(SCREENSHOT_DIR, 'bench');
  expect(app.pageErrors).toEqual([]);
});

test('planner: calibrate, predict on 2 GPUs, apply the 1+1 layout and check it', async ({
  app,
}) => {
  const { console: c, page } = app;
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  // Calibration measures the context worker (its prefills reach 2,048 tokens; the generation template's
  // max_num_tokens is 512), so it must be ready too.
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Benchmark');
  const panel = page.getByTestId('planner-panel');
  await panel.getByRole('button', { name: 'Calibrate' }).click();
  await expect(panel.getByLabel('Fitted profile')).toContainText('Fit error', { timeout: 60_000 });
  await panel.getByLabel('GPUs', { exact: true }).fill('2');
  await panel.getByLabel('SLO TTFT (ms)').fill('1000');
  await panel.getByRole('button', { name: 'Predict layouts' }).click();
  const layouts = page.getByTestId('planner-layouts');
  await expect(layouts.getByRole('row')).toHaveCount(3, { timeout: 60_000 });
  await expect(layouts).toContainText('recommended');
  await layouts
    .getByRole('row')
    .filter({ hasText: '1 ctx + 1 gen' })
    .getByRole('button', { name: 'Apply' })
    .click();
  await panel.getByRole('button', { name: 'Check prediction' }).click();
  const check = page.getByTestId('planner-check');
  await expect(check).toContainText('Mean absolute error', { timeout: 60_000 });
  await expect(check).toContainText('requests/s');
  await page.evaluate('window.scrollTo(0, 0)');
  await c.screenshot(SCREENSHOT_DIR, 'bench-planner');
  expect(app.pageErrors).toEqual([]);
});
