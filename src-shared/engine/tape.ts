import { tf } from './tf';

type Tensor = tf.Tensor;

/**
 * A backward pass that frees as it goes. tfjs-core 4.22 keeps every tensor of a backward pass until it
 * ends: each op's saved tensors (copies of its inputs or outputs that its gradient needs) and the
 * gradient of every intermediate tensor, although an op's saved tensors serve its own gradient only and
 * an intermediate's gradient is read once, by the op that produced the intermediate. PyTorch frees both
 * as soon as the op's gradient has run; this does the same, by wrapping each node that tfjs records on
 * its tape (`addTapeNode`): once the gradients of all the node's inputs have been computed, the node's
 * saved tensors and the gradients of its outputs are disposed, except any tensor the gradient function
 * handed back (a gradient may be its dy unchanged) and a dy passed in by the caller.
 *
 * Some gradients read nothing of a saved input but its shape (`shapeOnlyGradients`): tfjs saves a bias
 * add's or a residual add's inputs for the shapes that undo a broadcast, and so keeps every block's
 * pre-bias activations alive until the backward pass reaches them. Those kernels save a stand-in that
 * carries the shape alone. (A gradient that read a stand-in's values would fail, not compute wrongly.)
 *
 * The values are the same (the same kernels run on the same tensors); only when buffers are freed
 * changes. `withStockTape` runs a function on tfjs's own tape, for the benchmark's naive loop.
 */

interface TapeNode {
  inputs: Record<string, Tensor>;
  saved: Tensor[];
  gradient?: (dys: Array<Tensor | null>) => Record<string, () => Tensor>;
}

/**
 * Kernels whose gradient (tfjs-core 4.22's gradients/*_grad.js) reads only the shape, rank and size of
 * the inputs it saves.
 */
const shapeOnlyGradients = new Set(['Add', 'Sub', 'Reshape', 'Sum', 'Mean', 'Slice', 'Concat', 'OneHot', 'PadV2']);

/** What a shape-only gradient gets in place of a saved tensor. */
class ShapeOnly {
  readonly rank: number;
  readonly size: number;
  constructor(
    readonly shape: number[],
    readonly dtype: tf.DataType,
  ) {
    this.rank = shape.length;
    this.size = shape.reduce((a, b) => a * b, 1);
  }
  dispose(): void {}
}

interface TapeEngine {
  addTapeNode(...args: unknown[]): void;
  getTensorsForGradient(kernelName: string, inputs: unknown, outputs: unknown): Tensor[];
  saveTensorsForBackwardMode(tensors: Tensor[]): Tensor[];
  gradients(f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean): unknown;
  state: { activeTape: TapeNode[] | null };
}

let installed = false;
let freeing = true;

/** Installs the freeing tape (once per tfjs engine; later calls do nothing). */
export function installFreeingTape(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as TapeEngine;
  const { addTapeNode, gradients, getTensorsForGradient, saveTensorsForBackwardMode } = engine;
  engine.getTensorsForGradient = function (this: TapeEngine, kernelName, inputs, outputs) {
    const tensors = getTensorsForGradient.call(this, kernelName, inputs, outputs);
    if (!freeing || !shapeOnlyGradients.has(kernelName)) return tensors;
    return tensors.map((tensor) => new ShapeOnly(tensor.shape, tensor.dtype) as unknown as Tensor);
  };
  engine.saveTensorsForBackwardMode = function (this: TapeEngine, tensors) {
    const standIns = tensors.filter((tensor) => (tensor as unknown) instanceof ShapeOnly);
    if (standIns.length === 0) return saveTensorsForBackwardMode.call(this, tensors);
    return tensors.map((tensor) =>
      (tensor as unknown) instanceof ShapeOnly
        ? tensor
        : (saveTensorsForBackwardMode.call(this, [tensor])[0] as Tensor),
    );
  };
  // A dy handed to tf.grads belongs to its caller (a recomputed block passes the outer pass's dy in).
  const callerDys = new Set<Tensor>();
  engine.gradients = function (this: TapeEngine, f, xs, dy, allowNoGradients) {
    if (dy) callerDys.add(dy);
    try {
      return gradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      if (dy) callerDys.delete(dy);
    }
  };
  engine.addTapeNode = function (this: TapeEngine, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    if (!freeing || !node?.gradient) return;
    const gradient = node.gradient;
    const engineState = this.state as TapeEngine['state'] & { gradientDepth: number };
    // Called by tfjs on a copy of the node whose inputs are only those on a path from the variables.
    node.gradient = function (this: TapeNode, dys) {
      // Inside another gradient (a gradient of a gradient), the outer tape records this backward pass and
      // will read its tensors again: nothing is freed early there.
      if (engineState.gradientDepth > 0) return gradient.call(this, dys);
      const saved = new Set(node.saved);
      // All the node's input gradients at once, in one scope: what a gradient function computes before
      // it returns its thunks (a customGrad's whole backward, Sum's ones) is freed here too, not when
      // the backward pass ends.
      let present: string[] = [];
      const grads = tf.tidy(() => {
        const thunks = gradient.call(this, dys);
        // A missing gradient is left out, for tfjs's own error to name it.
        present = Object.keys(this.inputs).filter((name) => name in thunks);
        const computed = present.map((name) => (thunks[name] as () => Tensor)());
        // A saved tensor handed back (Gather's indices) is freed below with the others: its copy goes on. So
        // does a second of one tensor handed back for two inputs, which would be freed as one input's
        // gradient and read as the other's.
        return computed.map((grad, i) => (saved.has(grad) || computed.indexOf(grad) < i ? grad.clone() : grad));
      });
      const handedBack = new Set(grads);
      for (const tensor of node.saved) tensor.dispose();
      node.saved = [];
      for (const dy of dys) if (dy && !handedBack.has(dy) && !callerDys.has(dy)) dy.dispose();
      return Object.fromEntries(present.map((name, i) => [name, () => grads[i] as Tensor]));
    };
  };
}

/** Runs `work` with tfjs's own tape, which frees nothing until a backward pass ends. */
export async function withStockTape<T>(work: () => T | Promise<T>): Promise<T> {
  const before = freeing;
  freeing = false;
  try {
    return await work();
  } finally {
    freeing = before;
  }
}
