import type { z } from 'zod';
import { api, type Channel, type Input, IsoflopError, type Output } from '../../src-shared/contract';
import { type App, createApp } from '../api';
import { ensureDataDir, resolveDataDir } from '../store/data-dir';
import { type NodeBackendPreference, nodeBackendOrder, nodeBackendPreferences } from '../training/node-backends';

/** What every `isoflop` subcommand is made of. */

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Progress on stderr; `final` ends the line. Only where stderr is a terminal. */
  progress?(text: string, final: boolean): void;
  rendererDir: string;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  untilStopped(): Promise<void>;
}

export type OptionSpec = { type: 'string' | 'boolean'; short?: string };
export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  positionals?: boolean;
  /** Work that later releases fill in: listed honestly, refused with a clear line. */
  planned?: boolean;
  run?(values: OptionValues, positionals: string[], io: CliIo): Promise<number>;
}

/** Misuse of the command line: one line, exit 2. */
export class UsageError extends Error {}

export const storeOption: Record<string, OptionSpec> = { store: { type: 'string' } };

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function intOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

export function choiceOption<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
): T | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not "${text}"`);
  }
  return text as T;
}

export function numberOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/** `--backend`, for every command that trains. */
export const backendOptionSpec: Record<string, OptionSpec> = { backend: { type: 'string' } };
export const backendUsage = '[--backend auto|webgpu|wasm|cpu]';

/**
 * The headless backend asked for: auto (WebGPU on a hardware GPU, else WASM), webgpu, wasm or cpu. Checked
 * before the command creates anything: `--backend webgpu` on a machine where Dawn finds no GPU stops here,
 * saying why, rather than leaving a sweep of failed runs behind.
 */
export async function backendOption(values: OptionValues): Promise<NodeBackendPreference | undefined> {
  if (values.backend === 'webgl')
    throw new UsageError(
      "--backend webgl trains in the app (a browser's WebGL); headless training uses auto, webgpu, wasm or cpu",
    );
  const preference = choiceOption(values, 'backend', nodeBackendPreferences);
  if (preference === 'webgpu') await nodeBackendOrder(preference);
  return preference;
}

/** A comma-separated list of compute budgets, such as --budgets 1e9,3e9,1e10. */
export function flopsListOption(values: OptionValues, name: string): number[] | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isFinite(value) || value <= 0) {
      throw new UsageError(`--${name} takes positive FLOP counts separated by commas, such as 1e9,3e9, not "${part}"`);
    }
    return value;
  });
}

/** The data folder the command works in (--store, else ISOFLOP_HOME, else the per-user default), laid out. */
export function dataDirOf(values: OptionValues, io: CliIo): string {
  return ensureDataDir(resolveDataDir({ flag: stringOption(values, 'store'), env: io.env }));
}

/** The API over a command's data folder: the router the app and web mode call, with the CLI as its transport. */
export interface CliApi {
  app: App;
  /**
   * One API call. A payload the contract refuses becomes a usage error naming the command's flags
   * (`flags` maps the contract's field names to them), so limits and defaults come from the contract alone.
   */
  call<C extends Channel>(channel: C, input: Input<C>, flags?: Record<string, string>): Promise<Output<C>>;
}

export function apiOf(values: OptionValues, io: CliIo): CliApi {
  const app = createApp(dataDirOf(values, io));
  return {
    app,
    async call(channel, input, flags = {}) {
      // The contract's own schema first, so a refusal can name the flags from the issues' paths.
      const parsed = api[channel].input.safeParse(input);
      if (!parsed.success) throw new UsageError(describeIssues(parsed.error.issues, flags));
      return app.router.invoke(channel, input, { transport: 'cli' }).catch((error: unknown) => {
        // A handler's BAD_REQUEST (a dataset of the wrong kind, a budget no run could train) is misuse too.
        if (error instanceof IsoflopError && error.code === 'BAD_REQUEST')
          throw new UsageError(error.message.replace(/\.$/, ''));
        throw error;
      });
    },
  };
}

/** `k: Too big…` → `--k: Too big…`; a path inside a flag's value keeps its rest (`--budgets (1): …`). */
function describeIssues(issues: readonly z.core.$ZodIssue[], flags: Record<string, string>): string {
  return issues
    .map((issue) => {
      const [head, ...rest] = issue.path.map(String);
      const flag = head === undefined ? undefined : flags[head];
      const where = flag
        ? `${flag}${rest.length > 0 ? ` (${rest.join('.')})` : ''}`
        : head === undefined
          ? 'the request'
          : `field "${issue.path.join('.')}"`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
