import type { RunRecord } from '../../contract/runs';

/**
 * A queue of runs trained one at a time (a GPU is one; so is a CLI process): a sweep's runs, a study's
 * trial, a re-run. Runs join while it trains, a waiting one can leave, and a pause lets the run in training
 * end (the host pauses its session) and starts no other. Both hosts use it: the CLI's sweeps and the app's
 * queue, which mirrors `state` into the UI.
 */

export interface QueueState {
  /** the run training now */
  current: RunRecord | null;
  /** runs waiting, in the order they will train */
  waiting: RunRecord[];
  done: number;
  total: number;
  stopping: boolean;
}

/** Trains one run to its end (or skips it: another process trains it). */
export type TrainOne = (run: RunRecord, position: { index: number; total: number }) => Promise<unknown>;

export class RunQueue {
  readonly state: QueueState = { current: null, waiting: [], done: 0, total: 0, stopping: false };
  private running: Promise<void> | null = null;

  constructor(
    private readonly trainOne: TrainOne,
    private readonly onChange: (state: QueueState) => void = () => {},
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
    try {
      for (;;) {
        const run = this.state.stopping ? undefined : this.state.waiting.shift();
        if (!run) break;
        this.state.current = run;
        this.onChange(this.state);
        await this.trainOne(run, { index: this.state.done, total: this.state.total });
        this.state.done++;
      }
    } finally {
      this.state.current = null;
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
