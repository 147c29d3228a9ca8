import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from './types.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Stop a sample at any of these; default the model config's eos ids. */
  eosTokenIds?: number[];
  /** Filler for left padding (never attended to); default 0. */
  padTokenId?: number;
}

/**
 * Greedy decoding of a batch with a KV cache. Prompts are left-padded so every sample's next token
 * sits in the last column. Returns only the new tokens of each sample, ending with the EOS token
 * when one was produced.
 */
export function greedyGenerate(model: CausalLM, prompts: number[][], options: GenerateOptions): number[][] {
  if (prompts.length === 0) return [];
  if (prompts.some((p) => p.length === 0)) throw new Error('greedyGenerate: every prompt needs at least one token');
  const eos = new Set(options.eosTokenIds ?? model.config.eosTokenIds);
  const pad = options.padTokenId ?? 0;
  const width = Math.max(...prompts.map((p) => p.length));
  const ids = prompts.map((p) => [...new Array<number>(width - p.length).fill(pad), ...p]);
  const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const outputs: number[][] = prompts.map(() => []);
  const done = prompts.map(() => false);
  const cache = model.createCache();
  try {
    let step = ids;
    let stepMask = mask;
    for (let n = 0; n < options.maxNewTokens; n++) {
      const next = nextTokens(model, step, stepMask, cache);
      next.forEach((token, b) => {
        if (done[b]) return;
        outputs[b].push(token);
        if (eos.has(token)) done[b] = true;
      });
      if (done.every(Boolean)) break;
      step = next.map((token) => [token]);
      stepMask = next.map(() => [1]);
    }
  } finally {
    cache.dispose();
  }
  return outputs;
}

function nextTokens(model: CausalLM, ids: number[][], mask: number[][], cache: ReturnType<CausalLM['createCache']>): number[] {
  const argmax = tf.tidy(() => {
    const { hidden } = model.forwardHidden(model.embed(tf.tensor2d(ids, undefined, 'int32')), {
      attentionMask: tf.tensor2d(mask, undefined, 'int32'),
      cache,
    });
    const [B, T, D] = hidden.shape;
    // Only the last position's logits matter: skip the vocabulary-wide matMul for the rest of the prompt.
    const last = tf.reshape(tf.slice(hidden, [0, T - 1, 0], [B, 1, D]), [B, D]);
    return tf.argMax(model.headLogits(last as tf.Tensor2D), 1);
  });
  const tokens = Array.from(argmax.dataSync());
  argmax.dispose();
  return tokens;
}
