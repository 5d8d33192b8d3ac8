// Electron Forge: the Vite plugin builds the main process, the preload script and the renderer; makers
// produce a zip (every platform) and a .deb (feature D3). Packaging needs the Electron binary, which a
// machine installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1 does not have (see README).
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerZIP } from '@electron-forge/maker-zip';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Disagg Console',
    executableName: 'disagg-console',
    asar: false, // Workers run bin/disagg-console.mjs and the TypeScript sources through tsx: they must be plain files.
  },
  makers: [
    new MakerZIP({}, ['linux', 'darwin', 'win32']),
    new MakerDeb({
      options: {
        name: 'disagg-console',
        productName: 'Disagg Console',
        genericName: 'LLM serving console',
        categories: ['Development'],
        description: 'Desktop console and proxy for TensorRT-LLM disaggregated serving',
        maintainer: 'Disagg Console maintainers',
        homepage: 'https://github.com/NVIDIA/TensorRT-LLM',
      },
    }),
  ],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
  ],
};

export default config;
