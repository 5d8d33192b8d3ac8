// The Electron app (project `electron`): launches the built main process where the Electron binary exists,
// and skips itself where it was never downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD=1 installs, these CI machines).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { _electron as electron, expect, test } from '@playwright/test';

const ROOT = join(import.meta.dirname, '..', '..');

function electronBinary(): string | null {
  const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

test('the desktop window shows the console and quits cleanly', async () => {
  const bin = electronBinary();
  test.skip(
    bin === null,
    'no Electron binary: node_modules/electron/path.txt or the file it names under node_modules/electron/dist is missing ' +
      '(installs made with ELECTRON_SKIP_BINARY_DOWNLOAD=1, as on CI machines, never download it)',
  );
  test.skip(
    !existsSync(join(ROOT, '.vite', 'build', 'main.js')),
    '.vite/build/main.js is missing: run `npm run build` (or electron-forge package) first',
  );
  const app = await electron.launch({
    executablePath: bin!,
    args: [join(ROOT, '.vite', 'build', 'main.js')],
    cwd: ROOT,
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('navigation', { name: 'Views' })).toBeVisible({
      timeout: 60_000,
    });
    const hasBridge = await window.evaluate(
      () => typeof (window as unknown as { bridge?: unknown }).bridge === 'object',
    );
    expect(hasBridge).toBe(true);
    const hasNode = await window.evaluate(
      () => typeof (globalThis as { process?: unknown }).process !== 'undefined',
    );
    expect(hasNode).toBe(false);
  } finally {
    await app.close();
  }
});
