import type * as tf from '@tensorflow/tfjs-core';

/** Architecture-independent view of a decoder's config.json. */
export interface DecoderConfig {
  /** HF `model_type` (llama, qwen2, mistral, gpt2, ...). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (GQA); equals numHeads for plain multi-head attention. */
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  normEps: number;
  /** RoPE base; ignored by architectures with learned positions. */
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  /** config.json exactly as read; saving writes it back with only changed fields updated. */
  raw: Record<string, unknown>;
}

export interface ForwardOptions {
  /** [B, T] with 1 for real tokens and 0 for padding; left or right padding both work. */
  attentionMask?: tf.Tensor2D;
  /** Also return per-layer attention probabilities [B, heads, Tq, Tk]. */
  outputAttentions?: boolean;
  /** Incremental decoding state; when given, only the new positions are computed and the cache is extended. */
  cache?: KVCache;
}

/** Output of the decoder stack before the LM head. */
export interface HiddenResult {
  /** [B, T, D] after the final norm: logits = hidden · lmHeadWeightᵀ. */
  hidden: tf.Tensor3D;
  /** One [B, heads, Tq, Tk] tensor per layer when outputAttentions was set. */
  attentions?: tf.Tensor4D[];
}

export interface ForwardResult {
  /** [B, T, vocab] */
  logits: tf.Tensor3D;
  /** One [B, heads, Tq, Tk] tensor per layer when outputAttentions was set. */
  attentions?: tf.Tensor4D[];
}

/** Per-layer keys and values kept between decoding steps (owned tensors; dispose() frees them). */
export interface KVCache {
  /** Number of positions already in the cache. */
  readonly length: number;
  /**
   * A new cache whose row k holds the first `lengths[k]` cached positions of row `rows[k]` (within
   * that row's real tokens; 0 for none, not all 0), so texts sharing a start with a cached one are
   * computed from where they differ. This cache is left unchanged.
   */
  prefixes(rows: number[], lengths: number[]): KVCache;
  dispose(): void;
}

/** A causal decoder LM whose weights are tfjs Variables named and shaped as in the HF checkpoint. */
export interface CausalLM {
  readonly config: DecoderConfig;
  /** Where it was loaded from (or a label for in-memory models). */
  readonly source: string;
  /** Token embeddings [B, T, D] for ids [B, T] (HF `inputs_embeds`: no position embeddings added). */
  embed(inputIds: tf.Tensor2D): tf.Tensor3D;
  /** Forward from input embeddings, the path gradients to embeddings are taken on. */
  forwardEmbeds(inputsEmbeds: tf.Tensor3D, options?: ForwardOptions): ForwardResult;
  forward(inputIds: tf.Tensor2D, options?: ForwardOptions): ForwardResult;
  /** forwardEmbeds without the LM head, for losses that need logits of a few rows or a few tokens only. */
  forwardHidden(inputsEmbeds: tf.Tensor3D, options?: ForwardOptions): HiddenResult;
  /** The LM head's weight [vocab, D] (the token embedding when tied); the head has no bias. Throws when the head is held in 16 bits: use headLogits/headRows. */
  readonly lmHeadWeight: tf.Variable;
  /** hidden [N, D] → logits [N, vocab] through the LM head, whatever dtype it is held in. */
  headLogits(hidden: tf.Tensor2D): tf.Tensor2D;
  /** The LM head's rows for token ids [N] as float32 [N, D]. */
  headRows(ids: tf.Tensor1D): tf.Tensor2D;
  /** Recompute each layer's forward in the backward pass instead of keeping its activations (frozen models only). */
  recomputeLayers: boolean;
  /** The dtype the large matrices are held in: F32 (float32 variables), or BF16/F16 as stored. */
  readonly heldDtype: 'F32' | 'BF16' | 'F16';
  createCache(): KVCache;
  /** Weights by HF tensor name, in HF orientation. */
  readonly weights: ReadonlyMap<string, tf.Variable>;
  dispose(): void;
}
