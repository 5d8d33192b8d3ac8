// Lint rules and the layer rules of docs/style-guide.md §2: one no-restricted-imports block per folder glob.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

const rawIpc = {
  name: 'electron',
  importNames: ['ipcMain', 'ipcRenderer'],
  message: 'Use the typed wrappers in electron/ipc or preload.ts.',
};
const nodeBuiltins = { group: ['node:*'], message: 'This layer must not use Node APIs.' };

export default tseslint.config(
  {
    ignores: ['eslint.config.mjs', 'node_modules/**', 'dist/**', '.vite/**', 'out/**', 'reports/**', 'test-results/**', 'bin/**', 'scripts/**/*.mjs', 'tests/fixtures/**/*.mjs', '.ci/**', '.devcarry/**', 'docs/**'],
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
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      curly: ['error', 'multi-line'],
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'etcd3'],
          patterns: [
            nodeBuiltins,
            { group: ['**/electron/**', '**/renderer/**'], message: 'shared/ is pure: it imports only shared/ and pure npm packages.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/core/**/*.ts', 'electron/sim/**/*.ts', 'electron/cli/**/*.ts', 'electron/headless.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'core never imports electron (it must run under plain Node).' }],
          patterns: [
            { group: ['electron/*'], message: 'core never imports electron.' },
            { group: ['**/renderer/**'], message: 'core must not import the renderer.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/main.ts', 'electron/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [rawIpc], patterns: [{ group: ['**/renderer/**'], message: 'The shell must not import the renderer.' }] },
      ],
    },
  },
  {
    files: ['electron/ipc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**'], message: 'The shell must not import the renderer.' }] }],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [nodeBuiltins, { group: ['**/core/**', '**/renderer/**'], message: 'preload reaches only the contract.' }] },
      ],
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
          patterns: [nodeBuiltins, { group: ['**/electron/**'], message: 'The renderer talks to the backend only through the API contract.' }],
        },
      ],
    },
  },
  {
    files: ['*.config.ts', '*.config.mjs', 'forge.config.ts', 'vite.*.config.ts', 'playwright.config.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
