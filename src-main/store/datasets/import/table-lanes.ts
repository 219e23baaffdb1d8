import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { IsoflopError } from '../../../../src-shared/contract/isoflop-error';
import { type EncodePlan, encodeRecords } from './table-encode';
import { type PieceJob, type PieceResult, readyMessage, scanPiece } from './table-pieces';

/**
 * Reads CSV pieces on worker threads, one per core (at most `maxLanes`), so that a table imports
 * about as many times faster as the machine has cores, and the process that imports (Electron's main
 * process, `isoflop serve`) keeps its own thread for everything else. Where there is one core, or no
 * worker script (a source checkout run by the unit tests without ISOFLOP_TABLE_WORKER), pieces are
 * read on the calling thread: the same function, so the result is the same.
 */

/** At most 4 reader threads: on a 200 MB CSV, 4 peaked at 229 MB, 8 at 296 MB (the target is < 300 MB). */
const maxLanes = 4;
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
  // Both bundles have __dirname: Electron's main is CommonJS, and the CLI's ESM bundle defines it.
  const here = typeof __dirname === 'string' ? __dirname : null;
  if (!here) return null;
  for (const name of ['table-worker.js', 'table-worker.cjs']) {
    if (existsSync(join(here, name))) return join(here, name);
  }
  return null;
}

/** What a reader thread is asked: to read a piece (pass 1), or to encode scratch records (pass 2). */
export type LaneMessage = { kind: 'piece'; job: PieceJob } | { kind: 'encode'; plan: EncodePlan; bytes: Uint8Array };

interface Lane {
  worker: Worker;
  /** settles once the thread has loaded its script and said so, or has failed to */
  ready: Promise<void>;
  /** the answers awaited, in the order asked */
  waiting: Array<{ resolve: (answer: unknown) => void; reject: (error: Error) => void }>;
  /** why the thread stopped, once it has */
  failure: IsoflopError | null;
}

/** A reader thread, its pieces in order, and why it stopped if it has. */
function startLane(script: string): Lane {
  // A small young generation: a reader's garbage is short-lived, and each thread's default one (tens
  // of MB) would take an import's peak memory past its 300 MB target (isoflop bench --datasets).
  const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  let started: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    started = { resolve, reject };
  });
  ready.catch(() => undefined);
  const lane: Lane = { worker, ready, waiting: [], failure: null };
  worker.on('message', (answer: unknown) => {
    if (answer === readyMessage) started?.resolve();
    else lane.waiting.shift()?.resolve(answer);
  });
  const fail = (error: Error) => {
    started?.reject(error);
    lane.failure ??= new IsoflopError(
      'INTERNAL',
      `A CSV reader thread stopped (${error.message}). Nothing was kept; import the file again, and report this if it happens again.`,
    );
    for (const waiting of lane.waiting.splice(0)) waiting.reject(lane.failure);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  return lane;
}

export class TableLanes {
  private next = 0;

  private constructor(private readonly lanes: Lane[]) {}

  /**
   * Starts `lanes` reader threads (0: read on the calling thread; by default one per core). If a thread
   * cannot start (its script will not load), the CSV is read on the calling thread instead.
   */
  static async open(lanes = defaultLanes()): Promise<TableLanes> {
    const script = tableWorkerScript();
    const started: Lane[] = [];
    try {
      for (let i = 0; i < readerThreads(lanes) && script; i++) started.push(startLane(script));
      await Promise.all(started.map((lane) => lane.ready));
      return new TableLanes(started);
    } catch {
      await new TableLanes(started).close();
      return new TableLanes([]);
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
    return this.ask({ kind: 'piece', job }, job.bytes, () => scanPiece(job));
  }

  /** Encodes whole scratch records into rows; the bytes go to the thread that encodes them. */
  encode(plan: EncodePlan, bytes: Uint8Array): Promise<Float32Array> {
    return this.ask({ kind: 'encode', plan, bytes }, bytes, () => encodeRecords(plan, bytes));
  }

  /** Asks the next thread in turn, or answers on this one when there are none. */
  private ask<T>(message: LaneMessage, bytes: Uint8Array, here: () => T): Promise<T> {
    const lane = this.lanes[this.next++ % Math.max(1, this.lanes.length)];
    if (!lane) return Promise.resolve().then(here);
    if (lane.failure) return Promise.reject(lane.failure);
    return new Promise((resolve, reject) => {
      lane.waiting.push({ resolve: resolve as (answer: unknown) => void, reject });
      lane.worker.postMessage(message, [bytes.buffer as ArrayBuffer]);
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
