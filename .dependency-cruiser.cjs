// The layering of the code base, checked by `npm run lint` (docs/architecture.md explains it).
// Paths are relative to the repository root.
const SERVICES = '(ingress|router|egress|deadlines|sweeper|console|reports)';
const PIPELINE = '(ingress|router|egress|deadlines|sweeper)';
const GATEWAY = '^apps/gateway/src/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles anywhere.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'libs-import-no-apps',
      severity: 'error',
      comment: 'The libraries are pure: they import no application code.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'libs-import-no-nest',
      severity: 'error',
      comment: 'The libraries are pure: they import no Nest.',
      from: { path: '^libs/' },
      to: { path: '(^|/)node_modules/@nestjs/|^@nestjs/' },
    },
    {
      name: 'cli-imports-no-gateway',
      severity: 'error',
      comment: 'The CLI shares code with the gateway only through libs/.',
      from: { path: '^apps/cli/' },
      to: { path: '^apps/gateway/' },
    },
    {
      name: 'pipeline-imports-no-console',
      severity: 'error',
      comment: 'Nothing in the pipeline (ingress, router, egress, deadlines, sweeper) depends on the console or its reports.',
      from: { path: `${GATEWAY}${PIPELINE}/` },
      to: { path: `${GATEWAY}(console|reports)/` },
    },
    {
      name: 'services-share-only-their-index',
      severity: 'error',
      comment:
        'A service module uses another service only through what that service exports in its index.ts, never its internals.',
      from: { path: `${GATEWAY}${SERVICES}/` },
      to: { path: `${GATEWAY}${SERVICES}/`, pathNot: [`${GATEWAY}$1/`, `${GATEWAY}${SERVICES}/index\\.ts$`] },
    },
    {
      name: 'common-imports-no-service',
      severity: 'error',
      comment: 'The common module (auth, metrics, audit, masking, clock, logging) imports no service module.',
      from: { path: `${GATEWAY}common/` },
      to: { path: `${GATEWAY}${SERVICES}/` },
    },
    {
      name: 'infrastructure-imports-no-service',
      severity: 'error',
      comment: 'The store, the broker, configuration, the directory, the senders, retention and the health endpoints sit below the services.',
      from: { path: `${GATEWAY}(store|broker|config|directory|senders|retention|health)/` },
      to: { path: `${GATEWAY}${SERVICES}/` },
    },
    {
      name: 'infrastructure-imports-no-common-auth',
      severity: 'error',
      comment: 'The store, the broker and configuration do not depend on the HTTP concerns of common/.',
      from: { path: `${GATEWAY}(store|broker|config)/` },
      to: { path: `${GATEWAY}common/(auth|.*interceptor|http-security)` },
    },
  ],
  options: {
    includeOnly: '^(apps|libs|bench|test|scripts)/|^node_modules/@nestjs/',
    exclude: { path: '(^|/)(dist|generated)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json', '.d.ts'] },
  },
};
