import { tf } from './tf';

/**
 * Kernel swaps: the engine's own implementations of tfjs kernels, registered in place of the stock ones
 * for one backend. Each is built from the backend's stock kernels, calling them where they are fast,
 * and computes what the kernel it replaces computes: results agree with stock tfjs to float rounding.
 * Swaps are installed once the backend runs (see `selectBackend`); the benchmark's naive loop runs
 * `withStockKernels`, as a tfjs user's loop would.
 *
 * - **WASM BatchMatMul.** tfjs-backend-wasm sends a matmul to XNNPACK only when neither operand is
 *   transposed and there is one batch; every other case takes a scalar loop. Each linear layer's
 *   backward pass is two matmuls with a transposed operand (dx = dy Wᵀ, dW = xᵀ dy), and attention's
 *   matmuls are batches of matrices: at batch 8 in Node they were 3.3 s of gpt-small's 4.1 s step.
 *   The swap transposes operands first (a fast copy) and calls XNNPACK per batch (see `wasmMatMul`).
 * - **WASM Tanh** through XNNPACK's sigmoid (below).
 * - **WASM Sum** over leading axes without tfjs's transpose (below).
 * - **WASM Identity** shares its input's buffer instead of copying it (below).
 * - **WebGPU AddN** over at most 7 inputs at a time (below).
 */

type KernelFunc = tf.KernelFunc;
type KernelArgs = Parameters<KernelFunc>[0];
type TensorInfo = tf.TensorInfo;

interface Swap {
  kernelName: string;
  backendName: string;
  /** the replacement, given the stock kernel and the backend's other kernels */
  make(stock: KernelFunc): KernelFunc;
}

function kernelFunc(kernelName: string, backendName: string): KernelFunc {
  const config = tf.getKernel(kernelName, backendName);
  if (!config) throw new Error(`tfjs has no ${kernelName} kernel for ${backendName}`);
  return config.kernelFunc;
}

interface WasmBackend {
  disposeData(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** a view of the tensor's bytes in the WASM heap; stale once the heap grows (after any makeOutput) */
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * BatchMatMul on WASM, sent to XNNPACK whenever it can be: a transposed operand is transposed first; a
 * batch against one matrix is one tall matrix against it; a batch against a batch (attention) is one
 * XNNPACK call per batch, on copies of the batch's matrices.
 */
const wasmMatMul: Swap = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  make(stock) {
    const transpose = kernelFunc('Transpose', 'wasm');
    const reshape = kernelFunc('Reshape', 'wasm');
    return (args: KernelArgs) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const backend = args.backend as unknown as WasmBackend;
      const batchA = product(a.shape.slice(0, -2));
      const batchB = product(b.shape.slice(0, -2));
      const temporaries: TensorInfo[] = [];
      const temporary = (info: TensorInfo) => {
        temporaries.push(info);
        return info;
      };
      const run = (name: KernelFunc, inputs: Record<string, TensorInfo>, attrs: tf.NamedAttrMap) =>
        temporary(name({ inputs, backend: args.backend, attrs }) as TensorInfo);
      /** x as [batches, rows, columns], its last two axes swapped when `flip` */
      const asBatches = (x: TensorInfo, batches: number, flip: boolean): TensorInfo => {
        const rows = x.shape[x.shape.length - 2] as number;
        const columns = x.shape[x.shape.length - 1] as number;
        const x3 = run(reshape, { x }, { shape: [batches, rows, columns] });
        return flip ? run(transpose, { x: x3 }, { perm: [0, 2, 1] }) : x3;
      };
      /** the plain (untransposed, one batch) matmul, which XNNPACK computes */
      const plain = (left: TensorInfo, right: TensorInfo) =>
        stock({
          inputs: { a: left, b: right },
          backend: args.backend,
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        }) as TensorInfo;
      if (batchA === 1 && batchB === 1 && !transposeA && !transposeB) return stock(args);
      if (batchA === 1 && batchB === 1 && transposeA && !transposeB) {
        // C = Aᵀ B with A [m, k] larger than B [m, n] (a weight's gradient, xᵀ dy, where x is the wider):
        // Cᵀ = Bᵀ A transposes B and the small result instead of A.
        const [m, k] = a.shape.slice(-2) as [number, number];
        const n = b.shape[b.shape.length - 1] as number;
        if (m * n + n * k < m * k) {
          try {
            const left = asBatches(b, 1, true);
            const right = asBatches(a, 1, false);
            const flipped = temporary(plain(left, right));
            const result = transpose({ inputs: { x: flipped }, backend: args.backend, attrs: { perm: [0, 2, 1] } });
            const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
            (result as TensorInfo).shape = [...outer, k, n];
            return result;
          } finally {
            for (const info of temporaries) backend.disposeData(info.dataId);
          }
        }
      }
      // Broadcast batches (both above one, different) stay with the stock kernel.
      if (batchB !== 1 && (batchA !== batchB || a.shape.slice(0, -2).join() !== b.shape.slice(0, -2).join())) {
        return stock(args);
      }
      try {
        const left = asBatches(a, batchA, transposeA);
        const right = asBatches(b, batchB, transposeB);
        const [, m, k] = left.shape as [number, number, number];
        const n = right.shape[2] as number;
        const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
        const outShape = [...outer, m, n];
        if (batchB === 1) {
          // One matrix, or a batch of matrices times one matrix: one tall matrix times it.
          const tall = batchA === 1 ? left : run(reshape, { x: left }, { shape: [1, batchA * m, k] });
          const result = plain(tall, right);
          result.shape = outShape;
          return result;
        }
        const out = backend.makeOutput([batchA, m, n], 'float32');
        const leftPart = temporary(backend.makeOutput([1, m, k], 'float32'));
        for (let i = 0; i < batchA; i++) {
          // The right matrix is new memory each time: XNNPACK keeps it packed, cached by its id until it
          // is freed, so refilling one buffer would multiply by the first batch's matrix again. Views
          // are fetched afresh after each allocation, which may grow the heap and detach older ones.
          const rightPart = backend.makeOutput([1, k, n], 'float32');
          backend
            .typedArrayFromHeap(rightPart)
            .set(backend.typedArrayFromHeap(right).subarray(i * k * n, (i + 1) * k * n));
          backend
            .typedArrayFromHeap(leftPart)
            .set(backend.typedArrayFromHeap(left).subarray(i * m * k, (i + 1) * m * k));
          const part = plain(leftPart, rightPart);
          backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(part), i * m * n);
          backend.disposeData(part.dataId);
          backend.disposeData(rightPart.dataId);
        }
        out.shape = outShape;
        return out;
      } finally {
        for (const info of temporaries) backend.disposeData(info.dataId);
      }
    };
  },
};

