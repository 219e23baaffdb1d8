import { createHash } from 'node:crypto';
import seeds from '../../../../assets/demo-datasets.json';
import type { TableManifest } from '../../../../src-shared/contract';
import { SplitAssigner, type SplitName, tableSplitDefaults } from '../../../../src-shared/data/splits';
import { Random } from '../../../../src-shared/random';
import { type OpenForWrite, SplitFiles } from '../import/split-files';

/**
 * A fixed random teacher network maps Gaussian inputs to targets, plus Gaussian noise of known
 * variance: the lowest test MSE any student can reach is exactly noiseStd².
 *
 * How hard the teacher is decides what a sweep shows. DESIGN.md's measurements: a 2-layer width-64
 * tanh teacher at the default init is too easy (every student within 5% of the floor, no valley), and
 * 3 layers of 128 at 3x the init with σ = 0.1 gives valleys but needs 1e9–1e11 FLOPs before the loss
 * comes near its floor of 0.01 (a sweep at 1e7–3e8 fitted E = 0.23). Between them (assets/demo-datasets.json):
 * 12 inputs, 2 tanh layers of 64 at 2.5x the init, σ = 0.3: output variance 0.53 against a floor of 0.09;
 * at 3e8 FLOPs students span 0.14 to 0.19 with the best in the middle, and a sweep at 1e7–3e8 FLOPs
 * (a minute and a half on a CPU) fits E = 0.102, 13% above the floor (sweep-demo.test.ts).
 */

const spec = seeds['demo-teacher'];
// Rounded so that 0.1² reads 0.01, not 0.010000000000000002.
const noiseVariance = Number((spec.noiseStd ** 2).toPrecision(12));
export const demoTeacherId = 'demo-teacher';

interface Layer {
  weights: Float64Array; // out x in, row-major
  bias: Float64Array;
  inputs: number;
  outputs: number;
}

function teacherLayers(random: Random): Layer[] {
  const sizes = [spec.inputs, ...spec.hidden, 1];
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l] as number;
    const outputs = sizes[l + 1] as number;
    // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here scaled up.
    const bound = spec.initScale / Math.sqrt(inputs);
    const weights = new Float64Array(inputs * outputs).map(() => random.uniform(-bound, bound));
    const bias = new Float64Array(outputs).map(() => random.uniform(-bound, bound));
    layers.push({ weights, bias, inputs, outputs });
  }
  return layers;
}

function teach(layers: Layer[], x: Float64Array, scratch: Float64Array[]): number {
  let activations = x;
  for (const [index, layer] of layers.entries()) {
    const out = scratch[index] as Float64Array;
    const { weights, inputs, outputs } = layer;
    const hidden = index < layers.length - 1;
    for (let o = 0; o < outputs; o++) {
      // Four accumulators: about twice as fast in V8 as one (this loop is the whole generation cost).
      const row = o * inputs;
      let s0 = layer.bias[o] as number;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < inputs; i += 4) {
        s0 += (weights[row + i] as number) * (activations[i] as number);
        s1 += (weights[row + i + 1] as number) * (activations[i + 1] as number);
        s2 += (weights[row + i + 2] as number) * (activations[i + 2] as number);
        s3 += (weights[row + i + 3] as number) * (activations[i + 3] as number);
      }
      for (; i < inputs; i++) s0 += (weights[row + i] as number) * (activations[i] as number);
      const sum = s0 + s1 + s2 + s3;
      out[o] = hidden ? Math.tanh(sum) : sum;
    }
    activations = out;
  }
  return activations[0] as number;
}

export async function generateDemoTeacher(
  dir: string,
  opener: OpenForWrite | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<TableManifest> {
  const random = new Random(spec.seed);
  const layers = teacherLayers(random);
  const files = new SplitFiles(dir, 'the teacher demo', opener);
  const assigner = new SplitAssigner(tableSplitDefaults, spec.seed);
  const rows: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  const width = spec.inputs + 1;
  const row = new Float32Array(width);
  const x = new Float64Array(spec.inputs);
  const scratch = layers.map((layer) => new Float64Array(layer.outputs));
  const hash = createHash('sha256');
  const preview: string[][] = [];
  let sum = 0;
  let sumSq = 0;
  await files.open();
  try {
    for (let r = 0; r < spec.rows; r++) {
      for (let i = 0; i < spec.inputs; i++) x[i] = random.normal();
      const clean = teach(layers, x, scratch);
      const y = clean + spec.noiseStd * random.normal();
      sum += clean;
      sumSq += clean * clean;
      row.set(x);
      row[spec.inputs] = y;
      const bytes = new Uint8Array(row.buffer.slice(0));
      hash.update(bytes);
      const split = assigner.next();
      rows[split]++;
      await files.write(split, bytes);
      if (preview.length < 10) preview.push(Array.from(row, (v) => v.toFixed(4)));
      if (r % 20_000 === 0) onProgress(r, spec.rows);
    }
    await files.close();
  } catch (error) {
    await files.abandon();
    throw error;
  }
  const mean = sum / spec.rows;
  const signalVariance = sumSq / spec.rows - mean * mean;
  const header = [...Array.from({ length: spec.inputs }, (_, i) => `x${i + 1}`), 'y'];
  return {
    formatVersion: 1,
    id: demoTeacherId,
    name: spec.name,
    createdAt: new Date().toISOString(),
    builtIn: true,
    description:
      `A fixed random teacher network (${spec.inputs} inputs, ${spec.hidden.length} tanh layers of ${spec.hidden[0]}) ` +
      `maps Gaussian inputs to a target, plus Gaussian noise of σ = ${spec.noiseStd}. No model can beat a test MSE of ` +
      `${noiseVariance}; the teacher's own output has variance ${signalVariance.toFixed(2)}.`,
    source: {
      name: `generated from seed ${spec.seed}`,
      bytes: spec.rows * width * 4,
      sha256: hash.digest('hex'),
      files: 1,
    },
    seed: spec.seed,
    splitFractions: tableSplitDefaults,
    kind: 'table',
    task: 'regression',
    taskInferred: 'regression',
    target: { name: 'y', classes: null, mean, std: Math.sqrt(signalVariance + noiseVariance) },
    features: spec.inputs,
    columns: header
      .slice(0, -1)
      .map((name) => ({ name, type: 'numeric', missing: 0, mean: 0, std: 1, categories: null })),
    skippedColumns: [],
    splits: {
      train: { file: 'train.bin', rows: rows.train },
      val: { file: 'val.bin', rows: rows.val },
      test: { file: 'test.bin', rows: rows.test },
    },
    stats: { rows: spec.rows, columns: width, missingCells: 0, classBalance: null },
    preview: { header, rows: preview },
    irreducibleLoss: noiseVariance,
  };
}
