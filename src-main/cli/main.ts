import { parseArgs } from 'node:util';
import { IsoflopError } from '../../src-shared/contract';
import { appVersion } from '../version';
import { type CliIo, type Command, UsageError } from './command';
import { bench } from './commands/bench';
import { cv } from './commands/cv';
import { datasets } from './commands/datasets';
import { fit } from './commands/fit';
import { info } from './commands/info';
import { report } from './commands/report';
import { runs } from './commands/runs';
import { serve } from './commands/serve';
import { sweep } from './commands/sweep';
import { tune } from './commands/tune';

export type { CliIo } from './command';

/** The `isoflop` command. Returns the exit code: 0 ok, 1 failed, 2 misused. */

const commands: Record<string, Command> = {
  serve,
  info,
  datasets,
  sweep,
  runs,
  tune,
  cv,
  fit,
  report,
  bench,
};

export function helpText(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  const lines = [
    `IsoFLOP ${appVersion}: find the compute-optimal model size for your budget.`,
    '',
    'Usage: isoflop <command> [options]',
    '',
    'Commands:',
  ];
  for (const [name, command] of Object.entries(commands)) {
    const note = command.planned ? ' (coming in a later release)' : '';
    lines.push(`  ${name.padEnd(width)}${command.summary}${note}`);
  }
  lines.push(
    '',
    'Options:',
    '  --store DIR   data folder (default: ISOFLOP_HOME, else your per-user app data folder)',
    '  -h, --help    show help (also: isoflop <command> --help)',
    '  -v, --version print the version',
  );
  return lines.join('\n');
}

function describeParseError(error: unknown, name: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}' for '${name}'. See 'isoflop ${name} --help'.`;
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing) return `option '${missing[1]}' needs a value. See 'isoflop ${name} --help'.`;
  const ambiguous = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous)
    return `the value after '${ambiguous[1]}' starts with a dash, so it reads as an option. If it is the value, write it as ${ambiguous[1]}=VALUE. See 'isoflop ${name} --help'.`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `'${name}' takes no argument '${positional[1]}'. See 'isoflop ${name} --help'.`;
  return `${message.split('\n')[0]} See 'isoflop ${name} --help'.`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(helpText());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.out(appVersion);
    return 0;
  }
  if (first.startsWith('-')) {
    io.err(`isoflop: unknown option '${first}'. See 'isoflop --help'.`);
    return 2;
  }
  const command = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!command) {
    io.err(`isoflop: unknown command '${first}'. See 'isoflop --help' for the list.`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: command.positionals === true,
    });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    io.err(`isoflop: ${describeParseError(error, first)}`);
    return 2;
  }
  if (values.help) {
    io.out(`${command.summary}.\n\nUsage: ${command.usage}`);
    return 0;
  }
  if (!command.run) {
    io.err(`isoflop: '${first}' is not available in IsoFLOP ${appVersion} yet; see 'isoflop --help' for what is.`);
    return 1;
  }
  try {
    return await command.run(values, positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`isoflop: ${error.message}. See 'isoflop ${first} --help'.`);
      return 2;
    }
    if (error instanceof IsoflopError) {
      io.progress?.('', true);
      io.err(`isoflop: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
