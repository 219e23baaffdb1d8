import type { z } from 'zod';
import {
  type ApiResult,
  api,
  type Channel,
  type Input,
  IsoflopError,
  isChannel,
  type Output,
  type TransportKind,
} from '../../src-shared/contract';

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
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        error: { code: 'INTERNAL', message: `${channel} failed unexpectedly: ${message}` },
      };
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
