// graphql-codegen: typed documents from the committed schema.graphql for the e2e tests (test/gql/) and
// for the dashboard (ui/src/gql/, documents as strings: the page ships no GraphQL parser).
// `npm run codegen` after `npm run schema:print`; both outputs are committed.
import type { CodegenConfig } from '@graphql-codegen/cli';

const shared = {
  importExtension: '.js',
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  generates: {
    'test/gql/': {
      documents: ['test/e2e/**/*.ts', 'test/helpers/**/*.ts'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: shared,
    },
    'ui/src/gql/': {
      documents: ['ui/src/**/*.ts', 'ui/src/**/*.tsx', '!ui/src/gql/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...shared, importExtension: '', documentMode: 'string' },
    },
  },
};

export default config;
