// Vite build of the renderer: renderer/index.html -> dist/renderer with relative asset paths, so the same
// bundle loads from the headless console's static server, from file:// in Electron and from a sub-path.
// Under @electron-forge/plugin-vite (its config env carries `forgeConfigSelf`) the plugin picks the output
// folder (.vite/renderer/<name>) instead.
import { resolve } from 'node:path';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig((env) => {
  const isForge = 'forgeConfigSelf' in env;
  return {
    root: resolve(import.meta.dirname, 'renderer'),
    base: './',
    plugins: [react()],
    build: {
      ...(isForge
        ? {}
        : { outDir: resolve(import.meta.dirname, 'dist/renderer'), emptyOutDir: true }),
      sourcemap: true,
      chunkSizeWarningLimit: 2000,
    },
    server: { host: '127.0.0.1', strictPort: false },
  };
});
