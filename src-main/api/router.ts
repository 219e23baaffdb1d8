import type { z } from 'zod';
import {
  type ApiError,
  type ApiResult,
  api,
  type Channel,
  type Input,
  IsoflopError,
  isChannel,
  type Output,
  type TransportKind,
} from '../../src-shared/contract';
import { storeFault } from '../store/fs-errors';

/** What a handler knows about who is asking. */
export interface RequestContext {
  transport: TransportKind;
}

export type Handler<C extends Channel> = (
  input: z.output<(typeof api)[C]['input']>,
  ctx: RequestContext,
) => Promise<Output<C>> | Output<C>;

export type Handlers = { [C in Channel]: Handler<C> };

export interface Router {
  /** Runs one call. Never throws: every failure comes back as a typed error. */
  call(channel: string, payload: unknown, ctx: RequestContext): Promise<ApiResult<unknown>>;
  /** Typed convenience for in-process callers (the CLI): throws IsoflopError on failure. */
  invoke<C extends Channel>(channel: C, input: Input<C>, ctx: RequestContext): Promise<Output<C>>;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? `field "${issue.path.join('.')}"` : 'payload';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Where a bug's details go: the process's log, never the answer (it may travel over HTTP). */
let logInternal: (line: string) => void = (line) => console.error(line);
export function setInternalLog(log: (line: string) => void): void {
  logInternal = log;
}

/**
 * An error no handler typed. A full disk or a folder the process may not write is the store's state, not a
 * bug; anything else is a bug: a short answer with a reference, and the stack in the log.
 */
export function unexpected(channel: string, error: unknown): ApiError {
  const why = storeFault(error);
  if (why !== null) {
    return {
      code: 'STORE_UNAVAILABLE',
      message: `${channel}: the data folder cannot be written (${why}). Nothing was changed.`,
    };
  }
  const reference = Math.random().toString(36).slice(2, 10);
  logInternal(
    `isoflop: internal error ${reference} in ${channel}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return {
    code: 'INTERNAL',
    message: `${channel} failed unexpectedly (a bug, reference ${reference}). The details are in IsoFLOP's log; please report them.`,
  };
}

export function createRouter(handlers: Handlers): Router {
  async function call(channel: string, payload: unknown, ctx: RequestContext): Promise<ApiResult<unknown>> {
    if (!isChannel(channel)) {
      return {
        ok: false,
        error: {
          code: 'UNKNOWN_CHANNEL',
          message: `There is no API call named "${channel}". Known calls: ${Object.keys(api).join(', ')}.`,
        },
      };
    }
    const spec = api[channel];
    const input = spec.input.safeParse(payload ?? {});
    if (!input.success) {
      return {
        ok: false,
        error: {
          code: 'BAD_REQUEST',
          message: `Bad payload for ${channel}: ${describeIssues(input.error)}.`,
        },
      };
    }
    try {
      const handler = handlers[channel] as Handler<typeof channel>;
      const value = await handler(input.data, ctx);
      const output = spec.output.safeParse(value);
      if (!output.success) {
        return {
          ok: false,
          error: {
            code: 'INTERNAL',
            message: `${channel} produced an answer that breaks its contract (${describeIssues(output.error)}). Please report this.`,
          },
        };
      }
      return { ok: true, value: output.data };
    } catch (error) {
      if (error instanceof IsoflopError) return { ok: false, error: error.toJSON() };
      return { ok: false, error: unexpected(channel, error) };
    }
  }

  return {
    call,
    async invoke(channel, input, ctx) {
      const result = await call(channel, input, ctx);
      if (!result.ok) throw new IsoflopError(result.error.code, result.error.message);
      return result.value as Output<typeof channel>;
    },
  };
}