/** A float32 scalar on the WASM heap, for the element-wise kernels to broadcast. */
function wasmScalar(backend: WasmBackend, value: number): TensorInfo {
  const info = backend.makeOutput([], 'float32');
  backend.typedArrayFromHeap(info)[0] = value;
  return info;
}

/**
 * Tanh on WASM as 2σ(2x) − 1, all four steps tfjs-wasm kernels: its Tanh is a scalar loop, its Sigmoid
 * and binary ops are XNNPACK's (10x faster here than the Tanh kernel, 5x faster than
 * the same arithmetic as JavaScript loops over the heap). The absolute error stays within float32's
 * spacing at 1 (1.2e-7): near 0 the result loses the relative precision a direct tanh keeps, which
 * neither an activation nor GELU notices.
 */
const wasmTanh: Swap = {
  kernelName: 'Tanh',
  backendName: 'wasm',
  make() {
    const sigmoid = kernelFunc('Sigmoid', 'wasm');
    const multiply = kernelFunc('Multiply', 'wasm');
    const subtract = kernelFunc('Sub', 'wasm');
    return (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      const backend = args.backend as unknown as WasmBackend;
      const call = (kernel: KernelFunc, inputs: Record<string, TensorInfo>) =>
        kernel({ inputs, backend: args.backend, attrs: {} }) as TensorInfo;
      const temporaries: TensorInfo[] = [];
      try {
        const two = wasmScalar(backend, 2);
        temporaries.push(two);
        const one = wasmScalar(backend, 1);
        temporaries.push(one);
        const doubled = call(multiply, { a: x, b: two });
        temporaries.push(doubled);
        const squashed = call(sigmoid, { x: doubled });
        temporaries.push(squashed);
        const stretched = call(multiply, { a: squashed, b: two });
        temporaries.push(stretched);
        return call(subtract, { a: stretched, b: one });
      } finally {
        for (const info of temporaries) backend.disposeData(info.dataId);
      }
    };
  },
};

/**
 * Sum over leading axes on WASM (a bias's gradient: dy summed over the batch's rows) as one pass down the
 * rows, accumulating in float64. tfjs-wasm reduces the innermost axes only, so it first transposes the
 * whole tensor with a general loop: 17 ms for 4096 x 512 here, against 4.6 ms for the pass. Other
 * reductions (trailing axes, all of them, integers) stay with the stock kernel.
 */
