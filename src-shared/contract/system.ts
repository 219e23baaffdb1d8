import { z } from 'zod';

export const transportKinds = ['ipc', 'http', 'cli'] as const;
export const TransportKind = z.enum(transportKinds);
export type TransportKind = z.infer<typeof TransportKind>;

export const SystemInfo = z.object({
  appVersion: z.string(),
  /** The data folder: datasets, runs, sweeps and reports live under it. */
  dataDir: z.string(),
  platform: z.object({
    os: z.string(),
    arch: z.string(),
    node: z.string(),
    /** null outside the desktop app */
    electron: z.string().nullable(),
    chrome: z.string().nullable(),
  }),
  /** How this request reached the main side. */
  transport: TransportKind,
});
export type SystemInfo = z.infer<typeof SystemInfo>;
