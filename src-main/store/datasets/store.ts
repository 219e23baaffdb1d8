import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import {
  DatasetId,
  DatasetManifest,
  type DatasetManifest as DatasetManifestType,
  type ImportRequest,
  IsoflopError,
} from '../../../src-shared/contract';
import { type SplitName, tableSplitDefaults, textSplitDefaults } from '../../../src-shared/data/splits';
import { syncDir, writeFileAtomic } from '../atomic';
import { requireRegularFile } from '../file-kind';
import { storeFault } from '../fs-errors';
import { readRecord } from '../read-record';
import { demoIds } from './demos/demos';
import type { OpenForWrite } from './import/split-files';
import { importTable } from './import/table-import';
import { importText } from './import/text-import';
import type { SourceFile, TextFormat } from './import/text-source';

/**
 * The datasets in `<data>/datasets/<id>/`: the only code that writes them. An import builds a hidden
 * `.import-*` folder and renames it into place at the end, so a failed import leaves nothing behind.
 */

export const manifestFile = 'dataset.json';
const defaultSeed = 1234;
const defaultBpeVocab = 2048;
const textExtension = /\.(txt|md|text)$/i;

export type ImportProgress = (phase: string, done: number, total: number) => void;

export interface ResolvedImport extends ImportRequest {
  /** The file or folder on disk (an upload's temp file in web mode). */
  path: string;
  /** What the user calls it: the chosen file's name. */
  displayName: string;
}

function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'dataset';
}

/** An fs error in words without its absolute path (messages travel over HTTP). */
function describeFsError(error: unknown): string {
  return (
    storeFault(error) ??
    (error as NodeJS.ErrnoException | null)?.code ??
    (error instanceof Error ? error.message : String(error))
  );
}

export class DatasetStore {
  readonly root: string;

  /** `opener`: how imports open files (tests inject failures); `readerThreads`: threads a CSV is read
   * on (default: one per core). */
  constructor(
    dataDir: string,
    private readonly opener?: OpenForWrite,
    private readonly readerThreads?: number,
  ) {
    this.root = join(dataDir, 'datasets');
  }

  folderOf(id: string): string {
    const parsed = DatasetId.safeParse(id);
    if (!parsed.success) {
      throw new IsoflopError('BAD_REQUEST', `"${id}" is not a dataset id (${parsed.error.issues[0]?.message}).`);
    }
    return join(this.root, parsed.data);
  }

  /** The path of one split's binary, for the data URL; the id is validated first. */
  binaryPath(id: string, split: SplitName): string {
    return join(this.folderOf(id), `${split}.bin`);
  }

