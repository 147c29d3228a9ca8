import * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from './types.ts';
import type { KeyHistory } from './attention-plan.ts';

/** Keys (after RoPE) and values per layer, [B, kvHeads, past, headDim], plus the mask history. */
export class DecoderCache implements KVCache {
  keys: (tf.Tensor4D | null)[];
  values: (tf.Tensor4D | null)[];
  history: KeyHistory | null = null;
  private disposed = false;

  constructor(readonly owner: object, numLayers: number) {
    this.keys = new Array(numLayers).fill(null);
    this.values = new Array(numLayers).fill(null);
  }

  get length(): number {
    return this.history?.mask[0]?.length ?? 0;
  }

  assertUsable(owner: object): void {
    if (this.owner !== owner) throw new Error('KV cache belongs to a different model');
    if (this.disposed) throw new Error('KV cache was disposed');
  }

  /** Replace the cached tensors with the extended ones once a forward step has succeeded. */
  commit(keys: tf.Tensor4D[], values: tf.Tensor4D[], history: KeyHistory): void {
    for (let i = 0; i < keys.length; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = tf.keep(keys[i]);
      this.values[i] = tf.keep(values[i]);
    }
    this.history = history;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.history = null;
    this.disposed = true;
  }
}
