import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'packages/*/dist/',
      'node_modules/',
      'data/',
      'console/dist/',
      'coverage/',
      '.tmp/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['console/public/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'Node',
          'HTMLElement',
          'URLSearchParams',
          'setTimeout',
          'clearTimeout',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // kjobs/client runs in browsers and installs without the server: no Node.js modules, no code outside src/client
    // but src/kie, which client and server both speak and which imports nothing of either
    // (test/client/browser.test.ts also bundles it for the browser and runs it in Chromium).
    files: ['src/client/**/*.ts', 'src/kie/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'assert',
                'buffer',
                'child_process',
                'crypto',
                'events',
                'fs',
                'http',
                'https',
                'net',
                'os',
                'path',
                'stream',
                'tls',
                'url',
                'util',
                'zlib',
              ],
              message: 'kjobs/client runs in browsers: no Node.js modules',
            },
            {
              group: ['../*', '!../kie', '!../kie/*'],
              message:
                'kjobs/client and src/kie have no server dependencies: import only from src/client and src/kie',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname', '__filename'],
    },
  },
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
