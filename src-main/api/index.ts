import { type PdfPrinter, printPdf } from '../export/pdf';
import { openFolderOf } from '../export/reveal';
import { ensureDataDir } from '../store/data-dir';
import { ensureDemos } from '../store/datasets/demos/demos';
import { DatasetStore } from '../store/datasets/store';
import { removeLeftovers } from '../store/leftovers';
import { RunStore } from '../store/runs';
import { StudyStore } from '../store/studies';
import { SweepStore } from '../store/sweeps';
import { type AppContext, createHandlers } from './handlers';
import { JobRegistry } from './jobs';
import { createRouter, type Router } from './router';

export type { RequestContext, Router } from './router';

export interface App extends AppContext {
  router: Router;
  /** Settles when the built-in demos exist (or failed; see demos.error). */
  demosReady: Promise<void>;
  /** Settles with what the store's opening removed (see store/leftovers.ts). */
  leftoversRemoved: Promise<string[]>;
}

export interface AppOptions {
  /** Generate the built-in demo datasets in the background if this data folder never had them. */
  prepareDemos?: boolean;
  /** How reports become PDFs: headless Chromium by default, Electron's printToPDF in the desktop app. */
  printPdf?: PdfPrinter;
  /** Shows a file in the system's file manager (the desktop app); the default opens its folder. */
  reveal?: (path: string) => Promise<void>;
}

/** The API over one data folder, as every transport (IPC, HTTP, CLI) uses it. */
export function createApp(dataDir: string, options: AppOptions = {}): App {
  const context: AppContext = {
    dataDir: ensureDataDir(dataDir),
    datasets: new DatasetStore(dataDir),
    runs: new RunStore(dataDir),
    sweeps: new SweepStore(dataDir),
    studies: new StudyStore(dataDir),
    jobs: new JobRegistry(),
    demos: { preparing: options.prepareDemos === true, error: null },
    printPdf: options.printPdf ?? printPdf,
    reveal: options.reveal ?? openFolderOf,
  };
  // Debris of crashes and abandoned uploads goes when the store opens; a failure here costs nothing.
  const leftoversRemoved = removeLeftovers(dataDir).catch(() => [] as string[]);
  const demosReady = options.prepareDemos
    ? ensureDemos(context.datasets).then(
        () => {
          context.demos.preparing = false;
        },
        (error: unknown) => {
          context.demos.preparing = false;
          context.demos.error = `The built-in demo datasets could not be made: ${error instanceof Error ? error.message : String(error)}`;
        },
      )
    : Promise.resolve();
  return { ...context, router: createRouter(createHandlers(context)), demosReady, leftoversRemoved };
}

/** The router alone, for callers that need nothing else. */
export function createApi(dataDir: string, options: AppOptions = {}): Router {
  return createApp(dataDir, options).router;
}
