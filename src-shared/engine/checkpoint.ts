import type { CheckpointManifest } from '../contract/runs';
import type { MomentValues } from './adamw';
import type { Parameter } from './models/model';
import { tf } from './tf';
import type { Checkpoint } from './trainer-types';

export type { CheckpointManifest };

/**
 * A checkpoint on disk, in the shape of a tfjs model artifact: `model.json` (everything but the numbers,
 * with a weights manifest) and `weights.bin` (every tensor's float32 values, little-endian, in order).
 */

export function encodeCheckpoint(checkpoint: Checkpoint): { manifest: CheckpointManifest; weights: Uint8Array } {
  const total = checkpoint.tensors.reduce((n, t) => n + t.values.length, 0);
  const values = new Float32Array(total);
  let at = 0;
  for (const tensor of checkpoint.tensors) {
    values.set(tensor.values, at);
    at += tensor.values.length;
  }
  const { tensors, ...rest } = checkpoint;
  return {
    manifest: {
      format: 'isoflop-checkpoint',
      version: 1,
      ...rest,
      weightsManifest: [
        {
          paths: ['weights.bin'],
          weights: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' as const })),
        },
      ],
    },
    weights: new Uint8Array(values.buffer),
  };
}

export function decodeCheckpoint(manifest: CheckpointManifest, weights: Uint8Array): Checkpoint {
  if (manifest.format !== 'isoflop-checkpoint' || manifest.version !== 1) {
    throw new Error('this is not an IsoFLOP checkpoint (model.json has another format or version)');
  }
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.byteLength !== expected * 4) {
    throw new Error(`weights.bin holds ${weights.byteLength} bytes; model.json describes ${expected * 4}`);
  }
  const aligned = weights.byteOffset % 4 === 0 ? weights : weights.slice();
  const values = new Float32Array(aligned.buffer, aligned.byteOffset, expected);
  let at = 0;
  const tensors = specs.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const slice = values.slice(at, at + size);
    at += size;
    return { name: spec.name, shape: spec.shape, values: slice };
  });
  const { format: _format, version: _version, weightsManifest: _weights, ...rest } = manifest;
  return { ...rest, tensors };
}

/** The model's parameters and AdamW's moments, as a checkpoint holds them: by the model's own names. */
export async function checkpointTensors(
  parameters: Parameter[],
  moments: MomentValues[],
): Promise<Checkpoint['tensors']> {
  const tensors: Checkpoint['tensors'] = [];
  for (const p of parameters)
    tensors.push({ name: p.name, shape: p.variable.shape, values: (await p.variable.data()) as Float32Array });
  for (const [i, { m, v }] of moments.entries()) {
    const { name, variable } = parameters[i] as Parameter;
    tensors.push({ name: `${name}#m`, shape: variable.shape, values: m });
    tensors.push({ name: `${name}#v`, shape: variable.shape, values: v });
  }
  return tensors;
}

/** Puts a checkpoint's parameters back into the model's variables; returns AdamW's moments, in parameter order. */
export function restoreTensors(checkpoint: Checkpoint, parameters: Parameter[]): MomentValues[] {
  const byName = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const saved = (name: string, size: number) => {
    const tensor = byName.get(name);
    if (!tensor || tensor.values.length !== size) throw new Error(`the checkpoint has no matching "${name}"`);
    return tensor.values;
  };
  return parameters.map((p) => {
    const values = saved(p.name, p.variable.size);
    tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape)));
    return { m: saved(`${p.name}#m`, p.variable.size), v: saved(`${p.name}#v`, p.variable.size) };
  });
}
