// The generic pre-norm decoder every registered architecture runs on (tfjs-core ops only, so it
// works on any backend). Activations of the residual stream stay 2-D [B·T, D]: linear layers are
// 2-D matMuls (the gradient of 3-D × 2-D matMul fails in tfjs), attention reshapes for free.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../runtime/gradients.ts';
import type { CausalLM, DecoderConfig, ForwardOptions, ForwardResult, HiddenResult, KVCache } from './types.ts';
import type { ActivationName, AttentionProjections, DecoderLayout, LayerSpec, LinearSpec, MlpSpec, NormSpec } from './architectures/types.ts';
import { planAttention, type AttentionPlan } from './attention-plan.ts';
import { ropeTables, rotateHalfMatrix } from './rope.ts';
import { DecoderCache } from './kv-cache.ts';
import { maskedSoftmax, rmsNorm, rope, siluGate } from './fused-ops.ts';
import { halfMatMul, halfRows, type HalfDtype, type HalfMatrix } from './half.ts';

// Training and saliency need gradients, which tfjs-core's Node entry does not register; initRuntime
// does it too, this makes the models usable without it.
ensureGradients();

const activations: Record<ActivationName, (x: tf.Tensor) => tf.Tensor> = {
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)(x + 0.044715x³); sigmoid and mul are fast on every backend, tanh/pow are not.
  gelu_new: (x) => {
    const cube = tf.mul(tf.mul(x, x), x);
    return tf.mul(x, tf.sigmoid(tf.mul(tf.add(x, tf.mul(cube, 0.044715)), 2 * Math.sqrt(2 / Math.PI))));
  },
};

/** act(gate)·up written as one op with its own gradient, where one exists. */
const fusedGates: Partial<Record<ActivationName, (gate: tf.Tensor2D, up: tf.Tensor2D) => tf.Tensor2D>> = { silu: siluGate };

interface RopeTable {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/** Per-forward constants shared by all layers. */
interface StepContext {
  batch: number;
  length: number;
  keyLength: number;
  /** [B, 1, T, Tk], broadcast over heads (a repeated copy would cost B·H·T·Tk floats per forward). */
  bias: tf.Tensor4D;
  rope?: { query: RopeTable; key: RopeTable; rotate: tf.Tensor2D };
  cache?: DecoderCache;
  outputAttentions: boolean;
}

export class DecoderModel implements CausalLM {
  constructor(
    readonly config: DecoderConfig,
    readonly source: string,
    readonly weights: ReadonlyMap<string, tf.Variable>,
    readonly layout: DecoderLayout,
    /** Frozen matrices kept in their stored 16-bit dtype; every other weight is a float32 variable. */
    readonly halfWeights: ReadonlyMap<string, HalfMatrix> = new Map(),
  ) {}

  /**
   * Recompute each layer's forward in the backward pass instead of keeping its activations (see
   * recomputedLayer); for frozen models whose backward pass would not fit in memory otherwise.
   */
  recomputeLayers = false;

  get lmHeadWeight(): tf.Variable {
    if (this.halfWeights.has(this.layout.lmHead)) throw new Error(`${this.source}: the LM head is held in ${this.heldDtype}; use headLogits/headRows`);
    return this.w(this.layout.lmHead);
  }

  get heldDtype(): HalfDtype | 'F32' {
    return this.halfWeights.values().next().value?.dtype ?? 'F32';
  }

  headLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    const half = this.halfWeights.get(this.layout.lmHead);
    return half ? halfMatMul(hidden, half, true) : tf.matMul(hidden, this.w(this.layout.lmHead), false, true);
  }

  headRows(ids: tf.Tensor1D): tf.Tensor2D {
    const half = this.halfWeights.get(this.layout.lmHead);
    return half ? halfRows(half, ids.dataSync() as Int32Array) : (tf.gather(this.w(this.layout.lmHead), ids) as tf.Tensor2D);
  }

  embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    const half = this.halfWeights.get(this.layout.embedTokens);
    return tf.tidy(() => {
      const ids = tf.cast(inputIds, 'int32');
      if (!half) return tf.gather(this.w(this.layout.embedTokens), ids) as tf.Tensor3D;
      const [B, T] = inputIds.shape;
      return tf.reshape(halfRows(half, ids.dataSync() as Int32Array), [B, T, this.config.hiddenSize]) as tf.Tensor3D;
    });
  }

  forward(inputIds: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
    const embeds = this.embed(inputIds);
    try {
      return this.forwardEmbeds(embeds, options);
    } finally {
      embeds.dispose();
    }
  }

  forwardEmbeds(inputsEmbeds: tf.Tensor3D, options: ForwardOptions = {}): ForwardResult {
    return tf.tidy(() => {
      const { hidden, attentions } = this.forwardHidden(inputsEmbeds, options);
      const [B, T, D] = hidden.shape;
      const logits = this.headLogits(tf.reshape(hidden, [B * T, D]));
      return { logits: tf.reshape(logits, [B, T, this.config.vocabSize]) as tf.Tensor3D, attentions };
    });
  }

  forwardHidden(inputsEmbeds: tf.Tensor3D, options: ForwardOptions = {}): HiddenResult {
    const [B, T, D] = inputsEmbeds.shape;
    if (D !== this.config.hiddenSize) throw new Error(`inputsEmbeds have width ${D}, the model's hidden size is ${this.config.hiddenSize}`);
    const cache = options.cache as DecoderCache | undefined;
    if (cache !== undefined) {
      if (!(cache instanceof DecoderCache)) throw new Error('options.cache must come from model.createCache()');
      cache.assertUsable(this);
    }
    const mask = options.attentionMask ? (options.attentionMask.arraySync() as number[][]) : null;
    const plan = planAttention(B, T, mask, cache?.history ?? null, this.layout.slidingWindow);
    const maxPosition = plan.positions.reduce((a, b) => Math.max(a, b), 0);
    if (this.layout.embedPositions && maxPosition >= this.config.maxPositions) {
      throw new Error(`position ${maxPosition} exceeds the ${this.config.maxPositions} learned positions of this model`);
    }

    return tf.tidy(() => {
      const ctx = this.stepContext(B, T, plan, cache, options.outputAttentions ?? false);
      let x: tf.Tensor2D = tf.reshape(inputsEmbeds, [B * T, D]);
      if (this.layout.embedPositions) x = tf.add(x, tf.gather(this.w(this.layout.embedPositions), tf.tensor1d(plan.positions, 'int32')));
      const attentions: tf.Tensor4D[] = [];
      const newKeys: tf.Tensor4D[] = [];
      const newValues: tf.Tensor4D[] = [];
      const recompute = this.recomputeLayers && !cache && !ctx.outputAttentions;
      if (recompute && [...this.weights.values()].some((v) => v.trainable)) {
        throw new Error(`${this.source}: recomputeLayers needs a frozen model (recomputed layers give no weight gradients)`);
      }
      this.layout.layers.forEach((layer, i) => {
        // One tidy per layer bounds inference memory to one layer's temporaries; under a gradient
        // tape the engine keeps what backprop needs regardless.
        const out: { x: tf.Tensor2D; attention?: tf.Tensor4D; keys?: tf.Tensor4D; values?: tf.Tensor4D } = recompute
          ? { x: this.recomputedLayer(x, layer, i, ctx) }
          : tf.tidy(() => this.layer(x, layer, i, ctx));
        x = out.x;
        if (out.attention) attentions.push(out.attention);
        if (out.keys && out.values) {
          newKeys.push(out.keys);
          newValues.push(out.values);
        }
      });
      if (cache) cache.commit(newKeys, newValues, plan.next);
      const hidden = tf.reshape(this.norm(x, this.layout.finalNorm), [B, T, D]) as tf.Tensor3D;
      return ctx.outputAttentions ? { hidden, attentions } : { hidden };
    });
  }

  createCache(): KVCache {
    return new DecoderCache(this, this.config.numLayers);
  }

  dispose(): void {
    for (const variable of this.weights.values()) variable.dispose();
    for (const matrix of this.halfWeights.values()) matrix.dispose();
  }

  private w(name: string): tf.Variable {
    const variable = this.weights.get(name);
    if (!variable) throw new Error(`model has no weight "${name}"`);
    return variable;
  }

  private stepContext(batch: number, length: number, plan: AttentionPlan, cache: DecoderCache | undefined, outputAttentions: boolean): StepContext {
    const { numHeads: H, numKvHeads: KVH, headDim: hd } = this.config;
    const bias = tf.tensor4d(plan.bias, [batch, 1, length, plan.keyLength]);
    let rope: StepContext['rope'];
    if (this.layout.rope) {
      const table = (heads: number, scale: number): RopeTable => {
        const { cos, sin } = ropeTables(this.layout.rope!, plan.positions, heads, scale);
        return { cos: tf.tensor2d(cos, [batch * length, heads * hd]), sin: tf.tensor2d(sin, [batch * length, heads * hd]) };
      };
      // The attention's 1/√d rides on the query table, saving a multiply per layer.
      rope = { query: table(H, 1 / Math.sqrt(hd)), key: table(KVH, 1), rotate: tf.tensor2d(rotateHalfMatrix(hd), [hd, hd]) };
    }
    return { batch, length, keyLength: plan.keyLength, bias, rope, cache, outputAttentions };
  }

  /**
   * A layer whose backward pass recomputes its forward from the layer input (gradient
   * checkpointing): the tape keeps one [B·T, D] input per layer instead of every intermediate and
   * its gradient, at the cost of one more forward. Gradients flow to the input only, so this is
   * for frozen models (analyze, teachers).
   */
  private recomputedLayer(x: tf.Tensor2D, layer: LayerSpec, index: number, ctx: StepContext): tf.Tensor2D {
    const { bias, rope } = ctx;
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const input = args[0] as tf.Tensor2D;
      // The step's constants are disposed when the forward's tidy ends: the backward keeps its own.
      save([input, bias, ...(rope ? [rope.query.cos, rope.query.sin, rope.key.cos, rope.key.sin, rope.rotate] : [])]);
      return {
        value: this.layer(input, layer, index, ctx).x,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedInput, savedBias, qc, qs, kc, ks, rotate] = saved;
          const savedCtx: StepContext = {
            ...ctx,
            bias: savedBias as tf.Tensor4D,
            rope: rope ? { query: { cos: qc as tf.Tensor2D, sin: qs as tf.Tensor2D }, key: { cos: kc as tf.Tensor2D, sin: ks as tf.Tensor2D }, rotate: rotate as tf.Tensor2D } : undefined,
          };
          return gradientInsideBackward((z) => this.layer(z as tf.Tensor2D, layer, index, savedCtx).x, savedInput, dy);
        },
      };
    }) as (x: tf.Tensor2D) => tf.Tensor2D;
    return op(x);
  }

  private layer(x: tf.Tensor2D, layer: LayerSpec, index: number, ctx: StepContext) {
    const attended = this.attention(this.norm(x, layer.inputNorm), layer.attention, index, ctx);
    const afterAttention = tf.add(x, this.linear(attended.context, layer.output)) as tf.Tensor2D;
    const out = tf.add(afterAttention, this.mlp(this.norm(afterAttention, layer.postAttentionNorm), layer.mlp)) as tf.Tensor2D;
    // Keys and values leave the layer's tidy only when a cache will keep them.
    return ctx.cache ? { x: out, attention: attended.probs, keys: attended.keys, values: attended.values } : { x: out, attention: attended.probs };
  }

  private attention(h: tf.Tensor2D, projections: AttentionProjections, index: number, ctx: StepContext) {
    const { numHeads: H, numKvHeads: KVH, headDim: hd } = this.config;
    const { batch: B, length: T, keyLength: Tk } = ctx;
    let q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D;
    if (projections.kind === 'fused') {
      [q, k, v] = tf.split(this.linear(h, projections.qkv), [H * hd, KVH * hd, KVH * hd], 1) as tf.Tensor2D[];
    } else {
      q = this.linear(h, projections.q);
      k = this.linear(h, projections.k);
      v = this.linear(h, projections.v);
    }
    if (ctx.rope) {
      q = rope(q, ctx.rope.query.cos, ctx.rope.query.sin, ctx.rope.rotate);
      k = rope(k, ctx.rope.key.cos, ctx.rope.key.sin, ctx.rope.rotate);
    } else {
      q = tf.mul(q, 1 / Math.sqrt(hd));
    }
    const heads = (t: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(t, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const q4 = heads(q, H);
    let k4 = heads(k, KVH);
    let v4 = heads(v, KVH);
    const cachedKeys = ctx.cache?.keys[index];
    const cachedValues = ctx.cache?.values[index];
    if (cachedKeys && cachedValues) {
      k4 = tf.concat([cachedKeys, k4], 2);
      v4 = tf.concat([cachedValues, v4], 2);
    }
    // GQA without repeating keys: the query heads sharing a kv head are contiguous, so
    // [B, H, T, hd] → [B, KVH, rep·T, hd] is a free reshape and one batched matMul serves them all.
    const rep = H / KVH;
    const scores = tf.reshape(tf.matMul(tf.reshape(q4, [B, KVH, rep * T, hd]), k4, false, true), [B, H, T, Tk]);
    const probs = maskedSoftmax(scores as tf.Tensor4D, ctx.bias);
    const context = tf.matMul(tf.reshape(probs, [B, KVH, rep * T, Tk]), v4);
    const merged = tf.reshape(tf.transpose(tf.reshape(context, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
    return { context: merged, probs: ctx.outputAttentions ? probs : undefined, keys: k4, values: v4 };
  }

  private mlp(h: tf.Tensor2D, spec: MlpSpec): tf.Tensor2D {
    const act = activations[spec.activation];
    const gate = (g: tf.Tensor2D, up: tf.Tensor2D) => fusedGates[spec.activation]?.(g, up) ?? tf.mul(act(g), up);
    const inner = spec.kind === 'gated' ? gate(this.linear(h, spec.gate), this.linear(h, spec.up)) : act(this.linear(h, spec.up));
    return this.linear(inner as tf.Tensor2D, spec.down);
  }

  private linear(x: tf.Tensor2D, spec: LinearSpec): tf.Tensor2D {
    const half = this.halfWeights.get(spec.weight);
    const transpose = spec.storage === 'out-in';
    const y = half ? halfMatMul(x, half, transpose) : (tf.matMul(x, this.w(spec.weight), false, transpose) as tf.Tensor2D);
    return spec.bias ? (tf.add(y, this.w(spec.bias)) as tf.Tensor2D) : y;
  }

  private norm(x: tf.Tensor2D, spec: NormSpec): tf.Tensor2D {
    const eps = this.config.normEps;
    if (this.layout.norm === 'rms') return rmsNorm(x, this.w(spec.weight) as tf.Tensor1D, eps);
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.mul(centred, centred), -1, true), eps)) as tf.Tensor2D;
    const scaled = tf.mul<tf.Tensor2D>(tf.mul(centred, inverseStd), this.w(spec.weight));
    return spec.bias ? tf.add<tf.Tensor2D>(scaled, this.w(spec.bias)) : scaled;
  }
}

/**
 * dy·∂f/∂x, taken while the engine runs another backward pass. A first-order tf.grad starts a
 * fresh tape and, when done, frees its saved tensors and clears the engine's tape slot, which the
 * outer backward still needs to free its own: the outer tape is put back afterwards.
 */
function gradientInsideBackward(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const engine = tf.engine() as unknown as { state: { activeTape: unknown } };
  const outer = engine.state.activeTape;
  try {
    return tf.grad(f)(x, dy);
  } finally {
    engine.state.activeTape = outer;
  }
}
