import type { DatasetManifest } from '../../src-shared/contract';
import { client } from './app.svelte';

/**
 * The table datasets a form can train on, and which to select: the one asked for if it is a table,
 * else the first. Studies and cross-validation train networks on tables only.
 */
export async function tableDatasets(preferred: string): Promise<{ datasets: DatasetManifest[]; selected: string }> {
  const { datasets } = await client.call('datasets.list', {});
  const tables = datasets.filter((d) => d.kind === 'table');
  const selected = tables.some((d) => d.id === preferred) ? preferred : (tables[0]?.id ?? preferred);
  return { datasets: tables, selected };
}
