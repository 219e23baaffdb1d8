import { exportReport } from '../../export/reports';
import { DatasetStore } from '../../store/datasets/store';
import { RunStore } from '../../store/runs';
import { StudyStore } from '../../store/studies';
import { SweepStore } from '../../store/sweeps';
import { type Command, choiceOption, dataDirOf, numberOption, storeOption, stringOption, UsageError } from '../command';

export const report: Command = {
  summary: 'Export a sweep, a study or chosen runs as a PDF a person can read and a JSON a program can check',
  usage:
    'isoflop report --sweep ID | --study ID | --runs ID,ID --format pdf|json|both --out FILE [--paper a4|letter] [--budget FLOPs] [--store DIR]',
  options: {
    ...storeOption,
    sweep: { type: 'string' },
    study: { type: 'string' },
    runs: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    paper: { type: 'string' },
    budget: { type: 'string' },
  },
  async run(values, _positionals, io) {
    const sweepId = stringOption(values, 'sweep');
    const runIds = stringOption(values, 'runs')
      ?.split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    const studyId = stringOption(values, 'study');
    const out = stringOption(values, 'out');
    if ([sweepId, runIds, studyId].filter(Boolean).length !== 1 || !out) {
      throw new UsageError('report needs one of --sweep ID, --study ID or --runs ID,ID, and --out FILE');
    }
    const format = choiceOption(values, 'format', ['pdf', 'json', 'both'] as const) ?? 'both';
    const paper = choiceOption(values, 'paper', ['a4', 'letter'] as const) ?? 'a4';
    const budget = numberOption(values, 'budget', 1, 1e40);
    const dataDir = dataDirOf(values, io);
    const result = await exportReport(
      {
        dataDir,
        runs: new RunStore(dataDir),
        sweeps: new SweepStore(dataDir),
        studies: new StudyStore(dataDir),
        datasets: new DatasetStore(dataDir),
      },
      { sweepId, runIds, studyId, format, out, paper: paper === 'a4' ? 'A4' : 'Letter', ...(budget ? { budget } : {}) },
    );
    for (const file of result.files) io.out(`Wrote ${file}`);
    return 0;
  },
};
