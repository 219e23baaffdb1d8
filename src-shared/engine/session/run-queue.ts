import type { RunRecord } from '../../contract/runs';

/**
 * A queue of runs: a sweep's runs, a study's trial, a re-run. Runs join while it trains, a waiting one can
 * leave, and a pause lets the runs in training end (the host pauses their sessions) and starts no other.
 * It trains `lanes()` runs at once (asked each time it starts): one in a CLI process (--jobs starts more
 * processes) and on a GPU; in the app, one per training worker on WASM and the CPU. Both hosts use it: the
 * CLI's sweeps and the app's queue, which mirrors `state` into the UI.
 */

export interface QueueState {
  /** the first of the runs training now */
  current: RunRecord | null;
  /** every run training now, in the order they started */
  training: RunRecord[];
  /** runs waiting, in the order they will train */
  waiting: RunRecord[];
  done: number;
  total: number;
  stopping: boolean;
}

/** Trains one run to its end (or skips it: another process trains it). */
export type TrainOne = (run: RunRecord, position: { index: number; total: number }) => Promise<unknown>;

export class RunQueue {
  readonly state: QueueState = { current: null, training: [], waiting: [], done: 0, total: 0, stopping: false };
  private running: Promise<void> | null = null;

  constructor(
    private readonly trainOne: TrainOne,
    private readonly onChange: (state: QueueState) => void = () => {},
    private readonly lanes: () => number = () => 1,
  ) {}

  /** Adds runs after those waiting; starts training if the queue was idle. Resolves when the queue is empty. */
  add(runs: RunRecord[]): Promise<void> {
    if (!this.running) {
      this.state.done = 0;
      this.state.total = 0;
      this.state.stopping = false;
    }
    this.state.waiting.push(...runs);
    this.state.total += runs.length;
    this.onChange(this.state);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Takes a waiting run out of the queue; false if it is not waiting here (it may be the one training). */
  remove(runId: string): boolean {
    const at = this.state.waiting.findIndex((run) => run.id === runId);
    if (at < 0) return false;
    this.state.waiting.splice(at, 1);
    this.state.total--;
    this.onChange(this.state);
    return true;
  }

  /** No further run starts; the host stops the one training (its session's pause). */
  stop(): void {
    if (!this.running) return;
    this.state.stopping = true;
    this.onChange(this.state);
  }

  private async drain(): Promise<void> {
    const lane = async () => {
      for (;;) {
        const run = this.state.stopping ? undefined : this.state.waiting.shift();
        if (!run) return;
        const index = this.state.done + this.state.training.length;
        this.state.training.push(run);
        this.state.current = this.state.training[0] ?? null;
        this.onChange(this.state);
        try {
          await this.trainOne(run, { index, total: this.state.total });
        } catch (error) {
          // A failure ends the queue, as with one lane: the other lanes finish their runs and stop.
          this.state.stopping = true;
          throw error;
        } finally {
          this.state.training.splice(this.state.training.indexOf(run), 1);
          this.state.current = this.state.training[0] ?? null;
        }
        this.state.done++;
        this.onChange(this.state);
      }
    };
    try {
      const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.floor(this.lanes())) }, lane));
      const failed = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      this.state.current = null;
      this.state.training = [];
      this.state.waiting.length = 0;
      this.onChange(this.state);
    }
  }
}

/** A sweep's training order: smallest budget first, then as planned. */
export function byBudget<T extends Pick<RunRecord, 'config'>>(runs: T[]): T[] {
  return runs
    .map((run, index) => ({ run, index }))
    .sort((a, b) => a.run.config.budgetFlops - b.run.config.budgetFlops || a.index - b.index)
    .map(({ run }) => run);
}
