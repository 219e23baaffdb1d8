import { parseArgs } from 'node:util';
import { IsoflopError, type SystemInfo } from '../../src-shared/contract';
import { createApi } from '../api';
import { startServer } from '../server/server';
import { resolveDataDir } from '../store/data-dir';
import { appVersion } from '../version';

/** The `isoflop` command. Returns the exit code: 0 ok, 1 failed, 2 misused. */

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  rendererDir: string;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  untilStopped(): Promise<void>;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Work that later releases fill in: listed honestly, refused with a clear line. */
  planned?: boolean;
  run?(values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number>;
}

const storeOption: Record<string, OptionSpec> = { store: { type: 'string' } };
const helpOption: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' } };

class UsageError extends Error {}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 4173;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${text}"`);
  }
  return port;
}

function formatInfo(info: SystemInfo): string[] {
  const shell = info.platform.electron ? `Electron ${info.platform.electron}` : `Node ${info.platform.node}`;
  return [
    `IsoFLOP ${info.appVersion}`,
    `data folder  ${info.dataDir}`,
    `platform     ${info.platform.os} ${info.platform.arch}, ${shell}`,
  ];
}

const commands: Record<string, Command> = {
  serve: {
    summary: 'Serve the app in your browser (web mode) on 127.0.0.1',
    usage: 'isoflop serve [--port N] [--store DIR]',
    options: { port: { type: 'string', short: 'p' }, ...storeOption },
    async run(values, io) {
      const port = parsePort(values.port as string | undefined);
      const router = createApi(resolveDataDir({ flag: values.store as string | undefined, env: io.env }));
      const server = await startServer({ router, rendererDir: io.rendererDir, port });
      io.out(`IsoFLOP is serving on ${server.url}`);
      io.out('Open it in a Chromium-based browser for WebGPU. Press Ctrl+C to stop.');
      await io.untilStopped();
      await server.close();
      return 0;
    },
  },
  info: {
    summary: 'Show the version, data folder and platform',
    usage: 'isoflop info [--store DIR] [--json]',
    options: { ...storeOption, json: { type: 'boolean' } },
    async run(values, io) {
      const router = createApi(resolveDataDir({ flag: values.store as string | undefined, env: io.env }));
      const info = await router.invoke('system.info', {}, { transport: 'cli' });
      if (values.json) io.out(JSON.stringify(info, null, 2));
      else for (const line of formatInfo(info)) io.out(line);
      return 0;
    },
  },
  datasets: {
    summary: 'Import, list and inspect datasets',
    usage: 'isoflop datasets <import|list|show|delete> [--store DIR]',
    options: storeOption,
    planned: true,
  },
  sweep: {
    summary: 'Plan and run an IsoFLOP sweep headless',
    usage: 'isoflop sweep [--store DIR]',
    options: storeOption,
    planned: true,
  },
  runs: {
    summary: 'List and inspect training runs',
    usage: 'isoflop runs [--store DIR]',
    options: storeOption,
    planned: true,
  },
  fit: {
    summary: "Fit scaling laws (Chinchilla's three approaches)",
    usage: 'isoflop fit [--store DIR]',
    options: storeOption,
    planned: true,
  },
  report: {
    summary: 'Export a sweep as PDF and JSON',
    usage: 'isoflop report [--store DIR]',
    options: storeOption,
    planned: true,
  },
  bench: {
    summary: 'Measure training throughput on each backend',
    usage: 'isoflop bench',
    options: {},
    planned: true,
  },
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

function commandHelp(command: Command): string {
  return [`${command.summary}.`, '', `Usage: ${command.usage}`].join('\n');
}

function describeParseError(error: unknown, name: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}' for '${name}'. See 'isoflop ${name} --help'.`;
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing) return `option '${missing[1]}' needs a value. See 'isoflop ${name} --help'.`;
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
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, ...helpOption },
      strict: true,
      allowPositionals: command.planned === true,
    });
    values = parsed.values;
  } catch (error) {
    io.err(`isoflop: ${describeParseError(error, first)}`);
    return 2;
  }
  if (values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  if (!command.run) {
    io.err(`isoflop: '${first}' is not available in IsoFLOP ${appVersion} yet; see 'isoflop --help' for what is.`);
    return 1;
  }
  try {
    return await command.run(values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`isoflop: ${error.message}. See 'isoflop ${first} --help'.`);
      return 2;
    }
    if (error instanceof IsoflopError) {
      io.err(`isoflop: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
