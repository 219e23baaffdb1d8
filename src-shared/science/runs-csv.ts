import { IsoflopError } from '../contract/errors';
import { parseCsvText } from '../data/csv';
import type { RunObservation } from './analysis';

/**
 * Runs trained elsewhere, as a CSV with a header: `params` (N), `loss`, and `tokens` (D) or `flops`
 * (C, then D = C / 6N), in any order; optionally `params_non_embedding` (Kaplan's N); other columns are
 * ignored. A flops column is kept as the runs' compute (approach 2 groups by it). Also reads Epoch AI's
 * extraction of the Chinchilla runs (`Model Size`, `Training FLOP`, `loss`).
 */
export function parseRunsCsv(text: string, file: string): RunObservation[] {
  const records: Array<{ fields: string[]; line: number }> = [];
  parseCsvText(text, file, (fields, line) => {
    records.push({ fields, line });
    return true;
  });
  const [header, ...rows] = records;
  const invalid = (message: string) => new IsoflopError('INVALID_INPUT', message);
  if (!header) throw invalid(`${file} is empty: it needs a header row with params, loss and tokens or flops`);
  const names = header.fields.map((field) => field.trim().toLowerCase());
  const column = (...aliases: string[]) => names.findIndex((name) => aliases.includes(name));
  const params = column('params', 'n', 'model size', 'parameters');
  const loss = column('loss');
  const tokens = column('tokens', 'd');
  const flops = column('flops', 'c', 'training flop', 'compute');
  const nonEmbedding = column('params_non_embedding', 'non-embedding params', 'non_embedding_params', 'nonembedding');
  const missing = [
    params < 0 ? 'params' : '',
    loss < 0 ? 'loss' : '',
    tokens < 0 && flops < 0 ? 'tokens or flops' : '',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw invalid(`${file} has no ${missing.join(', no ')} column (its header is: ${header.fields.join(', ')})`);
  }
  const value = (record: { fields: string[]; line: number }, index: number, name: string) => {
    const cell = record.fields[index]?.trim() ?? '';
    const number = Number(cell);
    if (cell === '' || !Number.isFinite(number) || number <= 0) {
      throw invalid(`line ${record.line} of ${file}, column "${name}": "${cell}" is not a positive number`);
    }
    return number;
  };
  const runs = rows.map((record) => {
    const n = value(record, params, 'params');
    const c = flops >= 0 ? value(record, flops, 'flops') : undefined;
    const d = tokens >= 0 ? value(record, tokens, 'tokens') : (c as number) / (6 * n);
    return {
      n,
      d,
      loss: value(record, loss, 'loss'),
      ...(c !== undefined ? { flops: c } : {}),
      ...(nonEmbedding >= 0 ? { nNonEmbedding: value(record, nonEmbedding, 'params_non_embedding') } : {}),
    };
  });
  if (runs.length < 5)
    throw invalid(`${file} has ${runs.length} run${runs.length === 1 ? '' : 's'}; a fit needs at least 5`);
  return runs;
}
