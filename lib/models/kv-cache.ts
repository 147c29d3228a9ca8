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

  prefixes(rows: number[], lengths: number[]): DecoderCache {
    this.assertUsable(this.owner);
    const history = this.history;
    if (!history) throw new Error('KV cache is empty: nothing to take prefixes of');
    if (rows.length === 0 || rows.length !== lengths.length) throw new Error(`prefixes: ${rows.length} rows for ${lengths.length} lengths`);
    rows.forEach((row, k) => {
      const mask = history.mask[row];
      const length = lengths[k];
      if (!mask) throw new Error(`prefixes: the cache has no row ${row}`);
      if (!Number.isInteger(length) || length < 0 || length > mask.length || mask.slice(0, length).some((m) => m !== 1)) {
        throw new Error(`prefixes: row ${row}'s first ${length} positions are not all real cached tokens`);
      }
    });
    const width = Math.max(...lengths);
    if (width === 0) throw new Error('prefixes: every length is 0 (run without a cache instead)');
    const out = new DecoderCache(this.owner, this.keys.length);
    const take = (t: tf.Tensor4D) => tf.tidy(() => tf.slice(tf.gather(t, tf.tensor1d(rows, 'int32')), [0, 0, 0, 0], [-1, -1, width, -1]) as tf.Tensor4D);
    // Past a row's own prefix the gathered keys belong to its source text: masked, never attended.
    out.commit(
      this.keys.map((k) => take(k!)),
      this.values.map((v) => take(v!)),
      {
        mask: lengths.map((length) => Array.from({ length: width }, (_, t) => (t < length ? 1 : 0))),
        positions: rows.map((row) => history.positions[row].slice(0, width)),
      },
    );
    return out;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.history = null;
    this.disposed = true;
  }
}
