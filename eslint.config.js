// Lint: typescript-eslint's type-aware recommended rules over every package's sources.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // AssemblyScript (asc compiles it, not tsc): packages/pdk and the plugins written with it.
  { ignores: ['**/dist/**', '**/node_modules/**', 'out/**', '.forge-demo/**', 'bench/peers/**', '**/assembly/**', 'packages/pdk/index.ts', 'bench/pdk/*.ts'] /* AssemblyScript, compiled by asc */ },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      // Matching control characters on purpose is how untrusted text is made safe.
      'no-control-regex': 'off',
    },
  },
  {
    // The web dashboard runs in a browser and shows plugin-supplied text: it never parses markup
    // (packages/forge/src/daemon/ui/dom.ts), so plugin text cannot become script or elements.
    files: ['packages/forge/src/daemon/ui/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'createContextualFragment', 'write', 'writeln', 'setHTMLUnsafe', 'parseHTMLUnsafe'].map((property) => ({
          property,
          message: 'Put text into the page with textContent (dom.ts h/setText), never as markup.',
        })),
      ],
      'no-restricted-globals': ['error', { name: 'DOMParser', message: 'The dashboard never parses markup.' }, { name: 'eval', message: 'No eval.' }],
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['**/*.test.ts', '**/test-support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
