// Lint rules and the layer rules of docs/style-guide.md §2 "Layer rules". Two halves:
// - package names (`electron`, `node:*`, `react`, raw ipcMain/ipcRenderer): one no-restricted-imports block per
//   folder glob (later flat-config entries replace earlier options of the same rule);
// - folders: `layers/resolved-imports` resolves every relative import against the importing file and checks the
//   target folder against LAYER_IMPORTS, so `../../electron/core/x` from the renderer fails however it is spelled.
// tests/unit/lint/layer-rules.test.ts proves both halves fire.
import { dirname, relative, resolve, sep } from 'node:path';

import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

const repoRoot = import.meta.dirname;

/** Layers by repository path (first match wins); a target path may lack its extension. */
const LAYERS = [
  ['shared', /^shared\//],
  ['core', /^electron\/core\//],
  ['sim', /^electron\/sim\//],
  ['cli', /^electron\/(cli\/|headless(\.ts)?$)/],
  ['preload', /^electron\/preload(\.ts)?$/],
  ['shell', /^electron\/(main(\.ts)?$|ipc\/|platform\/)/],
  ['renderer', /^renderer\//],
  ['bench', /^bench\//],
];

/** Which layers each layer may reach by a relative import (docs/style-guide.md §2). Files outside every layer
 *  (tests, tool configs) are not checked. */
export const LAYER_IMPORTS = {
  shared: ['shared'],
  core: ['shared', 'core'],
  sim: ['shared', 'core', 'sim'],
  cli: ['shared', 'core', 'sim', 'cli', 'bench'],
  shell: ['shared', 'core', 'sim', 'cli', 'shell'],
  preload: ['shared'],
  renderer: ['shared', 'renderer'],
  bench: ['shared', 'core', 'sim', 'bench'],
};

function layerOf(repoPath) {
  return LAYERS.find(([, pattern]) => pattern.test(repoPath))?.[0] ?? null;
}

function toRepoPath(absolutePath) {
  return relative(repoRoot, absolutePath).split(sep).join('/');
}

const resolvedImportsRule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Relative imports resolved against the importing file must stay inside the allowed layers.',
    },
    schema: [],
    messages: {
      forbidden:
        "{{from}} must not import {{to}} ('{{source}}' resolves to {{target}}); see docs/style-guide.md §2.",
    },
  },
  create(context) {
    const from = layerOf(toRepoPath(context.filename));
    if (from === null) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = toRepoPath(resolve(dirname(context.filename), source));
      const to = layerOf(target) ?? 'outside the layers';
      if (LAYER_IMPORTS[from].includes(to)) return;
      context.report({
        node: node.source,
        messageId: 'forbidden',
        data: { from, to, source, target },
      });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

const layersPlugin = { rules: { 'resolved-imports': resolvedImportsRule } };

const rawIpc = {
  name: 'electron',
  importNames: ['ipcMain', 'ipcRenderer'],
  message: 'Use the typed wrappers in electron/ipc or preload.ts.',
};
const nodeBuiltins = { group: ['node:*'], message: 'This layer must not use Node APIs.' };

export default tseslint.config(
  {
    ignores: [
      'eslint.config.mjs',
      'node_modules/**',
      'dist/**',
      '.vite/**',
      'out/**',
      'reports/**',
      'test-results/**',
      'bin/**',
      'scripts/**/*.mjs',
      'tests/fixtures/**/*.mjs',
      '.ci/**',
      '.devcarry/**',
      'docs/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.node.json', './tsconfig.web.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'simple-import-sort': simpleImportSort, layers: layersPlugin },
    rules: {
      'layers/resolved-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      curly: ['error', 'multi-line'],
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'etcd3'],
          patterns: [nodeBuiltins],
        },
      ],
    },
  },
  {
    files: [
      'electron/core/**/*.ts',
      'electron/sim/**/*.ts',
      'electron/cli/**/*.ts',
      'electron/headless.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'core never imports electron (it must run under plain Node).',
            },
          ],
          patterns: [{ group: ['electron/*'], message: 'core never imports electron.' }],
        },
      ],
    },
  },
  {
    // No function over 120 lines in the backend and the shared code (issue 14): split a long one into named
    // steps. Tests and the renderer are not held to it.
    files: ['electron/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['electron/main.ts', 'electron/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [rawIpc] }],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [nodeBuiltins] }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'etcd3'],
          patterns: [nodeBuiltins],
        },
      ],
    },
  },
  {
    files: [
      '*.config.ts',
      '*.config.mjs',
      'forge.config.ts',
      'vite.*.config.ts',
      'playwright.config.ts',
      'vitest.config.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
