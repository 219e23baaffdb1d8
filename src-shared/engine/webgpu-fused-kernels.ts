import type { tf } from './tf';

/**
 * The fused WGSL kernels for WebGPU (when they run: `fused-kernels.ts`). Each op the model's hot path composes from several tfjs kernels is one or
 * two shader dispatches here. On a GPU a small model's step is bound by dispatches, not arithmetic: the
 * composites cost GELU 6 dispatches forward and 11 backward, layer norm 8 and 15, the causal softmax 3
 * and 5, and AdamW about 13 a parameter; here they cost 1 and 1, 2 and 2, 1 and 1, and 3.
 *
 * | kernel                     | inputs                  | output                                       |
 * | -------------------------- | ----------------------- | -------------------------------------------- |
 * | `IsoflopGelu`              | x                       | GELU(x), the tanh form as x·σ(2u)            |
 * | `IsoflopGeluGrad`          | x, dy                   | dy · GELU′(x)                                |
 * | `IsoflopLayerNorm`         | x, gain, bias           | [y, stats]: stats = [mean, 1/σ] a row        |
 * | `IsoflopLayerNormGrad`     | x, stats, gain, dy      | [dx, [dGain; dBias]]                         |
 * | `IsoflopCausalSoftmax`     | scores; attr scale      | softmax(scores · scale), row t sees 0..t     |
 * | `IsoflopSoftmaxGrad`       | y, dy; attr scale       | scale · y ⊙ (dy − Σ dy ⊙ y)                  |
 * | `IsoflopAdamWMoment`       | moment, g, weight       | moment · decay + g^power · weight[index]     |
 * | `IsoflopAdamWStep`         | w, m, v; attrs          | w · keep − stepSize · m / (√v + ε̂)          |
 *
 * Row kernels give each row a workgroup of 64 threads that reduce in workgroup memory, as tfjs's own
 * Softmax does. Each is tested equal to its composite on SwiftShader (models/fused.test.ts, adamw.test.ts).
 */

type TensorInfo = tf.TensorInfo;

interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}

