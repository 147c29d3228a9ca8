import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, ForwardOptions, HiddenResult, KVCache } from '../../lib/models/types.ts';

type PrefixCount = (embeds: tf.Tensor3D) => HiddenResult;

/**
 * A KV cache for hand-built test LMs whose hidden state counts features over the prefix: it keeps
 * the embeddings seen so far and replays them. A zero embedding counts nothing, so positions a row
 * does not hold are zeros, and rows of different lengths share one tensor.
 */
class ReplayCache implements KVCache {
  constructor(
    public embeds: tf.Tensor3D | null = null,
    public lengths: number[] = [],
  ) {}

  get length(): number {
    return this.embeds?.shape[1] ?? 0;
  }

  prefixes(rows: number[], lengths: number[]): KVCache {
    const width = Math.max(...lengths);
    const embeds = tf.tidy(() => {
      const kept = tf.tensor3d(lengths.map((length) => Array.from({ length: width }, (_, t) => [t < length ? 1 : 0])));
      return tf.mul(tf.slice(tf.gather(this.embeds!, tf.tensor1d(rows, 'int32')), [0, 0, 0], [-1, width, -1]), kept) as tf.Tensor3D;
    });
    return new ReplayCache(embeds, lengths);
  }

  commit(embeds: tf.Tensor3D): void {
    this.embeds?.dispose();
    this.embeds = tf.keep(embeds);
  }

  dispose(): void {
    this.embeds?.dispose();
    this.embeds = null;
  }
}

/** `forwardHidden` for such an LM, computing only the new positions' states when given a cache. */
export function withReplayCache(count: PrefixCount): Pick<CausalLM, 'forwardHidden' | 'createCache'> {
  return {
    forwardHidden: (embeds: tf.Tensor3D, options: ForwardOptions = {}) => {
      const cache = options.cache as ReplayCache | undefined;
      if (!cache) return count(embeds);
      const all = cache.embeds ? (tf.concat([cache.embeds, embeds], 1) as tf.Tensor3D) : embeds;
      const { hidden } = count(all);
      // A copy: the embeddings may be the caller's (a gradient pass's input), disposed after it.
      cache.commit(tf.clone(all));
      return { hidden: tf.slice(hidden, [0, all.shape[1] - embeds.shape[1], 0], [-1, -1, -1]) as tf.Tensor3D };
    },
    createCache: () => new ReplayCache(),
  };
}