const wasmSum: Swap = {
  kernelName: 'Sum',
  backendName: 'wasm',
  make(stock) {
    return (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
      const leading = axes.length < x.shape.length && axes.every((value, i) => value === i);
      if (x.dtype !== 'float32' || !leading) return stock(args);
      const backend = args.backend as unknown as WasmBackend;
      const rows = product(x.shape.slice(0, axes.length));
      const columns = product(x.shape.slice(axes.length));
      const outShape = keepDims ? x.shape.map((size, i) => (i < axes.length ? 1 : size)) : x.shape.slice(axes.length);
      const out = backend.makeOutput(outShape, 'float32');
      const input = backend.typedArrayFromHeap(x);
      const sums = new Float64Array(columns);
      for (let row = 0; row < rows; row++) {
        const offset = row * columns;
        for (let column = 0; column < columns; column++)
          sums[column] = (sums[column] as number) + (input[offset + column] as number);
      }
      backend.typedArrayFromHeap(out).set(sums);
      return out;
    };
  },
};

/**
 * Identity on WASM shares its input's buffer (one more reference) rather than copying it, as the CPU and
 * WebGL backends' do. tfjs-core runs Identity for every tensor a gradient saves for the backward pass
 * (`saveTensorsForBackwardMode` clones it): on WASM each saved activation was a second copy, 358 copies a
 * gpt-small step (6% of its time) and most of its peak memory. Tensors never change in place, so the
 * clone and the original may share the bytes; the buffer goes when the last of them is disposed.
 */
const wasmIdentity: Swap = {
  kernelName: 'Identity',
  backendName: 'wasm',
  make(stock) {
    return (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return stock(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    };
  },
};

/**
 * AddN on WebGPU over at most 7 inputs at a time. tfjs-backend-webgpu binds each input as a storage buffer,
 * and a device offers 8 to a shader stage by default: past 7 inputs the pipeline was invalid (Dawn, tfjs
 * 4.22) and the sum garbage, which zeroed gpt-small's weights through AdamW's clipping norm (20 terms).
 */
const webgpuAddN: Swap = {
  kernelName: 'AddN',
  backendName: 'webgpu',
  make(stock) {
    return (args: KernelArgs) => {
      const backend = args.backend as unknown as { disposeData(dataId: object): void };
      const partials: TensorInfo[] = [];
      let level = args.inputs as unknown as TensorInfo[];
      try {
        while (level.length > 7) {
          const next: TensorInfo[] = [];
          for (let i = 0; i < level.length; i += 7) {
            const group = level.slice(i, i + 7);
            if (group.length === 1) next.push(group[0] as TensorInfo);
            else {
              const partial = stock({ ...args, inputs: group as never }) as TensorInfo;
              partials.push(partial);
              next.push(partial);
            }
          }
          level = next;
        }
        return stock({ ...args, inputs: level as never });
      } finally {
        for (const partial of partials) backend.disposeData(partial.dataId);
      }
    };
  },
};

const swaps: Swap[] = [wasmMatMul, wasmTanh, wasmSum, wasmIdentity, webgpuAddN];

/** The stock kernels that swaps replaced, by "kernel/backend". */
const replaced = new Map<string, tf.KernelConfig>();
const key = (swap: Swap) => `${swap.kernelName}/${swap.backendName}`;

function register(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/** Installs the swaps for `backend`, once. */
export function installKernelSwaps(backend: string): void {
  for (const swap of swaps) {
    if (swap.backendName !== backend || replaced.has(key(swap))) continue;
    const stock = tf.getKernel(swap.kernelName, swap.backendName);
    if (!stock) continue;
    replaced.set(key(swap), stock);
    // No setupFunc: the stock kernel's ran when the backend started, and the swap calls that kernel.
    register({ kernelName: swap.kernelName, backendName: swap.backendName, kernelFunc: swap.make(stock.kernelFunc) });
  }
}

/** The kernels the engine swapped on `backend`, as "BatchMatMul (wasm)". */
export function kernelSwaps(backend: string): string[] {
  return swaps
    .filter((swap) => swap.backendName === backend && replaced.has(key(swap)))
    .map((swap) => `${swap.kernelName} (${swap.backendName})`);
}

/** Runs `work` on stock tfjs kernels, the swaps put back afterwards (also when it throws). */
export async function withStockKernels<T>(work: () => T | Promise<T>): Promise<T> {
  const swapped = [...replaced.values()].map((stock) => ({
    stock,
    swap: tf.getKernel(stock.kernelName, stock.backendName) as tf.KernelConfig,
  }));
  for (const { stock } of swapped) register(stock);
  try {
    return await work();
  } finally {
    for (const { swap } of swapped) register(swap);
  }
}
