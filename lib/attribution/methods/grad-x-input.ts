import * as tf from '@tensorflow/tfjs-core';
import { gradientScores } from '../loss.ts';
import { registerAttributionMethod } from '../registry.ts';

// First-order estimate of the loss change when an embedding is zeroed: |⟨∂ℓ/∂e_i, e_i⟩|.
registerAttributionMethod({
  name: 'grad-x-input',
  description: 'absolute dot product of the gradient and the input embedding, per token',
  score: (model, inputs, { padId }) =>
    gradientScores(model, inputs, padId, (grad, embeds) => tf.abs(tf.sum(tf.mul(grad, embeds), 2)) as tf.Tensor2D),
});
