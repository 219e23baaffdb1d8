import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IsoflopError } from '../../../src-shared/contract';
import { type PieceJob, type PieceResult, scanPiece } from './table-pieces';

/**
 * Reads CSV pieces on worker threads, one per core (at most `maxLanes`), so that a table imports
 * about as many times faster as the machine has cores, and the process that imports (Electron's main
 * process, `isoflop serve`) keeps its own thread for everything else. Where there is one core, or no
 * worker script (a source checkout run by the unit tests without ISOFLOP_TABLE_WORKER), pieces are
 * read on the calling thread: the same function, so the result is the same.
 */

const maxLanes = 8;
/** Pieces in hand per lane. One: a second made no lane busier on 2 cores, and cost 30 MB more at the peak. */
export const piecesPerLane = 1;

/** Reader threads by default: one per core, at most `maxLanes`. */
export function defaultLanes(): number {
  return Math.min(maxLanes, availableParallelism());
}

/** How many reader threads `new TableLanes(lanes)` starts: none without a worker script. */
export function readerThreads(lanes = defaultLanes()): number {
  return lanes >= 1 && tableWorkerScript() ? lanes : 0;
}

/** The bundled worker script beside the running bundle (dist/cli, dist/electron), if there is one. */
export function tableWorkerScript(): string | null {
  const named = process.env.ISOFLOP_TABLE_WORKER;
  if (named) return named;
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const name of ['table-worker.js', 'table-worker.cjs']) {
    if (existsSync(join(here, name))) return join(here, name);
  }
  return null;
}

interface Lane {
  worker: Worker;
  waiting: Array<{ resolve: (result: PieceResult) => void; reject: (error: Error) => void }>;
  /** why the thread stopped, once it has */
  failure: IsoflopError | null;
}

export class TableLanes {
  private readonly lanes: Lane[] = [];
  private next = 0;

  /** `lanes`: how many threads to read on (0: the calling thread); by default one per core. */
  constructor(lanes = defaultLanes()) {
    const script = tableWorkerScript();
    if (!script) return;
    for (let i = 0; i < readerThreads(lanes); i++) {
      // A small young generation: a reader's garbage is short-lived, and each thread's default one
      // (tens of MB) would take an import's peak memory past its 300 MB target (isoflop bench --datasets).
      const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      const lane: Lane = { worker, waiting: [], failure: null };
      lane.worker.on('message', (result: PieceResult) => lane.waiting.shift()?.resolve(result));
      const fail = (error: Error) => {
        lane.failure ??= new IsoflopError(
          'INTERNAL',
          `A CSV reader thread stopped (${error.message}). Nothing was kept; import the file again, and report this if it happens again.`,
        );
        for (const waiting of lane.waiting.splice(0)) waiting.reject(lane.failure);
      };
      lane.worker.on('error', fail);
      lane.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
      this.lanes.push(lane);
    }
  }

  /** How many pieces may be in hand at once. */
  get capacity(): number {
    return Math.max(1, this.lanes.length) * piecesPerLane;
  }

  get threads(): number {
    return this.lanes.length;
  }

  /** Reads a piece; its bytes go to the thread that reads it (the caller must not use them again). */
  read(job: PieceJob): Promise<PieceResult> {
    const lane = this.lanes[this.next++ % Math.max(1, this.lanes.length)];
    if (!lane) return Promise.resolve().then(() => scanPiece(job));
    if (lane.failure) return Promise.reject(lane.failure);
    return new Promise((resolve, reject) => {
      lane.waiting.push({ resolve, reject });
      lane.worker.postMessage(job, [job.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.lanes.splice(0).map((lane) => {
        lane.worker.removeAllListeners('exit');
        return lane.worker.terminate();
      }),
    );
  }
}
