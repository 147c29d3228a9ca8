import * as tf from '@tensorflow/tfjs-core';
import { gradientScores } from '../loss.ts';
import { registerAttributionMethod } from '../registry.ts';

// The paper's sensitivity: g_i = ‖∂ℓ/∂e_i‖₂ over the hidden dimension.
registerAttributionMethod({
  name: 'grad-l2',
  description: 'L2 norm of the loss gradient w.r.t. each input embedding (the paper)',
  score: (model, inputs, { padId }) => gradientScores(model, inputs, padId, (grad) => tf.sqrt(tf.sum(tf.square(grad), 2)) as tf.Tensor2D),
});
