#!/usr/bin/env node
// `npm start`: the desktop app (electron-forge start) where the Electron binary is installed; otherwise the
// same console headless (`disagg-console serve`), which prints the URL to open in a browser. Extra arguments
// go to `serve` (e.g. `npm start -- --demo`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/**
 * The Electron binary path, or null when it was never downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD=1, offline
 * installs). Read from the package's path.txt: requiring `electron` would try to download the binary now.
 */
function electronBinary() {
  const pkg = join(root, 'node_modules', 'electron');
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH;
    return existsSync(dist) ? dist : null;
  }
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', shell: false });
  // Pass our termination on, so quitting `npm start` stops the console and with it every worker.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  // `npm` exits on SIGTERM without passing it to us; we notice by being re-parented and stop the console
  // the same way, so no worker outlives the command that started it.
  const parentPid = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parentPid) {
      clearInterval(parentWatch);
      child.kill('SIGTERM');
    }
  }, 1000);
  parentWatch.unref();
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

const forge = join(root, 'node_modules', '.bin', 'electron-forge');
if (electronBinary() !== null && existsSync(forge) && process.env.DISAGG_CONSOLE_HEADLESS !== '1') {
  run(forge, ['start', ...(args.length > 0 ? ['--', ...args] : [])]);
} else {
  process.stdout.write(
    'Electron is not installed here: starting the console headless; open the Console URL below in a browser.\n',
  );
  // A fresh clone has no built UI yet: build it once (about a minute) so the URL shows the console.
  if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) {
    process.stdout.write('Building the console UI once (npm run build:renderer)...\n');
    const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    const built = spawnSync(
      process.execPath,
      [vite, 'build', '-c', 'vite.renderer.config.ts', '--logLevel', 'warn'],
      {
        cwd: root,
        stdio: 'inherit',
        timeout: 300_000,
      },
    );
    if (built.status !== 0)
      process.stdout.write(
        'The UI build failed; the console still starts and says how to build it.\n',
      );
  }
  run(process.execPath, [join(root, 'bin', 'disagg-console.mjs'), 'serve', ...args]);
}
