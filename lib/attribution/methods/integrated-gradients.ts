import * as tf from '@tensorflow/tfjs-core';
import { embeddingGradients } from '../../models/loss.ts';
import { losses, padInputs, perSample } from '../loss.ts';
import { registerAttributionMethod } from '../registry.ts';
import type { ScoringInput } from '../types.ts';

/** [B, T, 1] with 1 at each sample's scored positions. */
function scoredMask(inputs: ScoringInput[], width: number): tf.Tensor3D {
  const mask = new Float32Array(inputs.length * width);
  inputs.forEach((input, b) => input.scored.forEach((t) => (mask[b * width + t] = 1)));
  return tf.tensor3d(mask, [inputs.length, width, 1]);
}

/**
 * Integrated gradients from a zero-embedding baseline, on the analysed-region tokens only: template
 * markup and the response keep their real embeddings along the path, so the attributions of the
 * region add up (completeness) to ℓ(x) − ℓ(x with the region's embeddings zeroed). Midpoint
 * Riemann sum with igSteps steps. Per token: the L2 norm of the attribution vector (igAggregate
 * "l2", default) or the absolute value of its sum over the hidden dimension ("sum", the quantity
 * completeness is stated for). RMSNorm models change fastest near the zero baseline (the norm
 * rescales a small embedding back up), so a coarse Riemann sum underestimates; raise --ig-steps
 * when completeness matters.
 */
registerAttributionMethod({
  name: 'integrated-gradients',
  description: 'integrated gradients from a zero-embedding baseline on the analysed regions (--ig-steps, --ig-aggregate)',
  score(model, inputs, { padId, igSteps, igAggregate }) {
    if (!Number.isInteger(igSteps) || igSteps < 1) throw new Error(`integrated-gradients: --ig-steps must be a positive integer, got ${igSteps}`);
    const padded = padInputs(inputs, padId);
    const [full, region] = tf.tidy(() => {
      const embeds = model.embed(tf.tensor2d(padded.ids, undefined, 'int32'));
      return [embeds, tf.mul(embeds, scoredMask(inputs, padded.ids[0].length)) as tf.Tensor3D];
    });
    let sum: tf.Tensor3D = tf.zerosLike(full);
    try {
      for (let step = 0; step < igSteps; step++) {
        const alpha = (step + 0.5) / igSteps;
        // Region rows scaled by alpha, all other rows unchanged.
        const point = tf.tidy(() => tf.add(tf.sub(full, region), tf.mul(region, alpha)) as tf.Tensor3D);
        const { grad } = embeddingGradients(model, padded.ids, padded.targetMask, padded.attentionMask, point);
        point.dispose();
        const next = tf.add(sum, grad) as tf.Tensor3D;
        tf.dispose([grad, sum]);
        sum = next;
      }
      const scores = tf.tidy(() => {
        const attribution = tf.mul(region, tf.div(sum, igSteps));
        return (igAggregate === 'sum' ? tf.abs(tf.sum(attribution, 2)) : tf.sqrt(tf.sum(tf.square(attribution), 2))) as tf.Tensor2D;
      });
      const perToken = perSample(scores, padded.lengths);
      scores.dispose();
      const loss = losses(model, inputs, padId, inputs.length);
      return perToken.map((s, b) => ({ scores: s, loss: loss[b] }));
    } finally {
      tf.dispose([sum, full, region]);
    }
  },
});
