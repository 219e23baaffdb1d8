import { tf } from './tf';

/** The two engine methods through which tensor buffers come and go (tfjs-core 4.x). */
interface EngineBuffers {
  trackTensor(tensor: { dataId: object }, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
}

/**
 * Peak bytes of the buffers tensors hold while `work` runs, each buffer counted once. tf.profile's
 * peakBytes counts a buffer once per tensor that views it (every reshape and identity of a gradient
 * tape), which read 1.9 GB for gpt-small; this watches the engine add and drop buffers instead. It reads
 * nothing from the device, so it runs on WebGPU too, where a tf.profile'd step broke the device (Chromium
 * 156, tfjs-backend-webgpu 4.22 in a worker: "A valid external Instance reference no longer exists").
 * Between steps every live tensor (weights, moments, constants) has its own buffer, so the bytes alive
 * when `work` starts are `tf.memory().numBytes`.
 */
export async function peakBufferBytes(work: () => unknown): Promise<number> {
  const engine = tf.engine() as unknown as EngineBuffers;
  const info = engine.state.tensorInfo;
  const { trackTensor, removeDataId } = engine;
  let live = tf.memory().numBytes;
  let peak = live;
  engine.trackTensor = function (tensor, backend) {
    const fresh = !info.has(tensor.dataId);
    trackTensor.call(this, tensor, backend);
    if (fresh) {
      live += info.get(tensor.dataId)?.bytes ?? 0;
      if (live > peak) peak = live;
    }
  };
  engine.removeDataId = function (dataId, backend) {
    const entry = info.get(dataId);
    removeDataId.call(this, dataId, backend);
    if (entry && !info.has(dataId)) live -= entry.bytes;
  };
  try {
    await work();
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
  return peak;
}
