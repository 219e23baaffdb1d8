import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CliIo } from './command';
import { installedFile } from './installed';

/**
 * `--jobs N`: N processes train one sweep's runs at once. The command's own process is one of them; the
 * other N-1 are `isoflop sweep --resume ID --worker` on the same data folder. Each takes the next run no
 * process has claimed (the run's lock decides), so a slow run never holds up the rest, and a process that
 * crashes or is killed changes nothing for the others: its run keeps a dead lock, which the last pass of
 * the command's own process resumes from its checkpoint.
 */

export interface JobWorkers {
  /** resolves when every worker has exited; the exit codes, in order */
  done: Promise<Array<number | null>>;
  /** asks every worker to stop after its current run's checkpoint (as Ctrl+C does) */
  stop(): void;
}

export function startJobWorkers(
  count: number,
  sweepId: string,
  args: string[],
  env: Record<string, string>,
  io: CliIo,
): JobWorkers {
  const entry = installedFile(join('bin', 'isoflop.js'), '--jobs cannot start its workers');
  const children = Array.from({ length: count }, (_, i) => {
    // A process group of its own: a terminal's Ctrl+C reaches only the command, which passes it on once
    // (a second SIGINT would end a job mid-step instead of after its run's checkpoint).
    const child = spawn(process.execPath, [entry, 'sweep', '--resume', sweepId, '--worker', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
      detached: true,
    });
    let pending = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      // Which run each job took; its per-step lines stay in the job.
      for (const line of lines) if (/^\[\d+\/\d+\]|^isoflop:/.test(line)) io.err(`[job ${i + 2}] ${line}`);
    });
    return child;
  });
  const stopped = new WeakSet<object>();
  const done = Promise.all(
    children.map(
      (child) =>
        new Promise<number | null>((resolve) => {
          child.once('exit', (code) => resolve(code));
          child.once('error', () => resolve(null));
        }),
    ),
  );
  return {
    done,
    stop: () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null && !stopped.has(child)) {
          stopped.add(child);
          child.kill('SIGINT');
        }
      }
    },
  };
}
