#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { FORMATS, type Format } from '@svu/dialects';
import { EXIT_FAILURE, runInspect, runTranslate, runValidate, type Io } from './message-commands';
import { readInput } from './read-input';
import { runReplay, runReplayCheck } from './replay-command';
import { runReport } from './report-command';
import { runSimulate } from './simulate-command';

/**
 * An option whose value may come from an environment variable. Its help names the variable, never the
 * value it holds there (a URL with a password, a password, a key).
 */
function fromEnv(flags: string, description: string, env: string, fallback?: string): Option {
  const option = new Option(flags, `${description} (env ${env})`);
  const value = process.env[env] ?? fallback;
  return value === undefined ? option : option.default(value, process.env[env] === undefined ? fallback : `from ${env}`);
}
import { hashPassword } from '@svu/users';

const io: Io = {
  out: (data) => process.stdout.write(data),
  err: (line) => process.stderr.write(line),
};

const formatOption = (flags: string, description: string) =>
  new Option(flags, description).choices(FORMATS).makeOptionMandatory();

const FILE_HELP = 'message file; absent or - reads standard input';

/** The version in package.json (beside dist/ when built, also in the image). */
function packageVersion(): string {
  for (const up of ['../../../..', '../../..']) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not here: try the next folder up
    }
  }
  return 'unknown';
}