export interface WebGpuBackend {
  runWebGPUProgram(
    program: Program,
    inputs: TensorInfo[],
    dtype: 'float32',
    uniforms?: Array<{ type: 'float32' | 'int32'; data: number[] }>,
  ): TensorInfo;
  disposeData(dataId: object): void;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const f32 = (value: number) => ({ type: 'float32' as const, data: [value] });
const i32 = (value: number) => ({ type: 'int32' as const, data: [value] });

const geluScale = Math.sqrt(2 / Math.PI);
const geluCubic = 0.044715;
const layerNormEpsilon = 1e-5;

/** One thread an element of `shape`; `body` reads inputs by flat `index` and calls setOutputAtIndex. */
function elementwise(shaderKey: string, variableNames: string[], shape: number[], body: string, uniforms?: string) {
  const program: Program = {
    variableNames,
    outputShape: shape,
    shaderKey,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(product(shape) / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    size: true,
    getUserCode: () => `fn main(index : i32) {
      if (index < uniforms.size) {
        ${body}
      }
    }`,
  };
  if (uniforms) program.uniforms = uniforms;
  return program;
}

/** Sums a value over the row's 64 threads (in uniform control flow: every thread of the workgroup calls it). */
const rowSum = `
  var<workgroup> partial : array<f32, 64>;
  fn rowSum(value : f32, tid : i32) -> f32 {
    partial[tid] = value;
    workgroupBarrier();
    for (var half = 32; half > 0; half = half >> 1) {
      if (tid < half) {
        partial[tid] = partial[tid] + partial[tid + half];
      }
      workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
  }
  fn rowMax(value : f32, tid : i32) -> f32 {
    partial[tid] = value;
    workgroupBarrier();
    for (var half = 32; half > 0; half = half >> 1) {
      if (tid < half) {
        partial[tid] = max(partial[tid], partial[tid + half]);
      }
      workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
  }`;

/** A workgroup of 64 threads a row of `width` values; `body` sees `row`, `tid`, `rows`, `width`. */
function rowwise(shaderKey: string, variableNames: string[], outputShape: number[], rows: number, body: string) {
  const program: Program = {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: 'rows : i32, width : i32, scale : f32,',
    getUserCode: () => `${rowSum}
    fn main(index : i32) {
      let row = index / 64;
      let tid = i32(localId.x);
      let rows = uniforms.rows;
      let width = uniforms.width;
      let live = row < rows;
      let base = row * width;
      ${body}
    }`,
  };
  return program;
}

const gateOf = (v: string) =>
  `1.0 / (1.0 + exp(-${(2 * geluScale).toFixed(9)} * (${v} + ${geluCubic} * ${v} * ${v} * ${v})))`;

type Args = Parameters<tf.KernelFunc>[0];
export type Inputs = Record<string, TensorInfo>;

/** Each kernel's name (as tf.registerKernel takes it) and how it runs on tfjs's WebGPU backend. */
export const fusedKernelTable: Array<{
  name: string;
  run(args: Args, backend: WebGpuBackend, inputs: Inputs): TensorInfo | TensorInfo[];
}> = [
  {
    name: 'IsoflopGelu',
    run: (_, backend, { x }) => {
      const t = x as TensorInfo;
      const body = `let v = x[index];
          let s = ${gateOf('v')};
          setOutputAtIndex(index, v * s);`;
      return backend.runWebGPUProgram(elementwise('isoflopGelu', ['x'], t.shape, body), [t], 'float32');
    },
  },
  {
    name: 'IsoflopGeluGrad',
    run: (_, backend, { x, dy }) => {
      const t = x as TensorInfo;
      const body = `let v = x[index];
          let s = ${gateOf('v')};
          let slope = ${(2 * geluScale).toFixed(9)} * ((1.0 + ${3 * geluCubic} * (v * v)) * v);
          setOutputAtIndex(index, dy[index] * ((1.0 - s) * s * slope + s));`;
      return backend.runWebGPUProgram(
        elementwise('isoflopGeluGrad', ['x', 'dy'], t.shape, body),
        [t, dy as TensorInfo],
        'float32',
      );
    },
  },
  {
    name: 'IsoflopLayerNorm',
    run: (_, backend, { x, gain, bias }) => {
      const t = x as TensorInfo;
      const width = t.shape.at(-1) as number;
      const rows = product(t.shape) / width;
      const statsBody = `
          var s = 0.0;
          if (live) { for (var c = tid; c < width; c = c + 64) { s = s + x[base + c]; } }
          let mean = rowSum(s, tid) / f32(width);
          var q = 0.0;
          if (live) { for (var c = tid; c < width; c = c + 64) { let d = x[base + c] - mean; q = q + d * d; } }
          let variance = rowSum(q, tid) / f32(width);
          if (live && tid == 0) {
            setOutputAtIndex(row * 2, mean);
            setOutputAtIndex(row * 2 + 1, inverseSqrt(variance + ${layerNormEpsilon}));
          }`;
      const stats = backend.runWebGPUProgram(
        rowwise('isoflopLayerNormStats', ['x'], [rows, 2], rows, statsBody),
        [t],
        'float32',
        [i32(rows), i32(width), f32(1)],
      );
      const applyBody = `let row = index / uniforms.width;
          let c = index - row * uniforms.width;
          let normalized = (x[index] - stats[row * 2]) * stats[row * 2 + 1];
          setOutputAtIndex(index, normalized * gain[c] + bias[c]);`;
      const y = backend.runWebGPUProgram(
        elementwise('isoflopLayerNormApply', ['x', 'stats', 'gain', 'bias'], t.shape, applyBody, 'width : i32,'),
        [t, stats, gain as TensorInfo, bias as TensorInfo],
        'float32',
        [i32(width)],
      );
      return [y, stats];
    },
  },
  {
    name: 'IsoflopLayerNormGrad',
    run: (_, backend, { x, stats, gain, dy }) => {
      const t = x as TensorInfo;
      const width = t.shape.at(-1) as number;
      const rows = product(t.shape) / width;
      // dx = (1/σ) · (d − mean(d) − x̂ · mean(d · x̂)), d = dy · gain
      const dxBody = `
          var mean = 0.0;
          var inverse = 0.0;
          if (live) { mean = stats[row * 2]; inverse = stats[row * 2 + 1]; }
          var a = 0.0;
          var b = 0.0;
          if (live) {
            for (var c = tid; c < width; c = c + 64) {
              let d = dy[base + c] * gain[c];
              a = a + d;
              b = b + d * ((x[base + c] - mean) * inverse);
            }
          }
          let meanD = rowSum(a, tid) / f32(width);
          let meanDX = rowSum(b, tid) / f32(width);
          if (live) {
            for (var c = tid; c < width; c = c + 64) {
              let d = dy[base + c] * gain[c];
              let xhat = (x[base + c] - mean) * inverse;
              setOutputAtIndex(base + c, inverse * ((d - meanD) - xhat * meanDX));
            }
          }`;
      const dx = backend.runWebGPUProgram(
        rowwise('isoflopLayerNormGrad', ['x', 'stats', 'gain', 'dy'], t.shape, rows, dxBody),
        [t, stats as TensorInfo, gain as TensorInfo, dy as TensorInfo],
        'float32',
        [i32(rows), i32(width), f32(1)],
      );
      // [dGain; dBias]: a thread a column, down the rows.
      const paramBody = `let which = index / uniforms.width;
          let c = index - which * uniforms.width;
          var total = 0.0;
          for (var r = 0; r < uniforms.rows; r = r + 1) {
            let i = r * uniforms.width + c;
            if (which == 0) {
              total = total + dy[i] * ((x[i] - stats[r * 2]) * stats[r * 2 + 1]);
            } else {
              total = total + dy[i];
            }
          }
          setOutputAtIndex(index, total);`;
      const params = backend.runWebGPUProgram(
        elementwise(
          'isoflopLayerNormParamGrad',
          ['x', 'stats', 'dy'],
          [2, width],
          paramBody,
          'rows : i32, width : i32,',
        ),
        [t, stats as TensorInfo, dy as TensorInfo],
        'float32',
        [i32(rows), i32(width)],
      );
      return [dx, params];
    },
  },
  {
    name: 'IsoflopCausalSoftmax',
    run: (args, backend, { scores }) => {
      const t = scores as TensorInfo;
      const width = t.shape.at(-1) as number;
      const rows = product(t.shape) / width;
      // Row r is query position r mod width, which sees keys 0..that position; the rest get 0.
      const body = `
          let last = row % width;
          var most = -3.402823e+38;
          if (live) { for (var c = tid; c <= last; c = c + 64) { most = max(most, scores[base + c] * uniforms.scale); } }
          let top = rowMax(most, tid);
          var s = 0.0;
          if (live) { for (var c = tid; c <= last; c = c + 64) { s = s + exp(scores[base + c] * uniforms.scale - top); } }
          let total = rowSum(s, tid);
          if (live) {
            for (var c = tid; c < width; c = c + 64) {
              var value = 0.0;
              if (c <= last) { value = exp(scores[base + c] * uniforms.scale - top) / total; }
              setOutputAtIndex(base + c, value);
            }
          }`;
      return backend.runWebGPUProgram(
        rowwise('isoflopCausalSoftmax', ['scores'], t.shape, rows, body),
        [t],
        'float32',
        [i32(rows), i32(width), f32((args.attrs as { scale: number }).scale)],
      );
    },
  },
  {
    name: 'IsoflopSoftmaxGrad',
    run: (args, backend, { y, dy }) => {
      const t = y as TensorInfo;
      const width = t.shape.at(-1) as number;
      const rows = product(t.shape) / width;
      const body = `
          var s = 0.0;
          if (live) { for (var c = tid; c < width; c = c + 64) { s = s + dy[base + c] * y[base + c]; } }
          let total = rowSum(s, tid);
          if (live) {
            for (var c = tid; c < width; c = c + 64) {
              setOutputAtIndex(base + c, (y[base + c] * (dy[base + c] - total)) * uniforms.scale);
            }
          }`;
      return backend.runWebGPUProgram(
        rowwise('isoflopSoftmaxGrad', ['y', 'dy'], t.shape, rows, body),
        [t, dy as TensorInfo],
        'float32',
        [i32(rows), i32(width), f32((args.attrs as { scale: number }).scale)],
      );
    },
  },
  {
    // m' = m·β1 + g·w[0] (power 1), v' = v·β2 + g²·w[1] (power 2); w holds the clipped (1 − β) weights.
    name: 'IsoflopAdamWMoment',
    run: (args, backend, { moment, g, weight }) => {
      const t = moment as TensorInfo;
      const { decay, power } = args.attrs as { decay: number; power: 1 | 2 };
      const term = power === 1 ? 'g[index] * weight[0]' : '(g[index] * g[index]) * weight[1]';
      const body = `setOutputAtIndex(index, moment[index] * uniforms.decay + ${term});`;
      return backend.runWebGPUProgram(
        elementwise(`isoflopAdamWMoment${power}`, ['moment', 'g', 'weight'], t.shape, body, 'decay : f32,'),
        [t, g as TensorInfo, weight as TensorInfo],
        'float32',
        [f32(decay)],
      );
    },
  },
  {
    name: 'IsoflopAdamWStep',
    run: (args, backend, { w, m, v }) => {
      const t = w as TensorInfo;
      const { keep, stepSize, epsilonHat } = args.attrs as { keep: number; stepSize: number; epsilonHat: number };
      const body = `let change = (m[index] / (sqrt(v[index]) + uniforms.epsilonHat)) * uniforms.stepSize;
          setOutputAtIndex(index, w[index] * uniforms.keep - change);`;
      return backend.runWebGPUProgram(
        elementwise(
          'isoflopAdamWStep',
          ['w', 'm', 'v'],
          t.shape,
          body,
          'keep : f32, stepSize : f32, epsilonHat : f32,',
        ),
        [t, m as TensorInfo, v as TensorInfo],
        'float32',
        [f32(keep), f32(stepSize), f32(epsilonHat)],
      );
    },
  },
];
