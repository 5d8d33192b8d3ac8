// Journeys of issue #12: several consecutive actions on ONE page, without a reload, one per repro (1-8), and ten
// actions in a row checked against `cluster:snapshot` after each. The page must agree with the backend's
// document: the worker table and the GPU cards' holders equal the snapshot's. Against `serve --demo`
// (simulated 4-GPU machine, ctx0 on GPU 0, gen0 on GPU 1). Waits are locator assertions and expect.poll.
import type { ClusterState } from '../../shared/model/cluster-state';
import { type ConsoleApp, expect, test } from './fixtures';

const GPU_COUNT = 4;

/** The page's worker table and GPU holders next to the backend's snapshot, as one comparable string each. */
async function pageAndBackend(app: ConsoleApp): Promise<{ page: string; backend: string }> {
  const snap = await app.call<ClusterState>('cluster:snapshot');
  const backendWorkers = snap.workers
    .filter((w) => w.origin === 'local')
    .map((w) => w.id)
    .sort();
  const backendGpus: Record<string, string> = {};
  for (let i = 0; i < GPU_COUNT; i++) {
    backendGpus[String(i)] = (snap.gpuAssignments[String(i)] ?? []).join(',');
  }
  const page = JSON.stringify({
    workers: await app.console.workerIds(),
    gpus: await app.console.gpuHolders(),
  });
  return { page, backend: JSON.stringify({ workers: backendWorkers, gpus: backendGpus }) };
}

/** Waits until the Cluster view shows what `cluster:snapshot` says. */
async function expectMirrorsBackend(app: ConsoleApp): Promise<void> {
  await app.console.open('Cluster');
  await expect
    .poll(async () => {
      const { page, backend } = await pageAndBackend(app);
      return page === backend ? 'same' : `page ${page} != backend ${backend}`;
    })
    .toBe('same');
}

async function snapshot(app: ConsoleApp): Promise<ClusterState> {
  return app.call<ClusterState>('cluster:snapshot');
}

test('repro 1: remove a worker, then add a new one on the GPU it freed, without a reload', async ({
  app,
}) => {
  const c = app.console;
  await c.removeWorker('gen0');
  await expect(c.gpuCard(1)).toContainText('Free');
  await c.addWorker(1, 'generation');
  await expect(c.workerState('gen0')).toHaveText(/starting|ready/);
  await expect(c.gpuCard(1)).toHaveAttribute('data-holders', 'gen0');
  await expectMirrorsBackend(app);
  // And once more on the same page: the second removal and re-add work as the first.
  await c.removeWorker('gen0');
  await c.addWorker(1, 'generation', 'gen5');
  await expect(c.gpuCard(1)).toHaveAttribute('data-holders', 'gen5');
  await expectMirrorsBackend(app);
});

test('repro 2: a draft started before a removal is refused on apply, and the removed worker stays gone', async ({
  app,
}) => {
  const { console: c, page } = app;
  await c.appendToDraft('console.yaml', '# tuned by hand');
  await expect(page.getByText('draft not applied')).toBeVisible();
  await expect
    .poll(async () => (await snapshot(app)).draft?.files['console.yaml'] ?? '')
    .toContain('# tuned by hand');
  await c.removeWorker('gen0');
  await c.open('Configuration');
  await expect(
    page.getByRole('status').filter({ hasText: 'This draft was started from version' }),
  ).toBeVisible();
  await page.getByRole('button', { name: 'Apply…' }).click();
  await page
    .getByRole('dialog', { name: 'Apply plan' })
    .getByRole('button', { name: 'Confirm apply' })
    .click();
  const refusal = page.getByRole('alert').filter({ hasText: 'Apply failed' });
  await expect(refusal).toContainText('changed since you looked');
  const snap = await snapshot(app);
  expect(snap.workers.map((w) => w.id)).not.toContain('gen0');
  expect(snap.topology.console?.workers.map((w) => w.name)).not.toContain('gen0');
  expect(snap.draft?.files['console.yaml']).toContain('# tuned by hand');
  await expectMirrorsBackend(app);
});

