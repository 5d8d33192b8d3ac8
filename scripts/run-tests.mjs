#!/usr/bin/env node
// `npm test`: typecheck, lint, the Vitest suites (unit, contract, integration) and the Playwright
// end-to-end suite, then one summary line `N passed, N failed, N skipped` summed from the runners'
// JSON reports (reports/*.json).
// `npm run test:fast` (`--fast`): typecheck, lint and the unit and contract Vitest projects only (no
// integration, build or e2e), ending with the same summary line. The lanes are in tests/README.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reports = join(root, 'reports');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const isFast = process.argv.includes('--fast');
const steps = [];
function run(name, cmd, args, env = {}) {
  const started = Date.now();
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const result = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const ok = result.status === 0;
  steps.push({ name, ok, seconds: (Date.now() - started) / 1000 });
  return ok;
}

const npx = join(root, 'node_modules', '.bin');
run('typecheck', 'npm', ['run', '--silent', 'typecheck']);
if (isFast) {
  // The fast lane lints and format-checks with caches keyed by file content, so a second run reads only what
  // changed. ESLint's cache can miss a type-aware finding caused by a change in another file; the full lane
  // (`npm run lint`, uncached) catches it. One cache folder per checkout (worktrees may share node_modules).
  const cacheDir = join(
    root,
    'node_modules',
    '.cache',
    'disagg-console',
    createHash('sha1').update(root).digest('hex').slice(0, 12),
  );
  run('lint', join(npx, 'eslint'), [
    '--max-warnings',
    '0',
    '--cache',
    '--cache-strategy',
    'content',
    '--cache-location',
    join(cacheDir, 'eslint'),
    '.',
  ]);
  run('format', join(npx, 'prettier'), [
    '--check',
    '--log-level',
    'warn',
    '--cache',
    '--cache-strategy',
    'content',
    '--cache-location',
    join(cacheDir, 'prettier'),
    '.',
  ]);
} else {
  run('lint', 'npm', ['run', '--silent', 'lint']);
}
const projects = isFast ? ['--project', 'unit', '--project', 'contract'] : [];
run('vitest', join(npx, 'vitest'), [
  'run',
  ...projects,
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${join(reports, 'vitest.json')}`,
]);

// The Electron main, preload and renderer bundles must build (packaging itself needs the Electron binary).
const built = !isFast && run('build', 'npm', ['run', '--silent', 'build']);

const hasE2e =
  !isFast &&
  existsSync(join(root, 'tests', 'e2e')) &&
  readdirSync(join(root, 'tests', 'e2e'), { recursive: true }).some((f) =>
    String(f).endsWith('.spec.ts'),
  );
if (hasE2e) {
  run(
    'playwright',
    join(npx, 'playwright'),
    ['test', '--project=browser', '--reporter=list,json'],
    {
      PLAYWRIGHT_JSON_OUTPUT_NAME: join(reports, 'playwright.json'),
      // The renderer was just built above; the e2e global setup builds it only when run on its own.
      ...(built ? { E2E_SKIP_BUILD: '1' } : {}),
    },
  );
}

let passed = 0;
let failed = 0;
let skipped = 0;
const vitestReport = join(reports, 'vitest.json');
if (existsSync(vitestReport)) {
  const r = JSON.parse(readFileSync(vitestReport, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that failed to load counts its file as a failure even when no test in it ran.
  for (const file of r.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
}
const pwReport = join(reports, 'playwright.json');
if (existsSync(pwReport)) {
  const s = JSON.parse(readFileSync(pwReport, 'utf8')).stats ?? {};
  passed += (s.expected ?? 0) + (s.flaky ?? 0);
  failed += s.unexpected ?? 0;
  skipped += s.skipped ?? 0;
}

// CI shows only the tail of the output: name each failed test there, with the first line of its error.
const failures = [...vitestFailures(vitestReport), ...playwrightFailures(pwReport)];
if (failures.length > 0) process.stdout.write(`\nFailed tests:\n${failures.join('\n')}\n`);

process.stdout.write('\n');
for (const s of steps)
  process.stdout.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.seconds.toFixed(1)} s)\n`);
const stepFailures = steps.filter((s) => !s.ok).length;
// typecheck, lint, format and build are not test runners: a failure there fails the run and counts as one failure.
const toolFailures = steps.filter(
  (s) => !s.ok && ['typecheck', 'lint', 'format', 'build'].includes(s.name),
).length;
process.stdout.write(`${passed} passed, ${failed + toolFailures} failed, ${skipped} skipped\n`);
process.exitCode = stepFailures === 0 && failed === 0 ? 0 : 1;

function firstLine(text) {
  // Runner messages carry ANSI colour codes; the recap is plain text.
  return (
    String(text ?? '')
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .find((l) => l.trim()) ?? ''
  );
}

function vitestFailures(path) {
  if (!existsSync(path)) return [];
  const out = [];
  for (const file of JSON.parse(readFileSync(path, 'utf8')).testResults ?? []) {
    const relative = String(file.name).replace(root, '');
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0)
      out.push(`  ✗ ${relative}: ${firstLine(file.message)}`);
    for (const t of file.assertionResults ?? [])
      if (t.status === 'failed')
        out.push(`  ✗ ${relative} › ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
  }
  return out;
}

function playwrightFailures(path) {
  if (!existsSync(path)) return [];
  const out = [];
  const walk = (suite) => {
    for (const spec of suite.specs ?? [])
      for (const test of spec.tests ?? [])
        if (test.status === 'unexpected') {
          const last = test.results?.at(-1);
          out.push(`  ✗ ${spec.file} › ${spec.title}: ${firstLine(last?.error?.message)}`);
        }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of JSON.parse(readFileSync(path, 'utf8')).suites ?? []) walk(suite);
  return out;
}
