// `npm run test:chaos`: restarts the machine's RabbitMQ and PostgreSQL, so it runs alone, after `npm test`.
const base = require('./jest.config.js').projects[0];

/** @type {import('jest').Config} */
module.exports = { ...base, displayName: 'chaos', roots: ['<rootDir>/test/chaos'], testMatch: ['**/*.chaos-spec.ts'] };
