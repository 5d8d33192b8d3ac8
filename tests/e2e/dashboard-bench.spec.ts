// Dashboard smoothness with 32 workers and one hour of data (feature O1's bar): the metrics history the
// console loads is replaced, at the network level, by an hour of 1 s buckets and iteration stats for 32
// workers; live ticks keep arriving from the real backend. Measures the time to switch to the 60 min window
// and, over the next 15 s of live updates, frame gaps (requestAnimationFrame) and long tasks, and writes
// them to test-results/dashboard-bench.json. Those are wall-clock figures, printed and written, not
// asserted; asserted are counts: the page keeps rendering, and the hour-long chart is re-derived on a
// few of the live ticks, not on every one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type {
  MetricsBucket,
  MetricsSnapshot,
  WorkerIterationSample,
} from '../../shared/model/metrics';
import { expect, SCREENSHOT_DIR, test } from './fixtures';

const WORKERS = 32;
const OBSERVE_MS = 15_000;

const PROBE_SCRIPT = `(() => {
  window.__frames = []; window.__long = []; window.__derive = [];
  let last = performance.now();
  const loop = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
  const view = document.querySelector('[data-derive-ms]');
  if (view) new MutationObserver(() => window.__derive.push(Number(view.getAttribute('data-derive-ms')))).observe(view, { attributes: true, attributeFilter: ['data-derive-ms'] });
})()`;

const READ_SCRIPT = `(() => {
  const q = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))] ?? 0;
  const f = window.__frames, l = window.__long, d = window.__derive;
  return { frames: f.length, frameP50Ms: q(f, 0.5), frameP95Ms: q(f, 0.95), frameMaxMs: Math.max(0, ...f),
    longTasks: l.length, longTaskMaxMs: Math.max(0, ...l), longTaskTotalMs: l.reduce((a, b) => a + b, 0),
    chartDerives: d.length, deriveMaxMs: Math.max(0, ...d) };
})()`;
const SECONDS = 3600;

function hourOfData(nowMs: number): MetricsSnapshot {
  const start = Math.floor(nowMs / 1000) * 1000 - SECONDS * 1000;
  const lat = (base: number, i: number) => ({
    count: 20,
    p50: base + (i % 30),
    p90: base * 1.6 + (i % 50),
    p99: base * 2.2 + (i % 90),
  });
  const overall: MetricsBucket[] = [];
  for (let i = 0; i < SECONDS; i += 1) {
    overall.push({
      atMs: start + i * 1000,
      requests: 20 + (i % 7),
      errors: i % 300 === 0 ? { upstream_5xx: 1 } : {},
      promptTokens: 20_000,
      completionTokens: 4000 + (i % 500),
      ttftMs: lat(120, i),
      tpotMs: lat(18, i),
      itlMs: lat(18, i),
      e2eMs: lat(2400, i),
      proxyAddedMs: lat(0.4, i),
    });
  }
  const iteration: Record<string, WorkerIterationSample[]> = {};
  for (let w = 0; w < WORKERS; w += 1) {
    const samples: WorkerIterationSample[] = [];
    for (let i = 0; i < SECONDS; i += 1) {
      samples.push({
        atMs: start + i * 1000,
        activeRequests: 8,
        queuedRequests: (i + w) % 9,
        kvCacheUsage: ((i * 3 + w * 7) % 100) / 100,
        kvCacheHitRate: 0.4,
      });
    }
    iteration[`${w < 16 ? 'ctx' : 'gen'}${w % 16}`] = samples;
  }
  return {
    fromMs: start,
    toMs: start + SECONDS * 1000,
    stepSec: 1,
    overall,
    perWorker: {},
    iteration,
    gpus: [],
  };
}

test('dashboard stays smooth with 32 workers and an hour of data', async ({ app }) => {
  test.setTimeout(120_000);
  const { page, console: c } = app;
  const big = JSON.stringify({ ok: true, value: hourOfData(Date.now()) });
  await page.route(/\/api\/metrics(%3A|:)snapshot$/, async (route) => {
    const args = route.request().postDataJSON() as [{ fromMs?: number; toMs?: number }] | null;
    const q = args?.[0];
    // The 5 s iteration refreshes ask for the last 10 s: let those reach the real backend.
    if (q?.fromMs !== undefined && q.toMs !== undefined && q.toMs - q.fromMs <= 60_000) {
      return route.continue();
    }
    return route.fulfill({ status: 200, contentType: 'application/json', body: big });
  });
  await c.open('Dashboard');
  const t0 = Date.now();
  await page
    .getByRole('group', { name: 'Time window' })
    .getByRole('button', { name: '60 min' })
    .click();
  await expect(page.getByText(/\d{3},\d{3} points/)).toBeVisible({ timeout: 30_000 });
  await expect(c.chart('chart-queue')).toHaveAttribute('data-has-data', 'true');
  const switchMs = Date.now() - t0;

  // In-page probes, as source text: this file is typed for Node (no DOM lib).
  await page.evaluate(PROBE_SCRIPT);
  await page.waitForTimeout(OBSERVE_MS);
  const stats = await page.evaluate<Record<string, number>>(READ_SCRIPT);
  const result = { workers: WORKERS, seconds: SECONDS, switchTo60MinMs: switchMs, ...stats };
  console.log(`dashboard bench: ${JSON.stringify(result)}`);
  writeFileSync(
    join(SCREENSHOT_DIR, '..', 'dashboard-bench.json'),
    JSON.stringify(result, null, 2),
  );
  await c.screenshot(SCREENSHOT_DIR, 'dashboard-32-workers-1h');
  // Live updates keep rendering, and the 60 min chart is re-derived only now and then (measured on a 2-core
  // box: p95 frame 16.8 ms, 2 long tasks, max 262 ms, the chart's redraw every 12 s). A redraw on every
  // 1 s tick would give about 15 derives in the 15 s observed.
  expect(stats.frames).toBeGreaterThan(0);
  expect(stats.chartDerives).toBeGreaterThanOrEqual(1);
  expect(stats.chartDerives).toBeLessThan(OBSERVE_MS / 1000 / 2);
});
