// Type-aware lint: floating promises, exhaustive switches, strict equality, braces.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A statement: an upper-case keyword that begins one, then white space (an esquery regular expression). */
const SQL = '/^\\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\\s/';
const SQL_OUTSIDE_STORE = 'SQL belongs in a repository under apps/gateway/src/store/ (docs/architecture.md, The store).';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'libs/canonical/src/generated/**', '**/*.mjs', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      // Parsed input is unknown by nature; the schema and readers narrow it, not the linter.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // SQL lives in the store's repositories (docs/architecture.md, The store): a string or template
    // that starts with a statement's keyword is refused anywhere else in the gateway's sources.
    files: ['apps/gateway/src/**/*.ts'],
    ignores: ['apps/gateway/src/store/**', 'apps/gateway/src/**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: `Literal[value=${SQL}]`, message: SQL_OUTSIDE_STORE },
        { selector: `TemplateLiteral > TemplateElement:first-child[value.raw=${SQL}]`, message: SQL_OUTSIDE_STORE },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    // Tests build broken messages on purpose, which needs loosely typed objects.
    rules: { '@typescript-eslint/unbound-method': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
