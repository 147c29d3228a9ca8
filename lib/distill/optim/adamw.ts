import * as tf from '@tensorflow/tfjs-core';
import { ownedNativeStorage } from '../../runtime/backends/native.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (AdamW), applied to matrices only: biases and norm gains are not decayed. */
  weightDecay: number;
}

interface Moments {
  m: Float32Array;
  v: Float32Array;
}

/**
 * AdamW as in PyTorch's torch.optim.AdamW: w ← w·(1 − lr·wd), then the bias-corrected Adam step.
 * The update runs as one loop per parameter over plain Float32Arrays (moments live there too):
 * as a dozen element-wise tfjs ops it cost more than the student's backward pass on CPU backends.
 */
export class AdamW {
  private readonly moments = new Map<string, Moments>();
  /** Optimizer steps taken (the bias-correction exponent of the next step is steps + 1). */
  steps = 0;

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    readonly options: AdamWOptions,
  ) {
    for (const [name, param] of params) this.moments.set(name, { m: new Float32Array(param.size), v: new Float32Array(param.size) });
  }

  /**
   * One update with learning rate `lr`; `grads` holds every parameter's gradient by name, each
   * multiplied by `gradScale` first (global-norm clipping, see globalNormScale).
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale = 1): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    this.steps += 1;
    const correction1 = 1 - beta1 ** this.steps;
    const correction2Sqrt = Math.sqrt(1 - beta2 ** this.steps);
    const stepSize = lr / correction1;
    const scale = Math.fround(gradScale);
    for (const [name, param] of this.params) {
      const grad = grads.get(name);
      if (!grad) throw new Error(`AdamW: no gradient for parameter "${name}"`);
      const g = grad.dataSync() as Float32Array;
      const { m, v } = this.moments.get(name)!;
      const decay = weightDecay > 0 && param.rank >= 2 ? 1 - lr * weightDecay : 1;
      // On the native backend a parameter that owns its storage is updated there, by a threaded C
      // loop doing this loop's arithmetic: no copy of the weights, no garbage the size of the model.
      const owned = ownedNativeStorage(param);
      if (owned) {
        owned.addon.adamwStep(owned.values, g, m, v, Float64Array.of(scale, beta1, beta2, stepSize, correction2Sqrt, epsilon, decay));
        continue;
      }
      // dataSync may hand out the backend's own storage: update a copy.
      const w = new Float32Array(param.dataSync() as Float32Array);
      for (let i = 0; i < w.length; i++) {
        // Rounded as a float32 multiply, as a scaled gradient tensor would be.
        const gi = scale === 1 ? g[i] : Math.fround(g[i] * scale);
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / correction2Sqrt + epsilon);
      }
      tf.tidy(() => param.assign(tf.tensor(w, param.shape, 'float32')));
    }
  }

  /** Moments by `<param>.exp_avg` / `<param>.exp_avg_sq` (PyTorch's state names), copied out. */
  exportState(): { steps: number; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, { m, v }] of this.moments) {
      const shape = this.params.get(name)!.shape;
      tensors.set(`${name}.exp_avg`, { shape, data: m.slice() });
      tensors.set(`${name}.exp_avg_sq`, { shape, data: v.slice() });
    }
    return { steps: this.steps, tensors };
  }

  importState(steps: number, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, source: string): void {
    for (const [name, moments] of this.moments) {
      const shape = this.params.get(name)!.shape;
      for (const [key, target] of [[`${name}.exp_avg`, moments.m], [`${name}.exp_avg_sq`, moments.v]] as const) {
        const saved = tensors.get(key);
        if (!saved) throw new Error(`${source}: optimizer state lacks "${key}"`);
        if (saved.shape.join(',') !== shape.join(','))
          throw new Error(`${source}: optimizer state "${key}" has shape [${saved.shape}], the model needs [${shape}]`);
        target.set(saved.data);
      }
    }
    this.steps = steps;
  }

  /** Moments are plain arrays; nothing to free in tfjs. Kept so owners can release it like the models. */
  dispose(): void {
    this.moments.clear();
  }
}
