// Configuration end to end: break a YAML field, see the error inline at its line, fix it, apply and see the
// new version recorded.
import { expect, SCREENSHOT_DIR, test } from './fixtures';

test('break a YAML field, see the error inline, fix it and apply', async ({ app }) => {
  const { console: c, page } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await c.open('Configuration');
  await page
    .getByRole('navigation', { name: 'Files' })
    .getByRole('button', { name: /^ctx0\.yaml/ })
    .click();
  const editor = page.getByRole('textbox', { name: 'YAML of ctx0.yaml' });
  await expect(editor).toBeVisible();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+End');
  // A key the role's template does not set (the demo's options come from the shared template).
  await page.keyboard.type('\ntensor_parallel_size: -4');
  const problems = page.getByRole('list', { name: 'Problems' }).first();
  await expect(problems).toContainText('tensor_parallel_size');
  await expect(problems).toContainText(/ctx0\.yaml:\d+:\d+/);
  await expect(page.locator('.cm-lintRange-error').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /ctx0\.yaml/ }).getByLabel(/errors/)).toBeVisible();
  await c.screenshot(SCREENSHOT_DIR, 'configuration-error');
  for (let i = 0; i < 2; i += 1) await page.keyboard.press('Backspace');
  await page.keyboard.type('1'); // one GPU: TP 1
  await expect(page.getByText('No problems in this file.')).toBeVisible();
  await page.getByRole('button', { name: 'Apply…' }).click();
  const plan = page.getByRole('dialog', { name: 'Apply plan' });
  await expect(plan).toContainText('Restart: ctx0');
  await plan.getByRole('button', { name: 'Confirm apply' }).click();
  await expect(page.getByText(/Applied as version 2/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Applied versions' })).toContainText('v2');
  await c.screenshot(SCREENSHOT_DIR, 'configuration');
});
