import * as tf from '@tensorflow/tfjs-core';
// tfjs-core ships its gradients separately; the engine trains, so it needs them all.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export type { Rank, Tensor, Variable } from '@tensorflow/tfjs-core';
export { tf };
