import type { tf } from './tf';
import { kernelsWasmBase64 } from './wasm-fused/kernels.wasm';

/**
 * The fused kernels on WASM (when they run: `fused-kernels.ts`): one pass over memory each, four lanes at
 * a time, where tfjs's composites take one kernel call and one pass per op (GELU 6 forward and 11
 * backward, layer norm 8 and 15, the causal softmax 3 and 5, AdamW about 13 a parameter). The module is
 * AssemblyScript (`wasm-fused/kernels.as.ts`, compiled by `node scripts/wasm-kernels.mjs` into
 * `wasm-fused/kernels.wasm.ts`); it imports tfjs-backend-wasm's memory, so it reads the inputs where the
 * backend keeps them and writes into outputs the backend allocated: no copies. The kernels' names, inputs
 * and outputs are those of the WGSL kernels (`webgpu-fused-kernels.ts`); each is tested equal to its
 * composite (models/fused.test.ts, adamw.test.ts).
 */

type TensorInfo = tf.TensorInfo;
type Args = Parameters<tf.KernelFunc>[0];

interface WasmBackend {
  wasm: { asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** The module's exports: pointers are byte offsets into the backend's heap, lengths count floats. */
interface Kernels {
  gelu(x: number, y: number, n: number): void;
  geluGrad(x: number, dy: number, dx: number, n: number): void;
  layerNorm(x: number, gain: number, bias: number, y: number, stats: number, rows: number, width: number): void;
  layerNormGrad(
    x: number,
    stats: number,
    gain: number,
    dy: number,
    dx: number,
    params: number,
    rows: number,
    width: number,
  ): void;
  causalSoftmax(scores: number, y: number, rows: number, width: number, scale: number): void;
  softmaxGrad(y: number, dy: number, dx: number, rows: number, width: number, scale: number): void;
  adamWMoment(moment: number, g: number, weights: number, out: number, n: number, decay: number, power: number): void;
  adamWStep(w: number, m: number, v: number, out: number, n: number, keep: number, stepSize: number, eps: number): void;
}

/** The few WebAssembly and base64 globals used here, which every place the engine runs has (src-shared has no DOM or Node types). */
interface Platform {
  WebAssembly: {
    Memory: new (...args: never[]) => { buffer: ArrayBuffer };
    compile(bytes: Uint8Array): Promise<object>;
    instantiate(module: object, imports: object): Promise<{ exports: object }>;
  };
  atob(data: string): string;
  SharedArrayBuffer?: new (...args: never[]) => object;
}
const platform = globalThis as unknown as Platform;

let compiled: Promise<object> | null = null;
/** The module instantiated on each backend's heap (a backend that is re-created gets its own). */
const instances = new WeakMap<object, Kernels>();

function moduleBytes(): Uint8Array {
  const text = platform.atob(kernelsWasmBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Instantiates the kernels on `backend`'s heap, once per backend. Leaves them off (the composites run, and
 * WASM trains as before) wherever they cannot run:
 * - tfjs's threaded build creates its memory in JavaScript and exports none (and that memory is shared,
 *   which this module does not declare);
 * - a WebAssembly without SIMD (tfjs then runs its plain build) cannot compile the module.
 * Never throws: the kernels are a speed-up, and WASM must start without them.
 */
export async function startWasmFusedKernels(backend: unknown): Promise<void> {
  const wasm = backend as WasmBackend;
  if (instances.has(wasm)) return;
  const memory = wasm.wasm?.asm?.memory;
  if (!(memory instanceof platform.WebAssembly.Memory)) return;
  if (platform.SharedArrayBuffer && memory.buffer instanceof platform.SharedArrayBuffer) return;
  try {
    compiled ??= platform.WebAssembly.compile(moduleBytes());
    const instance = await platform.WebAssembly.instantiate(await compiled, { env: { memory } });
    instances.set(wasm, instance.exports as unknown as Kernels);
  } catch {
    compiled = null;
  }
}

/** Whether the kernels run on `backend`. */
export function wasmFusedReady(backend: unknown): boolean {
  return instances.has(backend as object);
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The kernels, the backend's heap offsets of tensors, and new outputs on it. */
function on(args: Args) {
  const backend = args.backend as unknown as WasmBackend;
  const kernels = instances.get(backend);
  if (!kernels) throw new Error('The fused WASM kernels have not started on this backend.');
  const offset = (info: TensorInfo) => (backend.dataIdMap.get(info.dataId)?.memoryOffset as number) >>> 0;
  const output = (shape: number[]) => {
    const info = backend.makeOutput(shape, 'float32');
    return { info, at: offset(info) };
  };
  const inputs = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as Record<string, number>;
  return { kernels, offset, output, inputs, attrs };
}

/** Rows of the last axis: [rows, width]. */
function rowsOf(t: TensorInfo): [number, number] {
  const width = t.shape.at(-1) as number;
  return [width === 0 ? 0 : product(t.shape) / width, width];
}

/** Each kernel's name (as tf.registerKernel takes it) and how it runs on tfjs-backend-wasm. */
export const wasmFusedKernelTable: Array<{ name: string; run(args: Args): TensorInfo | TensorInfo[] }> = [
  {
    name: 'IsoflopGelu',
    run: (args) => {
      const { kernels, offset, output, inputs } = on(args);
      const x = inputs.x as TensorInfo;
      const y = output(x.shape);
      kernels.gelu(offset(x), y.at, product(x.shape));
      return y.info;
    },
  },
  {
    name: 'IsoflopGeluGrad',
    run: (args) => {
      const { kernels, offset, output, inputs } = on(args);
      const x = inputs.x as TensorInfo;
      const dx = output(x.shape);
      kernels.geluGrad(offset(x), offset(inputs.dy as TensorInfo), dx.at, product(x.shape));
      return dx.info;
    },
  },
  {
    name: 'IsoflopLayerNorm',
    run: (args) => {
      const { kernels, offset, output, inputs } = on(args);
      const x = inputs.x as TensorInfo;
      const [rows, width] = rowsOf(x);
      const y = output(x.shape);
      const stats = output([rows, 2]);
      kernels.layerNorm(
        offset(x),
        offset(inputs.gain as TensorInfo),
        offset(inputs.bias as TensorInfo),
        y.at,
        stats.at,
        rows,
        width,
      );
      return [y.info, stats.info];
    },
  },
  {
    name: 'IsoflopLayerNormGrad',
    run: (args) => {
      const { kernels, offset, output, inputs } = on(args);
      const x = inputs.x as TensorInfo;
      const [rows, width] = rowsOf(x);
      const dx = output(x.shape);
      const params = output([2, width]);
      kernels.layerNormGrad(
        offset(x),
        offset(inputs.stats as TensorInfo),
        offset(inputs.gain as TensorInfo),
        offset(inputs.dy as TensorInfo),
        dx.at,
        params.at,
        rows,
        width,
      );
      return [dx.info, params.info];
    },
  },
  {
    name: 'IsoflopCausalSoftmax',
    run: (args) => {
      const { kernels, offset, output, inputs, attrs } = on(args);
      const scores = inputs.scores as TensorInfo;
      const [rows, width] = rowsOf(scores);
      const y = output(scores.shape);
      kernels.causalSoftmax(offset(scores), y.at, rows, width, attrs.scale as number);
      return y.info;
    },
  },
  {
    name: 'IsoflopSoftmaxGrad',
    run: (args) => {
      const { kernels, offset, output, inputs, attrs } = on(args);
      const y = inputs.y as TensorInfo;
      const [rows, width] = rowsOf(y);
      const dx = output(y.shape);
      kernels.softmaxGrad(offset(y), offset(inputs.dy as TensorInfo), dx.at, rows, width, attrs.scale as number);
      return dx.info;
    },
  },
  {
    // m' = m·β1 + g·w[0] (power 1), v' = v·β2 + g²·w[1] (power 2); w holds the clipped (1 − β) weights.
    name: 'IsoflopAdamWMoment',
    run: (args) => {
      const { kernels, offset, output, inputs, attrs } = on(args);
      const moment = inputs.moment as TensorInfo;
      const power = attrs.power as 1 | 2;
      const out = output(moment.shape);
      kernels.adamWMoment(
        offset(moment),
        offset(inputs.g as TensorInfo),
        offset(inputs.weight as TensorInfo),
        out.at,
        product(moment.shape),
        attrs.decay as number,
        power,
      );
      return out.info;
    },
  },
  {
    name: 'IsoflopAdamWStep',
    run: (args) => {
      const { kernels, offset, output, inputs, attrs } = on(args);
      const w = inputs.w as TensorInfo;
      const out = output(w.shape);
      kernels.adamWStep(
        offset(w),
        offset(inputs.m as TensorInfo),
        offset(inputs.v as TensorInfo),
        out.at,
        product(w.shape),
        attrs.keep as number,
        attrs.stepSize as number,
        attrs.epsilonHat as number,
      );
      return out.info;
    },
  },
];