  async list(): Promise<DatasetManifestType[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const manifests: DatasetManifestType[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const manifest = await this.read(entry.name).catch(() => null);
      if (manifest) manifests.push(manifest);
    }
    // The built-in demos first, in their fixed order; then what a demo made (the over-fitting demo's slice);
    // then the user's own, newest first.
    const rank = (m: DatasetManifestType) => {
      const demo = demoIds.indexOf(m.id as (typeof demoIds)[number]);
      return demo >= 0 ? demo : m.builtIn ? demoIds.length : demoIds.length + 1;
    };
    return manifests.sort(
      (a, b) => rank(a) - rank(b) || b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id),
    );
  }

  async get(id: string): Promise<DatasetManifestType> {
    return this.read(id);
  }

  private async read(id: string): Promise<DatasetManifestType> {
    return readRecord(
      join(this.folderOf(id), manifestFile),
      `datasets/${id}/${manifestFile}`,
      DatasetManifest,
      `There is no dataset "${id}".`,
    );
  }

  async rename(id: string, name: string): Promise<DatasetManifestType> {
    const manifest = await this.read(id);
    const renamed = { ...manifest, name: name.trim() };
    await writeFileAtomic(join(this.folderOf(id), manifestFile), JSON.stringify(renamed, null, 2));
    return renamed;
  }

  async delete(id: string): Promise<void> {
    const folder = this.folderOf(id);
    // A damaged dataset can be deleted (its message says to); only a missing one cannot.
    await this.read(id).catch((error: unknown) => {
      if (!(error instanceof IsoflopError && error.code === 'DAMAGED')) throw error;
    });
    // Rename first so the dataset vanishes at once, then remove the files.
    const doomed = join(this.root, `.deleting-${id}-${randomBytes(4).toString('hex')}`);
    await rename(folder, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  async exists(id: string): Promise<boolean> {
    return stat(join(this.folderOf(id), manifestFile)).then(
      () => true,
      () => false,
    );
  }

  /** Finds a free id for a name: its slug, with a short random suffix. */
  private async newId(name: string): Promise<string> {
    for (;;) {
      const id = `${slugify(name)}-${randomBytes(3).toString('hex')}`;
      if (!(await this.exists(id))) return id;
    }
  }

  /**
   * Builds a dataset in a hidden temp folder, runs `fill` to write its files and return its manifest,
   * then renames the folder into place. On any failure the temp folder is removed. `ifAbsent`: another
   * process may make the same dataset at once (the built-in demos); keep theirs instead of a CONFLICT.
   */
  async create(
    id: string,
    fill: (dir: string) => Promise<DatasetManifestType>,
    options: { ifAbsent?: boolean } = {},
  ): Promise<DatasetManifestType> {
    const temp = join(this.root, `.import-${randomBytes(6).toString('hex')}`);
    const target = this.folderOf(id);
    try {
      await mkdir(temp, { recursive: true });
      const manifest = DatasetManifest.parse(await fill(temp));
      await writeFileAtomic(join(temp, manifestFile), JSON.stringify(manifest, null, 2));
      await rename(temp, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOTEMPTY' || error.code === 'EEXIST') {
          throw new IsoflopError('CONFLICT', `A dataset "${id}" already exists.`);
        }
        throw error;
      });
      await syncDir(this.root);
      return manifest;
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      if (options.ifAbsent && error instanceof IsoflopError && error.code === 'CONFLICT') return this.read(id);
      if (error instanceof IsoflopError) throw error;
      throw new IsoflopError(
        'STORE_UNAVAILABLE',
        `Could not save dataset "${id}" into the data folder (${describeFsError(error)}); nothing was kept.`,
      );
    }
  }

  async importFrom(
    request: ResolvedImport,
    onProgress: ImportProgress = () => undefined,
  ): Promise<DatasetManifestType> {
    const source = await this.resolveSource(request);
    const name = request.name ?? basename(request.displayName, extname(request.displayName));
    const id = await this.newId(name);
    const seed = request.seed ?? defaultSeed;
    const createdAt = new Date().toISOString();
    const label = `"${name}"`;
    return this.create(id, async (dir) => {
      const target = { seed, dir, label, onProgress, opener: this.opener };
      const common = {
        formatVersion: 1 as const,
        id,
        name,
        createdAt,
        builtIn: false,
        description: `Imported from ${request.displayName}.`,
      };
      if (source.kind === 'csv') {
        const table = await importTable({
          ...target,
          file: source.files[0] as SourceFile,
          target: request.target,
          task: request.task,
          fractions: tableSplitDefaults,
          lanes: this.readerThreads,
        });
        const named = { ...table.source, name: request.displayName };
        return { ...common, ...table, kind: 'table', source: named, irreducibleLoss: null };
      }
      const text = await importText({
        ...target,
        files: source.files,
        format: source.format,
        tokenizer: request.tokenizer ?? 'byte',
        vocabSize: request.vocabSize ?? defaultBpeVocab,
        fractions: textSplitDefaults,
      });
      const named = { ...text.source, name: request.displayName };
      return { ...common, ...text, kind: 'text', source: named, entropyBitsPerByte: null };
    });
  }

  private async resolveSource(
    request: ResolvedImport,
  ): Promise<{ kind: 'csv' | 'text'; format: TextFormat; files: SourceFile[] }> {
    const info = await stat(request.path).catch(() => null);
    if (!info) {
      // Name what the user gave: their path, or the file they uploaded (never the upload's place in the store).
      throw new IsoflopError(
        'NOT_FOUND',
        'path' in request.source
          ? `There is no file or folder at ${request.source.path}.`
          : `The upload of ${request.displayName} is gone (used already, or never finished): upload the file again.`,
      );
    }
    if (info.isDirectory()) {
      if (request.kind === 'csv') {
        throw new IsoflopError('BAD_REQUEST', `${request.displayName} is a folder; import a CSV file on its own.`);
      }
      const entries = await readdir(request.path, { recursive: true, withFileTypes: true });
      const texts = entries.filter((entry) => !entry.isDirectory() && textExtension.test(entry.name));
      if (texts.length === 0) {
        const others = entries.filter((entry) => !entry.isDirectory()).length;
        throw new IsoflopError(
          'INVALID_INPUT',
          `The folder ${request.displayName} holds no .txt, .md or .text files` +
            (others > 0 ? ` (it holds ${others} file${others === 1 ? '' : 's'} of other kinds).` : ' (it is empty).'),
        );
      }
      const files: SourceFile[] = [];
      for (const entry of texts.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
        const path = join(entry.parentPath, entry.name);
        const shown = join(request.displayName, relative(request.path, path));
        // A link could lead out of the folder the user chose; a pipe or device never ends.
        const own = await lstat(path);
        requireRegularFile(own, shown);
        files.push({ path, size: own.size, displayName: shown });
      }
      return { kind: 'text', format: 'txt', files };
    }
    requireRegularFile(info, request.displayName);
    const extension = extname(request.displayName).toLowerCase();
    const kind = request.kind === 'csv' || (request.kind === undefined && extension === '.csv') ? 'csv' : 'text';
    const format: TextFormat = extension === '.jsonl' ? 'jsonl' : 'txt';
    if (kind === 'text' && request.target !== undefined) {
      throw new IsoflopError('BAD_REQUEST', '--target applies to CSV tables, not to text corpora.');
    }
    return { kind, format, files: [{ path: request.path, size: info.size, displayName: request.displayName }] };
  }
}
