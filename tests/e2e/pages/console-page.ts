// Page object of the console: navigation, the cluster view, configuration, dashboard and playground. Locates by
// role and label; data-testid only where nothing else identifies an element (GPU cards, worker rows, charts).
import { join } from 'node:path';

import { expect, type Locator, type Page } from '@playwright/test';

export type ViewLabel = 'Cluster' | 'Configuration' | 'Dashboard' | 'Playground' | 'Benchmark';

export class ConsolePage {
  constructor(readonly page: Page) {}

  get connectionBadge(): Locator {
    return this.page.locator('.topbar').getByLabel('Connection');
  }

  async open(view: ViewLabel): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('button', { name: view, exact: true })
      .click();
    await expect(this.page.getByRole('heading', { level: 1, name: view })).toBeVisible();
  }

  async screenshot(dir: string, name: string): Promise<void> {
    await this.page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }

  gpuCard(index: number): Locator {
    return this.page.getByTestId(`gpu-card-${index}`);
  }

  workerRow(id: string): Locator {
    return this.page.getByTestId(`worker-row-${id}`);
  }

  workerState(id: string): Locator {
    return this.workerRow(id).locator('[data-state]');
  }

  get addWorkerForm(): Locator {
    return this.page.getByRole('form', { name: 'Add worker' });
  }

  /** Worker ids of the local workers' table, sorted. */
  async workerIds(): Promise<string[]> {
    const rows = await this.page.locator('[data-testid^="worker-row-"]').all();
    const ids = await Promise.all(rows.map((r) => r.getAttribute('data-testid')));
    return ids.map((id) => (id ?? '').slice('worker-row-'.length)).sort();
  }

  /** GPU index -> the names its card shows as holders. */
  async gpuHolders(): Promise<Record<string, string>> {
    const cards = await this.page.locator('[data-testid^="gpu-card-"]').all();
    const pairs = await Promise.all(
      cards.map(async (card): Promise<[string, string]> => [
        ((await card.getAttribute('data-testid')) ?? '').slice('gpu-card-'.length),
        (await card.getAttribute('data-holders')) ?? '',
      ]),
    );
    return Object.fromEntries(pairs);
  }

  /** Opens the Add worker panel on a GPU, picks the role and (optionally) the name, and starts the worker. */
  async addWorker(gpu: number, role: 'context' | 'generation', name?: string): Promise<void> {
    await this.open('Cluster');
    await this.gpuCard(gpu).click();
    const form = this.addWorkerForm;
    await expect(form).toBeVisible();
    await form.getByRole('group', { name: 'Role' }).getByRole('button', { name: role }).click();
    if (name) await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByRole('button', { name: 'Start worker' }).click();
    await expect(this.page.getByRole('region', { name: /^Worker / })).toBeVisible();
    await this.page.getByRole('button', { name: 'Close', exact: true }).click();
  }

  /** Removes a worker through its row (with the confirmation) and waits until the row is gone. */
  async removeWorker(id: string): Promise<void> {
    await this.open('Cluster');
    await this.workerRow(id)
      .getByRole('button', { name: `Remove ${id}` })
      .click();
    await this.workerRow(id)
      .getByRole('button', { name: `Confirm removing ${id}` })
      .click();
    await expect(this.workerRow(id)).toHaveCount(0, { timeout: 60_000 });
  }

  /** Appends a line to a file of the draft in the Configuration view's editor. */
  async appendToDraft(file: string, line: string): Promise<void> {
    await this.open('Configuration');
    await this.page
      .getByRole('navigation', { name: 'Files' })
      .getByRole('button', { name: new RegExp(`^${file}`) })
      .click();
    const editor = this.page
      .getByRole('region', { name: `Editor for ${file}` })
      .locator('.cm-content');
    await editor.click();
    await this.page.keyboard.press('ControlOrMeta+End');
    await this.page.keyboard.type(`\n${line}`);
  }

  /** Imports files through the Import button, as a user picking them would. */
  async importFiles(files: Record<string, string>): Promise<void> {
    await this.open('Configuration');
    await this.page.locator('input[type="file"]').setInputFiles(
      Object.entries(files).map(([name, text]) => ({
        name,
        mimeType: 'text/yaml',
        buffer: Buffer.from(text),
      })),
    );
  }

  chart(testId: string): Locator {
    return this.page.getByTestId(testId);
  }
}
