/** The environment variables the `svu` command reads (deploy/ checks compose files against them). */
export const CLI_ENV_NAMES: readonly string[] = [
  'SVU_GATEWAY_URL',
  'AMQP_URL',
  'SVU_DIRECTORY',
  'SVU_REPLAY_USER',
  'SVU_REPLAY_PASSWORD',
  'SVU_SENDER_KEY',
  'DATABASE_URL',
  'SVU_REPORT_RULES',
  'SVU_FONT_DIR',
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'TZ',
];
