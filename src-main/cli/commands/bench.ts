import { benchDatasets } from '../bench/datasets';
import { type Command, intOption, UsageError } from '../command';

export const bench: Command = {
  summary: 'Benchmarks that print figures: --datasets measures import throughput and memory',
  usage: 'isoflop bench --datasets [--size-mb N] [--json]',
  options: { datasets: { type: 'boolean' }, 'size-mb': { type: 'string' }, json: { type: 'boolean' } },
  async run(values, _positionals, io) {
    if (!values.datasets) {
      throw new UsageError(
        'say what to measure: --datasets (training throughput benchmarks come with the training engine)',
      );
    }
    const sizeMb = intOption(values, 'size-mb', 1, 100_000) ?? 200;
    const rows = await benchDatasets(sizeMb, (line) => io.err(line));
    if (values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    io.out(
      'import               size      time     MB/s   vs raw read   peak RSS   target                              ',
    );
    for (const row of rows) {
      io.out(
        [
          row.what.padEnd(18),
          `${row.megabytes.toFixed(0)} MB`.padStart(8),
          `${row.seconds.toFixed(2)} s`.padStart(9),
          row.mbPerSecond.toFixed(1).padStart(8),
          `${row.ratioToRawRead.toFixed(3)}x`.padStart(13),
          `${row.peakRssMb.toFixed(0)} MB`.padStart(10),
          `  ${row.target} ${row.met ? 'met' : 'NOT met'}`,
        ].join(' '),
      );
    }
    return 0;
  },
};
