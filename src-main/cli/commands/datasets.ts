import { basename } from 'node:path';
import type { DatasetManifest, ImportRequest } from '../../../src-shared/contract';
import { estimateEta, formatBytes, formatCount, formatDuration, progressBar } from '../../../src-shared/format';
import { ensureDemos } from '../../store/datasets/demos/demos';
import { DatasetStore } from '../../store/datasets/store';
import {
  apiOf,
  type CliIo,
  type Command,
  choiceOption,
  dataDirOf,
  intOption,
  type OptionValues,
  storeOption,
  stringOption,
  UsageError,
} from '../command';

const actions = ['import', 'list', 'show', 'rename', 'delete', 'restore-demos'] as const;

function openStore(values: OptionValues, io: CliIo): DatasetStore {
  return new DatasetStore(dataDirOf(values, io));
}

function summaryLine(m: DatasetManifest): string {
  const size =
    m.kind === 'text'
      ? `${formatCount(m.stats.tokens)} tokens (${m.tokenizer.type === 'byte' ? 'bytes' : `BPE ${m.tokenizer.vocabSize}`})`
      : `${formatCount(m.stats.rows)} rows, ${m.features} features, ${m.task}`;
  return `${m.id.padEnd(28)} ${m.kind.padEnd(6)} ${size.padEnd(34)} ${m.name}${m.builtIn ? '  (built-in)' : ''}`;
}

function describeDataset(m: DatasetManifest): string[] {
  const lines = [
    `${m.name}  [${m.id}]`,
    m.description,
    `source  ${m.source.name}, ${formatBytes(m.source.bytes)}, sha256 ${m.source.sha256.slice(0, 16)}…`,
  ];
  if (m.kind === 'text') {
    lines.push(
      `tokens  ${formatCount(m.stats.tokens)} (${m.stats.uniqueTokens} distinct), tokenizer ${m.tokenizer.type} / ${m.tokenizer.vocabSize}`,
    );
    for (const split of ['train', 'val', 'test'] as const) {
      const s = m.splits[split];
      lines.push(`  ${split.padEnd(5)} ${formatCount(s.tokens).padStart(8)} tokens, ${s.uniqueTokens} distinct`);
    }
    if (m.entropyBitsPerByte !== null) lines.push(`entropy ≤ ${m.entropyBitsPerByte.toFixed(3)} bits per byte`);
    lines.push('sample', `  ${m.stats.sample.slice(0, 240).replaceAll('\n', '\n  ')}`);
  } else {
    lines.push(
      `rows    ${m.stats.rows}: train ${m.splits.train.rows}, val ${m.splits.val.rows}, test ${m.splits.test.rows}`,
    );
    lines.push(
      `task    ${m.task}${m.task !== m.taskInferred ? ` (inferred ${m.taskInferred})` : ''}, target "${m.target.name}"`,
    );
    for (const c of m.columns) {
      lines.push(
        `  ${c.name.padEnd(20)} ${c.type.padEnd(12)} ${c.missing} missing${c.categories ? `, ${c.categories.length} categories` : ''}`,
      );
    }
    for (const skipped of m.skippedColumns) lines.push(`  ${skipped.name.padEnd(20)} skipped: ${skipped.reason}`);
    if (m.stats.classBalance) {
      lines.push(
        `classes ${Object.entries(m.stats.classBalance)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}`,
      );
    }
    if (m.irreducibleLoss !== null) lines.push(`noise floor (irreducible MSE) ${m.irreducibleLoss}`);
  }
  return lines;
}