/** The `svu` program: every command sets the exit code it ends with. */
export function buildProgram(): Command {
  const program = new Command('svu')
    .description(
      'SVU gateway command line: translate and check discharge-coordination messages\n' +
        `(formats: ${FORMATS.join(', ')}). Exit 0 ok, 2 invalid message (problems on stderr), 1 other errors.`,
    )
    .version(packageVersion(), '-V, --version', 'print the version of svu')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('translate')
    .description('translate a message from one form to another and write it to standard output')
    .addOption(formatOption('--from <format>', 'form of the input'))
    .addOption(formatOption('--to <format>', 'form of the output'))
    .argument('[file]', FILE_HELP)
    .action((file: string | undefined, opts: { from: Format; to: Format }) => {
      process.exitCode = runTranslate(io, opts.from, opts.to, file);
    });

  program
    .command('validate')
    .description('check a message; prints nothing when it is valid, one line per problem when not')
    .addOption(formatOption('--dialect <format>', 'form of the input'))
    .argument('[file]', FILE_HELP)
    .action((file: string | undefined, opts: { dialect: Format }) => {
      process.exitCode = runValidate(io, opts.dialect, file);
    });

  program
    .command('inspect')
    .description('print type, ids, and notifyBy (admission) or dayZero (ready-for-discharge) as JSON')
    .addOption(formatOption('--from <format>', 'form of the input'))
    .argument('[file]', FILE_HELP)
    .action((file: string | undefined, opts: { from: Format }) => {
      process.exitCode = runInspect(io, opts.from, file);
    });

  program
    .command('replay')
    .description('replay fixture sets against a running gateway with simulated recipients; compare what they receive')
    .argument('<dir...>', 'fixture set folders (each with a manifest.json)')
    .option('--gateway <url>', 'the gateway (env SVU_GATEWAY_URL)', process.env['SVU_GATEWAY_URL'] ?? 'http://127.0.0.1:8080')
    .addOption(fromEnv('--amqp-url <url>', 'the gateway\'s RabbitMQ', 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'))
    .option('--directory <file>', 'the unit directory the gateway uses (env SVU_DIRECTORY)', process.env['SVU_DIRECTORY'] ?? 'config/directory.json')
    .option('--user <name>', 'console user for dead-letter and fallback checks (env SVU_REPLAY_USER)', process.env['SVU_REPLAY_USER'])
    .addOption(fromEnv('--password <password>', 'its password; prefer env SVU_REPLAY_PASSWORD or --password-stdin (a command line is visible to other users)', 'SVU_REPLAY_PASSWORD'))
    .option('--password-stdin', 'read the password from the first line of standard input')
    .addOption(fromEnv('--sender-key <key>', 'the bearer key of the sender system to send as over HTTP (prefer env SVU_SENDER_KEY: a command line is visible to other users)', 'SVU_SENDER_KEY'))
    .option('--check', 'only check the fixture sets offline (manifest, files, messages, units in --directory); no gateway needed')
    .option('--prefix <prefix>', 'the gateway\'s topology prefix', 'svu')
    .option('--junit <file>', 'write JUnit XML here')
    .option('--record', 'write what recipients received as the new expected files (review them before committing)')
    .action(async (dirs: string[], opts: { gateway: string; amqpUrl: string; directory: string; user?: string; password?: string; passwordStdin?: boolean; senderKey?: string; check?: boolean; prefix: string; junit?: string; record?: boolean }, command: Command) => {
      // Still taken, for scripts that pass them; but anyone on the machine can read a command line (ps).
      for (const [option, flag, instead] of [['password', '--password', 'SVU_REPLAY_PASSWORD or --password-stdin'], ['senderKey', '--sender-key', 'SVU_SENDER_KEY']] as const) {
        if (command.getOptionValueSource(option) === 'cli') process.stderr.write(`svu: warning: ${flag} on the command line is visible to other users of this machine; give it with ${instead}\n`);
      }
      if (opts.check === true) {
        process.exitCode = runReplayCheck(dirs, opts.directory);
        return;
      }
      if (opts.passwordStdin === true) opts.password = readInput(undefined).toString('utf8').split(/\r?\n/)[0] ?? '';
      process.exitCode = await runReplay(dirs, {
        gatewayUrl: opts.gateway.replace(/\/$/, ''),
        amqpUrl: opts.amqpUrl,
        directoryPath: opts.directory,
        topologyPrefix: opts.prefix,
        ...(opts.user === undefined ? {} : { username: opts.user }),
        ...(opts.password === undefined ? {} : { password: opts.password }),
        ...(opts.senderKey === undefined ? {} : { senderKey: opts.senderKey }),
        ...(opts.junit === undefined ? {} : { junit: opts.junit }),
        record: opts.record === true,
      });
    });

  program
    .command('simulate')
    .description('run simulated recipients for the units of a directory, with a control API to make them fail')
    .option('--directory <file>', 'unit directory (env SVU_DIRECTORY)', process.env['SVU_DIRECTORY'] ?? 'config/directory.json')
    .addOption(fromEnv('--amqp-url <url>', 'RabbitMQ of the gateway', 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'))
    .option('--prefix <prefix>', 'the gateway\'s topology prefix', 'svu')
    .option('--control-port <port>', 'port of the control API', '9100')
    .option('--control-host <address>', 'address the control API listens on (0.0.0.0 in a container)', '127.0.0.1')
    .action(async (opts: { directory: string; amqpUrl: string; prefix: string; controlPort: string; controlHost: string }) => {
      await runSimulate({ directoryPath: opts.directory, amqpUrl: opts.amqpUrl, topologyPrefix: opts.prefix, controlPort: Number(opts.controlPort), controlHost: opts.controlHost });
    });

  program
    .command('report')
    .description('monthly follow-up from the store: notifications within 24 hours, days waiting after ready-for-discharge, liable days and kronor with the reason')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .option('--municipality <kod>', 'one municipality (kommunkod)')
    .option('--unit <hsaId>', 'one hospital unit')
    .option('--episodes', 'one row per episode: each precondition with its evidence, liable days, kronor and the reason')
    .addOption(new Option('--format <format>', 'output').choices(['json', 'csv']).default('json'))
    .addOption(new Option('--separator <separator>', 'CSV field separator').choices(['semicolon', 'comma']).default('semicolon'))
    .option('--bom', 'start the CSV with a UTF-8 byte order mark (Excel then reads å ä ö right)')
    .addOption(fromEnv('--database-url <url>', 'the gateway\'s store', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/svu'))
    .option('--rules <file>', 'rule sets per municipality (env SVU_REPORT_RULES)', process.env['SVU_REPORT_RULES'] ?? 'config/report-rules.json')
    .option('--catch-up', 'first compute every episode still waiting for the summary (after an upgrade: the one-time build)')
    .action(async (opts: { month: string; municipality?: string; unit?: string; episodes?: boolean; format: 'json' | 'csv'; separator: 'semicolon' | 'comma'; bom?: boolean; databaseUrl: string; rules: string; catchUp?: boolean }, command: Command) => {
      process.exitCode = await runReport({
        month: opts.month,
        episodes: opts.episodes === true,
        format: opts.format,
        csv: { separator: opts.separator === 'comma' ? ',' : ';', bom: opts.bom === true },
        databaseUrl: opts.databaseUrl,
        rulesPath: opts.rules,
        // A file named with --rules or SVU_REPORT_RULES must exist; the default one may be absent (the law's default).
        rulesNamed: command.getOptionValueSource('rules') !== 'default' || process.env['SVU_REPORT_RULES'] !== undefined,
        catchUp: opts.catchUp === true,
        ...(opts.municipality === undefined ? {} : { municipality: opts.municipality }),
        ...(opts.unit === undefined ? {} : { unit: opts.unit }),
      });
    });

  program
    .command('hash-password')
    .description('hash a console password (users file, SVU_USERS) or a sender system\'s key (senders file, SVU_SENDERS); reads it from standard input')
    .action(() => {
      const password = readInput(undefined).toString('utf8').replace(/\r?\n$/, '');
      if (password.length < 8) {
        process.stderr.write('svu: a password needs at least 8 characters\n');
        process.exitCode = EXIT_FAILURE;
        return;
      }
      process.stdout.write(`${hashPassword(password)}\n`);
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.commands.forEach((command) => command.exitOverride());
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end well; any other usage error is exit 1 (docs/contract.md keeps 2 for invalid messages).
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_FAILURE;
      return;
    }
    process.stderr.write(`svu: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

if (require.main === module) void main(process.argv);
