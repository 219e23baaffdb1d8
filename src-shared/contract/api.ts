import { z } from 'zod';
import { SystemInfo } from './system';

/** One API call: what it takes, what it answers, one line on what it is for. */
export interface ChannelSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  summary: string;
}

const noInput = z.object({}).strict();

/** Every call the renderer, the web server and the CLI may make. The one source of truth. */
export const api = {
  'system.info': {
    input: noInput,
    output: SystemInfo,
    summary: 'App version, data folder, platform and transport',
  },
} as const satisfies Record<string, ChannelSpec>;

export type Api = typeof api;
export type Channel = keyof Api;
export type Input<C extends Channel> = z.input<Api[C]['input']>;
export type Output<C extends Channel> = z.output<Api[C]['output']>;

export const channels = Object.keys(api) as Channel[];

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(api, name);
}
