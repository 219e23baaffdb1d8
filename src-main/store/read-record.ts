import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { IsoflopError } from '../../src-shared/contract';

/**
 * Reads one record file of the data folder the same way for every kind (run, dataset, sweep, study):
 * missing is NOT_FOUND, unreadable or off-schema is DAMAGED. Messages name the file relative to the
 * data folder ("runs/run-1/run.json"), never by absolute path: they travel over HTTP.
 */
export async function readRecord<Schema extends z.ZodType>(
  file: string,
  shown: string,
  schema: Schema,
  missing: string,
): Promise<z.output<Schema>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new IsoflopError('NOT_FOUND', missing);
    // Permissions or the disk: the store's state, not the record's.
    throw new IsoflopError(
      'STORE_UNAVAILABLE',
      `${shown} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the data folder's permissions and disk.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IsoflopError(
      'DAMAGED',
      `${shown} is damaged: it is not valid JSON. Restore it from a backup or delete it.`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IsoflopError(
      'DAMAGED',
      `${shown} is damaged (${issue?.path.join('.') || 'record'}: ${issue?.message}). Restore it from a backup or delete it.`,
    );
  }
  return parsed.data;
}
