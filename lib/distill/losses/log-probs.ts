import * as tf from '@tensorflow/tfjs-core';
import type { LossInputs } from './types.ts';

/** log softmax(logits / T), over the shared sub-vocabulary when a vocabulary bias is given. */
export function logProbsAt(logits: tf.Tensor2D, temperature: number, vocabBias?: tf.Tensor1D): tf.Tensor2D {
  const scaled = temperature === 1 ? logits : tf.div(logits, temperature);
  return tf.logSoftmax(vocabBias ? tf.add(scaled, vocabBias) : scaled) as tf.Tensor2D;
}

export function studentLogProbs(inputs: LossInputs): tf.Tensor2D {
  return logProbsAt(inputs.studentLogits, inputs.temperature, inputs.vocabBias);
}

export function fullTeacherLogits(inputs: LossInputs, lossName: string): tf.Tensor2D {
  if (inputs.teacher?.kind !== 'full')
    throw new Error(`loss "${lossName}" needs the teacher's full distribution${inputs.teacher ? ' (got a top-k cache: use --loss topk-kl)' : ''}`);
  return inputs.teacher.logits;
}

export function fullTeacherLogProbs(inputs: LossInputs, lossName: string): tf.Tensor2D {
  return logProbsAt(fullTeacherLogits(inputs, lossName), inputs.temperature, inputs.vocabBias);
}

/** KL(a ‖ b) per row from log-probabilities: Σ_v e^a (a − b). */
export function klRows(logA: tf.Tensor2D, logB: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.exp(logA), tf.sub(logA, logB)), -1) as tf.Tensor1D;
}

/**
 * Temperature scaling of a distillation loss: gradients of a loss on logits/T shrink as 1/T²,
 * so the loss is multiplied by T² to keep its scale independent of T (Hinton et al.).
 */
export function temperatureScaled(loss: tf.Tensor1D, temperature: number): tf.Tensor1D {
  return temperature === 1 ? loss : (tf.mul(loss, temperature * temperature) as tf.Tensor1D);
}
