import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CheckpointManifest,
  IsoflopError,
  MetricRow,
  type MetricRowInput,
  type RunConfig,
  RunId,
  RunRecord,
} from '../../src-shared/contract';
import { decodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { familyOf } from '../../src-shared/engine/models/families';
import { checkTransition } from '../../src-shared/engine/session/run-status';
import { syncDir, writeFileAtomic } from './atomic';
import { lockFileHolder, tryLockFile } from './lock-file';
import { readRecord } from './read-record';

/**
 * `<data>/runs/<id>/`: run.json written whole (temp, fsync, rename), metrics.jsonl appended a line
 * at a time (a torn last line is ignored on read), checkpoints/<step>/ model.json + weights.bin.
 */

/** A new run waiting to train, its parameter and FLOP counts derived from its model. */
export function queuedRun(
  id: string,
  name: string,
  sweepId: string | null,
  planned: Omit<RunConfig, 'fold'> & { fold?: RunConfig['fold'] },
): RunRecord {
  const config: RunConfig = { ...planned, fold: planned.fold ?? null };
  const now = new Date().toISOString();
  const model = config.model;
  return {
    formatVersion: 1,
    id,
    sweepId,
    studyId: null,
    cvId: null,
    name,
    createdAt: now,
    updatedAt: now,
    status: 'queued',
    config,
    params: familyOf(model).paramCount(model),
    flopsPerToken: familyOf(model).flops(model),
    environment: null,
    result: null,
    error: null,
    lastCheckpointStep: null,
    log: [],
  };
}

export type RunListEntry = { ok: true; run: RunRecord } | { ok: false; id: string; error: string };

const keepCheckpoints = 2;

export class RunStore {
  readonly root: string;

  /**
   * `append` writes a line at the end of a file; tests inject one that fails like a full disk.
   */
  constructor(
    dataDir: string,
    private readonly append: (path: string, text: string) => Promise<void> = (path, text) => appendFile(path, text),
  ) {
    this.root = join(dataDir, 'runs');
  }

  folderOf(id: string): string {
    const parsed = RunId.safeParse(id);
    if (!parsed.success) throw new IsoflopError('BAD_REQUEST', `"${id}" is not a run id.`);
    return join(this.root, parsed.data);
  }

  newId(prefix: string): string {
    return `${prefix}-${randomBytes(4).toString('hex')}`;
  }

  /**
   * A run's folder appears whole: it is built as a hidden folder holding run.json and renamed into place,
   * so another process never sees a run folder without its record. `ifAbsent`: another process (a shard
   * of the same plan) may have made it first; keep theirs.
   */
  async create(run: RunRecord, options: { ifAbsent?: boolean } = {}): Promise<RunRecord> {
    const record = RunRecord.parse(run);
    await mkdir(this.root, { recursive: true });
    const folder = this.folderOf(record.id);
    const staging = join(this.root, `.create-${record.id}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging);
    try {
      await writeFileAtomic(join(staging, 'run.json'), JSON.stringify(record, null, 2));
      await rename(staging, folder);
      await syncDir(this.root);
      return record;
    } catch (error) {
      // Renaming onto a folder that exists fails (ENOTEMPTY or EEXIST on POSIX, EPERM on Windows).
      if (!(await stat(folder).catch(() => null))) throw error;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    // The folder exists already.
    if (options.ifAbsent) return this.get(record.id);
    await writeFileAtomic(join(folder, 'run.json'), JSON.stringify(record, null, 2));
    return record;
  }

  async get(id: string): Promise<RunRecord> {
    const folder = this.folderOf(id);
    return readRecord(join(folder, 'run.json'), `runs/${id}/run.json`, RunRecord, `There is no run "${id}".`);
  }

  /** Changes a run's record; a status change must be one the run state machine allows (else CONFLICT). */
  async update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    const current = await this.get(id);
    if (patch.status !== undefined) checkTransition(current.name, current.status, patch.status);
    const next = RunRecord.parse({ ...current, ...patch, updatedAt: new Date().toISOString() });
    await writeFileAtomic(join(this.folderOf(id), 'run.json'), JSON.stringify(next, null, 2));
    return next;
  }

  /**
   * Every run, newest first; a damaged run.json is listed as such instead of breaking the list. A run of a
   * group that is not whole yet is left out: a sweep's runs appear once its sweep.json exists (written last),
   * a cross-validation's once all k folds do. So a crash while creating either leaves nothing listed.
   */
  async list(): Promise<RunListEntry[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const out: RunListEntry[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      try {
        out.push({ ok: true, run: await this.observed(await this.get(entry.name)) });
      } catch (error) {
        out.push({ ok: false, id: entry.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const uncommitted = await this.uncommitted(out.flatMap((entry) => (entry.ok ? [entry.run] : [])));
    return out
      .filter((entry) => !(entry.ok && uncommitted.has(entry.run.id)))
      .sort((a, b) => (a.ok && b.ok ? b.run.createdAt.localeCompare(a.run.createdAt) : a.ok ? -1 : 1));
  }

  /**
   * The ids of runs whose group's creation never finished. Each group has one commit point, written last, and
   * it counts when its file exists (readable or not: a damaged record hides nothing):
   * - a sweep's runs: `sweeps/<id>/sweep.json`;
   * - a cross-validation's folds: the first fold's folder (`<cvId>-f1`, created after the others);
   * - a study's trial runs: the trial in `studies/<id>/study.json` (recorded after its run is written).
   */
  async uncommitted(runs: RunRecord[]): Promise<Set<string>> {
    const storeRoot = dirname(this.root);
    const exists = async (path: string) => (await stat(path).catch(() => null)) !== null;
    const cache = new Map<string, Promise<boolean>>();
    const once = (key: string, check: () => Promise<boolean>) => {
      if (!cache.has(key)) cache.set(key, check());
      return cache.get(key) as Promise<boolean>;
    };
    const studyTrials = new Map<string, Promise<Set<string> | null>>();
    const trialsOf = (studyId: string) => {
      if (!studyTrials.has(studyId))
        studyTrials.set(
          studyId,
          readFile(join(storeRoot, 'studies', studyId, 'study.json'), 'utf8').then(
            (text) => {
              try {
                const trials = (JSON.parse(text) as { trials?: Array<{ runId?: unknown }> }).trials ?? [];
                return new Set(trials.map((t) => String(t.runId)));
              } catch {
                return null; // damaged: hides nothing
              }
            },
            () => new Set<string>(),
          ),
        );
      return studyTrials.get(studyId) as Promise<Set<string> | null>;
    };
    const out = new Set<string>();
    for (const run of runs) {
      if (
        run.sweepId &&
        !(await once(`s:${run.sweepId}`, () => exists(join(storeRoot, 'sweeps', run.sweepId as string, 'sweep.json'))))
      )
        out.add(run.id);
      if (run.cvId && !(await once(`c:${run.cvId}`, () => exists(join(this.root, `${run.cvId}-f1`))))) out.add(run.id);
      if (run.studyId) {
        const trials = await trialsOf(run.studyId);
        if (trials !== null && !trials.has(run.id)) out.add(run.id);
      }
    }
    return out;
  }

  /**
   * Removes the queued runs of groups never completed (a sweep, CV or trial whose creation a crash cut short),
   * once older than `graceMs`, so another process still creating its sweep keeps them. Returns their ids.
   */
  async removeUncommitted(graceMs = 60 * 60_000): Promise<string[]> {
    const runs: RunRecord[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const run = await this.get(entry.name).catch(() => null);
      if (run) runs.push(run);
    }
    const removed: string[] = [];
    const uncommitted = await this.uncommitted(runs);
    for (const run of runs) {
      if (!uncommitted.has(run.id)) continue;
      if (run.status !== 'queued' || Date.now() - Date.parse(run.createdAt) < graceMs) continue;
      await this.delete(run.id).catch(() => undefined);
      removed.push(run.id);
    }
    return removed;
  }

  /**
   * Claims a run for this process (`runs/<id>/lock`, created exclusively), so two CLI processes, two
   * cluster shards, or the app and a CLI never train the same run. A lock left by a dead process on this
   * host, or one older than `staleMinutes` elsewhere, is taken over. Returns a release function, or null
   * if it is taken (by this process too: callers that may hold it already ask `lockHolder` first).
   */
  async tryLock(id: string, staleMinutes = 30): Promise<(() => Promise<void>) | null> {
    return tryLockFile(join(this.folderOf(id), 'lock'), staleMinutes * 60_000);
  }

  /** Removes a run's lock if this process holds it (another process's is left alone). */
  async unlock(id: string): Promise<void> {
    if ((await this.lockHolder(id)) === 'this process') await rm(join(this.folderOf(id), 'lock'), { force: true });
  }

  /** Who holds a run's lock: this process, another live one, or nobody (no lock, or a stale one). */
  async lockHolder(id: string, staleMinutes = 30): Promise<'this process' | 'other' | null> {
    return lockFileHolder(join(this.folderOf(id), 'lock'), staleMinutes * 60_000);
  }

  /**
   * The run as a person should see it: one marked running that no live process holds (the app or the CLI
   * died mid-run) is `interrupted`, and resumes from its last checkpoint.
   */
  async observed(run: RunRecord): Promise<RunRecord> {
    if (run.status !== 'running' || (await this.lockHolder(run.id)) !== null) return run;
    return { ...run, status: 'interrupted' };
  }

  async appendMetrics(id: string, row: MetricRowInput): Promise<void> {
    const path = join(this.folderOf(id), 'metrics.jsonl');
    if (!(await stat(join(this.folderOf(id), 'run.json')).catch(() => null)))
      throw new IsoflopError('NOT_FOUND', `There is no run "${id}".`);
    const before = (await stat(path).catch(() => null))?.size ?? 0;
    try {
      await this.append(path, `${JSON.stringify(MetricRow.parse(row))}\n`);
    } catch (error) {
      // A write cut short leaves part of a line: cut it off, so the next append starts a clean line.
      await truncate(path, before).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      throw new IsoflopError(
        'STORE_UNAVAILABLE',
        code === 'ENOSPC'
          ? `The disk is full: run ${id} stopped; its metrics up to now are intact. Free some space and resume it.`
          : `Could not append to the metrics of run ${id} (${code ?? 'error'}); its metrics up to now are intact.`,
      );
    }
  }

  async metrics(id: string): Promise<MetricRow[]> {
    const text = await readFile(join(this.folderOf(id), 'metrics.jsonl'), 'utf8').catch(() => '');
    const rows: MetricRow[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(MetricRow.parse(JSON.parse(line)));
      } catch {
        // A torn last line (the process died mid-write) is skipped; the rest stays readable.
      }
    }
    return rows;
  }

  /** Drops metrics past a step: a resumed run replays from its checkpoint and writes them again. */
  async truncateMetrics(id: string, lastStep: number): Promise<void> {
    const kept = (await this.metrics(id)).filter((row) => row.step <= lastStep);
    await writeFileAtomic(
      join(this.folderOf(id), 'metrics.jsonl'),
      kept.map((row) => `${JSON.stringify(row)}\n`).join(''),
    );
  }

  async saveCheckpoint(id: string, manifest: CheckpointManifest, weights: Uint8Array): Promise<void> {
    const folder = join(this.folderOf(id), 'checkpoints');
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `.${manifest.step}-${randomBytes(4).toString('hex')}`);
    await mkdir(temp);
    await writeFileAtomic(join(temp, 'weights.bin'), weights);
    await writeFileAtomic(join(temp, 'model.json'), JSON.stringify(manifest));
    const target = join(folder, String(manifest.step));
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
    await syncDir(folder);
    const steps = (await readdir(folder))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => b - a);
    for (const old of steps.slice(keepCheckpoints))
      await rm(join(folder, String(old)), { recursive: true, force: true });
  }

  /** Removes every checkpoint (a run trained again from its start). */
  async clearCheckpoints(id: string): Promise<void> {
    await rm(join(this.folderOf(id), 'checkpoints'), { recursive: true, force: true });
  }

  async latestCheckpoint(id: string): Promise<{ manifest: CheckpointManifest; weights: Uint8Array } | null> {
    const folder = join(this.folderOf(id), 'checkpoints');
    const steps = (await readdir(folder).catch(() => []))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => b - a);
    for (const step of steps) {
      try {
        const manifest = CheckpointManifest.parse(
          JSON.parse(await readFile(join(folder, String(step), 'model.json'), 'utf8')),
        );
        const weights = new Uint8Array(await readFile(join(folder, String(step), 'weights.bin')));
        decodeCheckpoint(manifest, weights);
        return { manifest, weights };
      } catch {
        // An unreadable or inconsistent checkpoint: try the one before it.
      }
    }
    return null;
  }

  async delete(id: string): Promise<void> {
    await this.get(id).catch((error: unknown) => {
      if (error instanceof IsoflopError && error.code === 'NOT_FOUND') throw error;
    });
    const doomed = join(this.root, `.deleting-${id}-${randomBytes(3).toString('hex')}`);
    await rename(this.folderOf(id), doomed);
    await rm(doomed, { recursive: true, force: true });
  }
}