async function runImport(values: OptionValues, positionals: string[], io: CliIo): Promise<number> {
  const path = positionals[0];
  if (!path) throw new UsageError('datasets import needs a file or folder: isoflop datasets import <path>');
  const request: ImportRequest = {
    source: { path },
    name: stringOption(values, 'name'),
    kind: choiceOption(values, 'kind', ['text', 'csv'] as const),
    target: stringOption(values, 'target'),
    task: choiceOption(values, 'task', ['regression', 'classification'] as const),
    tokenizer: choiceOption(values, 'tokenizer', ['byte', 'bpe'] as const),
    vocabSize: intOption(values, 'vocab', 257, 65536),
    seed: intOption(values, 'seed', 0, 2 ** 31 - 1),
  };
  if (request.vocabSize !== undefined && request.tokenizer !== 'bpe') request.tokenizer = 'bpe';
  const store = openStore(values, io);
  let phase = '';
  let phaseStart = Date.now();
  let lastDraw = 0;
  let lastPercent = -10;
  const started = Date.now();
  const manifest = await store.importFrom({ ...request, path, displayName: basename(path) }, (next, done, total) => {
    const now = Date.now();
    if (next !== phase) {
      if (phase && io.progress) io.progress('', true);
      phase = next;
      phaseStart = now;
      lastPercent = -10;
    }
    const fraction = total > 0 ? done / total : 0;
    const eta = estimateEta((now - phaseStart) / 1000, done, total);
    const text = `${phase.padEnd(28)} ${progressBar(fraction)} ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ETA ${eta === null ? '…' : formatDuration(eta)}`;
    if (io.progress) {
      if (now - lastDraw > 100 || done >= total) {
        io.progress(text, false);
        lastDraw = now;
      }
    } else if (
      (now - started >= quietLogMs || io.env.ISOFLOP_PROGRESS === 'lines') &&
      fraction * 100 >= lastPercent + 10
    ) {
      // A log (not a terminal) gets a line per 10%, and only for imports that last: a file refused in its
      // first seconds gives the one error line and nothing before it.
      lastPercent = Math.floor(fraction * 10) * 10;
      io.err(text);
    }
  });
  io.progress?.('', true);
  if (values.json) io.out(JSON.stringify(manifest, null, 2));
  else {
    io.out(`Imported ${basename(path)} as ${manifest.id}.`);
    for (const line of describeDataset(manifest).slice(2, 8)) io.out(line);
  }
  return 0;
}

/** How long an import runs before a non-terminal stderr gets progress lines. */
const quietLogMs = 5_000;

export const datasets: Command = {
  summary: 'Import, list, inspect, rename and delete datasets',
  usage: [
    'isoflop datasets list [--json]',
    '       isoflop datasets import <file-or-folder> [--name N] [--kind text|csv] [--target COLUMN]',
    '               [--task regression|classification] [--tokenizer byte|bpe] [--vocab N] [--seed N] [--json]',
    '       isoflop datasets show <id> [--json]',
    '       isoflop datasets rename <id> <new name>',
    '       isoflop datasets delete <id> --yes',
    '       isoflop datasets restore-demos          (makes deleted built-in demos again, from their seeds)',
    '  All take --store DIR.',
  ].join('\n'),
  options: {
    ...storeOption,
    json: { type: 'boolean' },
    name: { type: 'string' },
    kind: { type: 'string' },
    target: { type: 'string' },
    task: { type: 'string' },
    tokenizer: { type: 'string' },
    vocab: { type: 'string' },
    seed: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
  },
  positionals: true,
  async run(values, positionals, io) {
    const [action, ...rest] = positionals;
    if (!action || !(actions as readonly string[]).includes(action)) {
      throw new UsageError(
        action
          ? `unknown datasets action '${action}' (use ${actions.join(', ')})`
          : `say what to do: ${actions.join(', ')}`,
      );
    }
    if (action === 'import') return runImport(values, rest, io);
    const api = apiOf(values, io);
    if (action === 'list') {
      const made = await ensureDemos(api.app.datasets);
      if (made.length > 0) io.err(`Made the built-in demo datasets: ${made.join(', ')}.`);
      const { datasets: all } = await api.call('datasets.list', {});
      if (values.json) io.out(JSON.stringify(all, null, 2));
      else for (const manifest of all) io.out(summaryLine(manifest));
      return 0;
    }
    if (action === 'restore-demos') {
      const { restored } = await api.call('datasets.restoreDemos', {});
      if (values.json) io.out(JSON.stringify({ restored }));
      else
        io.out(
          restored.length > 0
            ? `Restored ${restored.join(', ')}.`
            : 'Every built-in demo is there; nothing to restore.',
        );
      return 0;
    }
    const id = rest[0];
    if (!id) throw new UsageError(`datasets ${action} needs a dataset id (see 'isoflop datasets list')`);
    if (action === 'show') {
      const manifest = await api.call('datasets.get', { id });
      if (values.json) io.out(JSON.stringify(manifest, null, 2));
      else for (const line of describeDataset(manifest)) io.out(line);
      return 0;
    }
    if (action === 'rename') {
      const name = rest.slice(1).join(' ').trim();
      if (!name) throw new UsageError('datasets rename needs the new name: isoflop datasets rename <id> <new name>');
      const manifest = await api.call('datasets.rename', { id, name }, { name: 'the new name' });
      io.out(`Renamed ${id} to "${manifest.name}".`);
      return 0;
    }
    if (!values.yes) throw new UsageError(`deleting ${id} cannot be undone: add --yes to confirm`);
    await api.call('datasets.delete', { id });
    io.out(`Deleted ${id}.`);
    return 0;
  },
};
