// Vite build of the preload script: electron/preload.ts -> .vite/build/preload.cjs. Sandboxed preloads run as
// classic CommonJS scripts and may require only 'electron', so everything else (the contract) is bundled.
import { resolve } from 'node:path';

import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: resolve(import.meta.dirname, '.vite/build'),
    emptyOutDir: false,
    copyPublicDir: false,
    sourcemap: 'inline',
    minify: false,
    target: 'chrome128',
    lib: {
      entry: resolve(import.meta.dirname, 'electron/preload.ts'),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'], output: { inlineDynamicImports: true } },
  },
});