test('repro 3: the header says disconnected within 5 s of losing the backend, then reconnects and re-syncs', async ({
  app,
}) => {
  const { console: c, page } = app;
  await expect(c.workerState('ctx0')).toHaveText('ready', { timeout: 60_000 });
  await app.stopBackend();
  await expect(c.connectionBadge).toHaveText('disconnected', { timeout: 5_000 });
  await expect(page.locator('.app')).toHaveAttribute('data-stale', 'true');
  await expect(
    page.getByRole('status').filter({ hasText: 'Lost the console backend' }),
  ).toBeVisible();
  await app.startBackend();
  await expect(c.connectionBadge).toHaveText('connected', { timeout: 60_000 });
  await expect(page.locator('.app')).not.toHaveAttribute('data-stale', 'true');
  await expectMirrorsBackend(app);
  // The page works on after the reconnect: one more action through the re-synced mirror.
  await c.removeWorker('gen0');
  await expectMirrorsBackend(app);
});

test('repro 4: removing the last generation worker drops it from the topology, also across a restart', async ({
  app,
}) => {
  const { console: c, page } = app;
  await c.removeWorker('gen0');
  await expect(page.getByText(/removed gen0/i)).toBeVisible();
  const snap = await snapshot(app);
  expect(snap.topology.console?.workers.map((w) => w.name)).toEqual(['ctx0']);
  await app.stopBackend();
  await app.startBackend();
  await expect(c.connectionBadge).toHaveText('connected', { timeout: 60_000 });
  await expect(c.workerRow('ctx0')).toBeVisible();
  await expectMirrorsBackend(app);
  expect((await snapshot(app)).workers.map((w) => w.id)).not.toContain('gen0');
});

test('repro 5: the Add-worker panel sees its GPU taken by another window and refuses; so does the backend', async ({
  app,
}) => {
  const { console: c, page } = app;
  await c.gpuCard(2).click();
  const form = c.addWorkerForm;
  await expect(form).toBeVisible();
  const seen = (await snapshot(app)).version;
  // Another window places gen9 on GPU 2 while this panel is open.
  await app.call('cluster:command', {
    command: {
      kind: 'addWorker',
      request: { id: 'gen9', role: 'generation', gpus: [2], model: 'm', engine: 'simulated' },
    },
    expectedVersion: seen,
  });
  await expect(form.getByRole('alert', { name: 'Placement conflicts' })).toContainText(
    'GPU 2 is now used by gen9',
  );
  await expect(form.getByRole('button', { name: 'Start worker' })).toBeDisabled();
  // A command built on the version the panel saw is refused by the backend too, naming what changed.
  const stale = await app.callEnvelope('cluster:command', {
    command: {
      kind: 'addWorker',
      request: { id: 'gen8', role: 'generation', gpus: [2], model: 'm', engine: 'simulated' },
    },
    expectedVersion: seen,
  });
  expect(stale.error?.code).toBe('STALE_STATE');
  expect(stale.error?.message).toContain('GPU 2');
  expect((await snapshot(app)).gpuAssignments['2']).toEqual(['gen9']);
  await page.getByRole('button', { name: 'Close add worker panel' }).click();
  await expectMirrorsBackend(app);
});

test('repro 6: shift-clicking two GPUs places a TP=2 worker', async ({ app }) => {
  const { console: c, page } = app;
  await c.gpuCard(2).click();
  await c.gpuCard(3).click({ modifiers: ['Shift'] });
  const form = c.addWorkerForm;
  await expect(form).toContainText('GPU 2, 3 · TP 2');
  await expect(form.getByLabel('Tensor parallel size')).toHaveValue('2');
  await expect(form.getByRole('textbox', { name: /Options/ })).toHaveValue(
    /tensor_parallel_size: 2/,
  );
  await form.getByRole('button', { name: 'Start worker' }).click();
  await expect(page.getByRole('region', { name: /^Worker / })).toBeVisible();
  await expect
    .poll(async () => {
      const w = (await snapshot(app)).workers.find((x) => x.spec?.gpus.join(',') === '2,3');
      return w ? `${w.spec!.tpSize}x${w.spec!.ppSize}` : 'none';
    })
    .toBe('2x1');
  await expectMirrorsBackend(app);
});

