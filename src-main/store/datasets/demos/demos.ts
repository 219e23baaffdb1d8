import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetManifest } from '../../../../src-shared/contract';
import { textSplitDefaults } from '../../../../src-shared/data/splits';
import { writeFileAtomic } from '../../atomic';
import { importText } from '../import/text-import';
import type { DatasetStore } from '../store';
import { demoLanguageId, demoLanguageSpec, generateLanguage } from './demo-language';
import { demoTeacherId, generateDemoTeacher } from './demo-teacher';

/**
 * The built-in demo datasets, generated from their seeds the first time a data folder is opened, so a
 * new user sees data rather than an empty screen. A marker remembers which were made, so a demo the
 * user deletes stays deleted.
 */

export const demoIds = [demoTeacherId, demoLanguageId] as const;
const markerFile = '.demos.json';

async function madeBefore(store: DatasetStore): Promise<Set<string>> {
  try {
    return new Set(JSON.parse(await readFile(join(store.root, markerFile), 'utf8')) as string[]);
  } catch {
    return new Set();
  }
}

async function buildLanguage(dir: string): Promise<DatasetManifest> {
  const sourcePath = join(dir, 'source.txt');
  const handle = await open(sourcePath, 'w');
  const generator = generateLanguage();
  let step = generator.next();
  let bytes = 0;
  while (!step.done) {
    const piece = Buffer.from(step.value);
    bytes += piece.length;
    await handle.write(piece);
    step = generator.next();
  }
  await handle.close();
  const entropy = step.value;
  const text = await importText({
    files: [{ path: sourcePath, size: bytes, displayName: 'the generated corpus' }],
    format: 'txt',
    tokenizer: 'byte',
    vocabSize: 256,
    seed: demoLanguageSpec.seed,
    fractions: textSplitDefaults,
    dir,
    label: 'the language demo',
    onProgress: () => undefined,
  });
  await rm(sourcePath);
  return {
    formatVersion: 1,
    id: demoLanguageId,
    name: demoLanguageSpec.name,
    createdAt: new Date().toISOString(),
    builtIn: true,
    description:
      `${(bytes / 1e6).toFixed(1)} MB of a made-up language from a seeded probabilistic grammar: a Zipf-distributed ` +
      'lexicon, subject–verb agreement across phrases and relative clauses, and paragraphs that return to their ' +
      'topic nouns. Its generating process spends ' +
      `${entropy.toFixed(3)} bits per byte: no model can do better than that on average.`,
    ...text,
    kind: 'text',
    source: { ...text.source, name: `generated from seed ${demoLanguageSpec.seed}` },
    entropyBitsPerByte: entropy,
  };
}

/** Generates whichever demo datasets this data folder has never had. Returns the ids it made. */
export async function ensureDemos(store: DatasetStore): Promise<string[]> {
  const made = await madeBefore(store);
  const created: string[] = [];
  for (const id of demoIds) {
    if (made.has(id) || (await store.exists(id))) {
      made.add(id);
      continue;
    }
    await makeDemo(store, id);
    made.add(id);
    created.push(id);
  }
  await writeFileAtomic(join(store.root, markerFile), JSON.stringify([...made]));
  return created;
}

/** The built-in demos this data folder lacks now (the user deleted them): what "Restore the demos" brings back. */
export async function missingDemos(store: DatasetStore): Promise<string[]> {
  const missing: string[] = [];
  for (const id of demoIds) if (!(await store.exists(id))) missing.push(id);
  return missing;
}

/** Makes the missing built-in demos again, deleted ones included, from their seeds. Returns the ids it made. */
export async function restoreDemos(store: DatasetStore): Promise<string[]> {
  const missing = await missingDemos(store);
  for (const id of missing) await makeDemo(store, id);
  const made = await madeBefore(store);
  await writeFileAtomic(join(store.root, markerFile), JSON.stringify([...new Set([...made, ...demoIds])]));
  return missing;
}

async function makeDemo(store: DatasetStore, id: string): Promise<void> {
  // Another process (the app and a CLI on one data folder) may make it at once: theirs is the same demo.
  await store.create(
    id,
    (dir) => (id === demoTeacherId ? generateDemoTeacher(dir, undefined, () => undefined) : buildLanguage(dir)),
    { ifAbsent: true },
  );
}
