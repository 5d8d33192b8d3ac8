// Vite build of the Electron main process: electron/main.ts -> .vite/build/main.js as an ES module
// (package.json is "type": "module"). Works under @electron-forge/plugin-vite (which merges this over its own
// config) and standalone (`vite build -c vite.main.config.ts`, what CI runs without the Electron binary).
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';

import { defineConfig } from 'vite';

/** Not bundled: Electron itself, Node built-ins and the runtime dependencies that load files by path. */
export const MAIN_EXTERNALS = [
  'electron',
  'etcd3',
  'tsx',
  /^tsx\//,
  'yaml',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];

export default defineConfig({
  resolve: { conditions: ['node'], mainFields: ['module', 'jsnext:main', 'jsnext'] },
  build: {
    outDir: resolve(import.meta.dirname, '.vite/build'),
    emptyOutDir: false,
    copyPublicDir: false,
    sourcemap: true,
    minify: false,
    target: 'node20',
    lib: {
      entry: resolve(import.meta.dirname, 'electron/main.ts'),
      formats: ['es'],
      fileName: () => 'main.js',
    },
    rollupOptions: { external: MAIN_EXTERNALS },
  },
});