test('repro 7: at 1024x700 the cluster view does not scroll sideways', async ({ app }) => {
  const { console: c, page } = app;
  await page.setViewportSize({ width: 1024, height: 700 });
  const fits = (): Promise<boolean> =>
    page.evaluate<boolean>(
      'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
    );
  await c.open('Cluster');
  await expect.poll(fits).toBe(true);
  await c.gpuCard(2).click();
  await expect(c.addWorkerForm).toBeVisible();
  await expect.poll(fits).toBe(true);
  await c.workerRow('ctx0').getByRole('button', { name: 'Logs of ctx0' }).click();
  await expect(page.getByRole('log', { name: 'Log lines' })).toBeVisible();
  await expect.poll(fits).toBe(true);
});

test('repro 8: importing a broken YAML keeps the draft and shows the error at its line and column', async ({
  app,
}) => {
  const { console: c, page } = app;
  await c.appendToDraft('console.yaml', '# keep me');
  await expect
    .poll(async () => (await snapshot(app)).draft?.files['console.yaml'] ?? '')
    .toContain('# keep me');
  await c.importFiles({
    'disagg_config.yaml': 'hostname: localhost\nport: 8000\ncontext_servers: [a, b\n',
  });
  const error = page.getByRole('alert', { name: 'Import error' });
  await expect(error).toContainText('The draft was kept');
  await expect(error).toContainText(/disagg_config\.yaml:\d+:\d+/);
  expect((await snapshot(app)).draft?.files['console.yaml']).toContain('# keep me');
  await expect(
    page.getByRole('region', { name: 'Editor for console.yaml' }).locator('.cm-content'),
  ).toContainText('# keep me');
});

test('ten actions in a row on one page, each checked against cluster:snapshot', async ({ app }) => {
  test.setTimeout(300_000);
  const { console: c, page } = app;
  await c.addWorker(2, 'context'); // 1: ctx1
  await expectMirrorsBackend(app);
  await c.addWorker(3, 'generation'); // 2: gen1
  await expectMirrorsBackend(app);
  await c.removeWorker('ctx1'); // 3
  await expectMirrorsBackend(app);
  await c.open('Cluster'); // 4: restart gen0
  await c.workerRow('gen0').getByRole('button', { name: 'Restart gen0' }).click();
  await expect(c.workerState('gen0')).toHaveText(/starting|ready/);
  await expectMirrorsBackend(app);
  await c.appendToDraft('console.yaml', '# ten actions'); // 5: edit the draft
  await expect
    .poll(async () => (await snapshot(app)).draft?.files['console.yaml'] ?? '')
    .toContain('# ten actions');
  await page.getByRole('button', { name: 'Apply…' }).click(); // 6: apply it
  await page
    .getByRole('dialog', { name: 'Apply plan' })
    .getByRole('button', { name: 'Confirm apply' })
    .click();
  await expect(page.getByText(/Applied as version/)).toBeVisible();
  expect((await snapshot(app)).topology.files['console.yaml']).toContain('# ten actions');
  await expectMirrorsBackend(app);
  await c.importFiles({ 'disagg_config.yaml': 'port: [8000\n' }); // 7: a broken import
  await expect(page.getByRole('alert', { name: 'Import error' })).toBeVisible();
  await expectMirrorsBackend(app);
  const good = (await snapshot(app)).topology.files['disagg_config.yaml'] ?? '';
  await c.importFiles({ 'disagg_config.yaml': good }); // 8: a good import
  await expect(page.getByRole('alert', { name: 'Import error' })).toHaveCount(0);
  await expect.poll(async () => (await snapshot(app)).draft !== null).toBe(true);
  await expectMirrorsBackend(app);
  await c.removeWorker('gen1'); // 9: remove generation workers down to the last one, and it
  await c.removeWorker('gen0');
  await expectMirrorsBackend(app);
  await c.addWorker(1, 'generation'); // 10: re-add on the freed GPU
  await expect(c.gpuCard(1)).toHaveAttribute('data-holders', 'gen0');
  await expectMirrorsBackend(app);
  expect(app.pageErrors).toEqual([]);
});
