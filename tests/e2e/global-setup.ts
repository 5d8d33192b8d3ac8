// Builds the renderer once before the e2e run, so `serve` has dist/renderer to serve.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// eslint-disable-next-line no-restricted-syntax -- Playwright loads globalSetup through its default export
export default function globalSetup(): void {
  if (process.env.E2E_SKIP_BUILD === '1') return;
  const root = join(import.meta.dirname, '..', '..');
  const viteBin = join(
    dirname(createRequire(import.meta.url).resolve('vite/package.json')),
    'bin',
    'vite.js',
  );
  execFileSync(
    process.execPath,
    [viteBin, 'build', '-c', 'vite.renderer.config.ts', '--logLevel', 'warn'],
    { cwd: root, stdio: 'inherit', timeout: 180_000 },
  );
}
