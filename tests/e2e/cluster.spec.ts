// Cluster view end to end: add a worker by clicking a free GPU and watch it become ready; remove a worker
// safely. Against `serve --demo` (simulated GPUs and engine).
import { expect, SCREENSHOT_DIR, test } from './fixtures';

test('add a worker by clicking a free GPU and see it become ready', async ({ app }) => {
  const { console: c, page } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.gpuCard(2).click();
  const form = c.addWorkerForm;
  await expect(form).toBeVisible();
  await form.getByRole('button', { name: 'generation' }).click();
  await form.getByRole('button', { name: 'Run pre-flight' }).click();
  await expect(form.getByText(/Pre-flight passed/)).toBeVisible();
  await form.getByRole('button', { name: 'Start worker' }).click();
  const panel = page.getByRole('region', { name: 'Worker gen1' });
  await expect(panel).toBeVisible();
  await expect(c.workerState('gen1')).toHaveText(/starting|ready/);
  await expect(c.workerState('gen1')).toHaveText('ready', { timeout: 60_000 });
  await expect(panel.getByText('Ready: /health answers')).toBeVisible();
  await expect(c.gpuCard(2)).toContainText('gen1');
  await c.workerRow('gen1').getByRole('button', { name: 'Logs of gen1' }).click();
  await expect(page.getByRole('log', { name: 'Log lines' })).not.toBeEmpty();
  await c.screenshot(SCREENSHOT_DIR, 'cluster');
});

test('remove a worker safely', async ({ app }) => {
  const { console: c, page } = app;
  await expect(c.workerState('gen0')).toHaveText('ready', { timeout: 60_000 });
  await c.workerRow('gen0').getByRole('button', { name: 'Remove gen0' }).click();
  await c.workerRow('gen0').getByRole('button', { name: 'Confirm removing gen0' }).click();
  await expect(c.workerRow('gen0')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByText(/removed gen0/i)).toBeVisible();
  await expect(c.gpuCard(1)).toContainText('Free');
  await c.screenshot(SCREENSHOT_DIR, 'cluster-after-remove');
});
