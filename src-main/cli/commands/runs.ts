import { formatCount, formatFlops } from '../../../src-shared/format';
import { apiOf, type Command, storeOption, UsageError } from '../command';

export const runs: Command = {
  summary: 'List, inspect and remove training runs',
  usage:
    'isoflop runs list [--json]\n       isoflop runs show <id> [--json]\n       isoflop runs rm <id> --yes\n  All take --store DIR.',
  options: { ...storeOption, json: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  positionals: true,
  async run(values, positionals, io) {
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
    if (action !== 'show' && action !== 'rm')
      throw new UsageError(
        action ? `unknown runs action '${action}' (use list, show, rm)` : 'say what to do: list, show, rm',
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
