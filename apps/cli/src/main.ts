#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { FORMATS, type Format } from '@svu/dialects';
import { EXIT_FAILURE, runInspect, runTranslate, runValidate, type Io } from './message-commands';
import { readInput } from './read-input';
import { hashPassword } from '../../gateway/src/console/auth/users';

const io: Io = {
  out: (data) => process.stdout.write(data),
  err: (line) => process.stderr.write(line),
};

const formatOption = (flags: string, description: string) =>
  new Option(flags, description).choices(FORMATS).makeOptionMandatory();

const FILE_HELP = 'message file; absent or - reads standard input';

/** The `svu` program: every command sets the exit code it ends with. */
export function buildProgram(): Command {
  const program = new Command('svu')
    .description(
      'SVU gateway command line: translate and check discharge-coordination messages\n' +
        `(formats: ${FORMATS.join(', ')}). Exit 0 ok, 2 invalid message (problems on stderr), 1 other errors.`,
    )
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
    .command('hash-password')
    .description('hash a console password for the users file (SVU_USERS); reads the password from standard input')
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
      // Help and version end well; any other usage error is exit 1 (the contract keeps 2 for invalid messages).
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_FAILURE;
      return;
    }
    process.stderr.write(`svu: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

if (require.main === module) void main(process.argv);
