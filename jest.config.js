// `npm test` runs every project: unit specs beside the code, and the end-to-end suites in test/e2e
// against the machine's RabbitMQ and PostgreSQL (each suite in its own vhost and database).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'], testMatch: ['**/*.spec.ts'] },
    { ...shared, displayName: 'fuzz', roots: ['<rootDir>/test/fuzz'], testMatch: ['**/*.fuzz-spec.ts'] },
    // Where nothing answers locally and Docker runs, RabbitMQ and PostgreSQL in containers (test/support/containers.global-setup.ts).
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/*.e2e-spec.ts'],
      slowTestThreshold: 30,
      globalSetup: '<rootDir>/test/support/containers.global-setup.ts',
      globalTeardown: '<rootDir>/test/support/containers.global-teardown.ts',
    },
  ],
};
