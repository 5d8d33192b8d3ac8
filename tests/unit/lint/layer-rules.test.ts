// The layer rules of eslint.config.mjs fire on the import forms they are meant to catch: package names
// (no-restricted-imports) and relative paths resolved against the importing file (layers/resolved-imports),
// however many `../` they climb. Runs ESLint's Node API on fixture strings under made-up file names in each
// layer; type-aware parsing is off and only the two layer rules run, so the test stays fast.
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const LAYER_RULES = new Set(['layers/resolved-imports', 'no-restricted-imports']);

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: { languageOptions: { parserOptions: { project: false } } },
    ruleFilter: ({ ruleId }) => LAYER_RULES.has(ruleId),
  });
});

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath });
  const messages = result?.messages ?? [];
  const parseError = messages.find((m) => m.ruleId === null);
  if (parseError) throw new Error(`${filePath}: ${parseError.message}`);
  return messages.map((m) => m.ruleId ?? '');
}

describe('layer rules on resolved relative paths', () => {
  it.each([
    [
      'renderer/features/x/probe.ts',
      "import { createBackend } from '../../../electron/core/backend';",
    ],
    ['renderer/probe.tsx', "import { dispatch } from '../electron/core/dispatch';"],
    ['renderer/lib/probe.ts', "const m = import('../../electron/sim/sim-worker'); export { m };"],
    ['shared/logic/probe.ts', "import { ProxyRecord } from '../../electron/core/proxy/types';"],
    ['shared/model/probe.ts', "export * from '../../renderer/lib/format';"],
    ['shared/probe.ts', "import { x } from '../tests/helpers/free-port';"],
    ['electron/core/proxy/probe.ts', "import { x } from '../../../renderer/lib/format';"],
    ['electron/core/probe.ts', "import { runSimWorker } from '../sim/sim-worker';"],
    ['electron/core/probe.ts', "import { bindIpc } from '../ipc/bind-ipc';"],
    ['electron/sim/probe.ts', "import { x } from '../cli/serve-command';"],
    ['electron/preload.ts', "import { dispatch } from './core/dispatch';"],
    ['bench/probe.ts', "import { x } from '../renderer/lib/format';"],
  ])('%s: %s is reported', async (filePath, code) => {
    expect(await ruleIdsFor(filePath, code)).toEqual(['layers/resolved-imports']);
  });

  it.each([
    ['renderer/features/x/probe.ts', "import { ApiChannel } from '../../../shared/api/contract';"],
    ['renderer/features/x/probe.ts', "import { Button } from '../../components/button';"],
    ['shared/logic/probe.ts', "import type { WorkerSpec } from '../model/worker';"],
    [
      'electron/core/proxy/probe.ts',
      "import { percentile } from '../../../shared/logic/percentiles';",
    ],
    ['electron/sim/probe.ts', "import { x } from '../core/cluster/cluster-uri';"],
    ['electron/cli/probe.ts', "import { runSimWorker } from '../sim/sim-worker';"],
    ['electron/ipc/probe.ts', "import { dispatch } from '../core/dispatch';"],
    ['electron/preload.ts', "import { isApiChannel } from '../shared/api/contract';"],
    ['tests/unit/probe.test.ts', "import { createBackend } from '../../electron/core/backend';"],
    ['electron/cli/probe.ts', "import { runProxyBench } from '../../bench/proxy-bench';"],
  ])('%s: %s is allowed', async (filePath, code) => {
    expect(await ruleIdsFor(filePath, code)).toEqual([]);
  });
});

describe('layer rules on package names', () => {
  it.each([
    ['shared/logic/probe.ts', "import { readFile } from 'node:fs';"],
    ['shared/logic/probe.ts', "import { useState } from 'react';"],
    ['renderer/lib/probe.ts', "import { ipcRenderer } from 'electron';"],
    ['renderer/lib/probe.ts', "import { join } from 'node:path';"],
    ['electron/core/probe.ts', "import { app } from 'electron';"],
    ['electron/core/probe.ts', "import { x } from 'electron/main';"],
    ['electron/main.ts', "import { ipcMain } from 'electron';"],
    ['electron/preload.ts', "import { readFileSync } from 'node:fs';"],
  ])('%s: %s is reported', async (filePath, code) => {
    expect(await ruleIdsFor(filePath, code)).toEqual(['no-restricted-imports']);
  });
});
