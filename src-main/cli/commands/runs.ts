import { isFinal } from '../../../src-shared/engine/session/run-status';
import { formatCount, formatFlops } from '../../../src-shared/format';
import { executeClaimedRun } from '../../training/run-executor';
import {
  apiOf,
  backendOption,
  backendOptionSpec,
  backendUsage,
  type Command,
  storeOption,
  UsageError,
} from '../command';
import { endWithParent } from '../jobs';

export const runs: Command = {
  summary: 'List, inspect, train and remove training runs',
  usage:
    'isoflop runs list [--json]\n       isoflop runs show <id> [--json]\n' +
    `       isoflop runs train <id>... ${backendUsage}   (each run no other process is training; from its checkpoint if it has one)\n` +
    '       isoflop runs rm <id> --yes\n  All take --store DIR.',
  options: {
    ...storeOption,
    ...backendOptionSpec,
    json: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    /** a --jobs worker of `isoflop cv`: ends with the command that started it */
    worker: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, io) {
    if (values.worker) endWithParent();
    const api = apiOf(values, io);
    const [action, id] = positionals;
    if (action === 'list') {
      const { runs: all, damaged } = await api.call('runs.list', {});
      if (values.json) {
        io.out(JSON.stringify([...all, ...damaged.map((e) => ({ id: e.id, damaged: true, error: e.error }))], null, 2));
        return 0;
      }
      for (const r of all) {
        io.out(
          `${r.id.padEnd(32)} ${r.status.padEnd(12)} ${formatCount(r.params.total).padStart(7)} params  val ${r.result?.valLoss?.toFixed(4) ?? '-'}  ${r.name}`,
        );
      }
      for (const entry of damaged) io.out(`${entry.id.padEnd(32)} damaged      ${entry.error}`);
      return 0;
    }
    if (action === 'train') {
      const ids = positionals.slice(1);
      if (ids.length === 0) throw new UsageError("runs train needs run ids (see 'isoflop runs list')");
      const backend = await backendOption(values);
      let failed = 0;
      // Ctrl+C (or the command that started this job) stops after the current run's checkpoint.
      let stopping = false;
      const control: { stop?: () => void } = {};
      const onSignal = () => {
        stopping = true;
        control.stop?.();
      };
      process.once('SIGINT', onSignal);
      try {
        for (const [index, runId] of ids.entries()) {
          if (stopping) break;
          const { run } = await api.call('runs.get', { id: runId }, { id: runId });
          const line = `[${index + 1}/${ids.length}] ${run.name}: `;
          // A job process says only what it trained; the command that started it says the rest.
          if (isFinal(run.status)) {
            if (!values.worker) io.err(`${line}already ${run.status}`);
            continue;
          }
          let trained = false;
          const done = await executeClaimedRun(api.app, runId, {
            backend,
            control,
            onClaimed: () => {
              trained = true;
            },
          });
          if (!done || !trained) {
            if (!values.worker) io.err(`${line}${done ? `already ${done.status}` : 'another process is training it'}`);
            continue;
          }
          if (done.status !== 'completed') failed++;
          io.err(
            `${line}${done.status}${done.result?.bestValLoss != null ? ` ${done.result.bestValLoss.toFixed(5)}` : ''}`,
          );
        }
      } finally {
        process.off('SIGINT', onSignal);
      }
      // A job's runs that did not complete are the command's to report: the job itself did its part.
      return failed > 0 && !values.worker ? 1 : 0;
    }
    if (action !== 'show' && action !== 'rm')
      throw new UsageError(
        action
          ? `unknown runs action '${action}' (use list, show, train, rm)`
          : 'say what to do: list, show, train, rm',
      );
    if (!id) throw new UsageError(`runs ${action} needs a run id (see 'isoflop runs list')`);
    if (action === 'show') {
      const { run, metrics } = await api.call('runs.get', { id });
      if (values.json) io.out(JSON.stringify({ ...run, metrics }, null, 2));
      else {
        io.out(`${run.name}  [${run.id}]  ${run.status}`);
        io.out(
          `params ${formatCount(run.params.total)}, budget ${formatFlops(run.config.budgetFlops)} FLOPs, ${run.config.plannedSteps} steps planned`,
        );
        if (run.environment)
          io.out(
            `trained on ${run.environment.backend}${run.environment.adapter ? `, ${run.environment.adapter}` : ''} (${run.environment.platform})`,
          );
        for (const entry of run.log) io.out(`log ${entry.at}  ${entry.message}`);
        for (const m of metrics)
          io.out(
            `  step ${String(m.step).padStart(6)}  train ${m.trainLoss.toFixed(4)}  val ${m.valLoss?.toFixed(4) ?? '-'}`,
          );
      }
      return 0;
    }
    if (!values.yes) throw new UsageError(`removing ${id} cannot be undone: add --yes to confirm`);
    // No API call removes a run (the app cancels or re-runs them): the CLI asks the store itself.
    await api.app.runs.delete(id);
    io.out(`Removed ${id}.`);
    return 0;
  },
};
