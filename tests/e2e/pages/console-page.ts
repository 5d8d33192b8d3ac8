// Page object of the console: navigation, the cluster view, configuration, dashboard and playground. Locates by
// role and label; data-testid only where nothing else identifies an element (GPU cards, worker rows, charts).
import { join } from 'node:path';

import { expect, type Locator, type Page } from '@playwright/test';

export type ViewLabel = 'Cluster' | 'Configuration' | 'Dashboard' | 'Playground' | 'Benchmark';

export class ConsolePage {
  constructor(readonly page: Page) {}

  get connectionBadge(): Locator {
    return this.page.locator('.topbar .badge').filter({ hasText: /connected|offline|connecting/ });
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

  chart(testId: string): Locator {
    return this.page.getByTestId(testId);
  }
}
