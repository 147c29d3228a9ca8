import * as tf from '@tensorflow/tfjs-core';
import { studentLogProbs, temperatureScaled } from './log-probs.ts';
import { registerLoss } from './registry.ts';
import { MASKED_LOGIT } from './types.ts';

/**
 * Forward KL against a cached teacher that kept only its top-K tokens: the teacher's distribution
 * is K token buckets plus one tail bucket holding the rest of its mass, and the student's is
 * coarsened the same way (its entries at the teacher's K ids, and everything else as tail).
 * With K = vocabulary size this is exactly forward-kl.
 */
registerLoss({
  name: 'topk-kl',
  description: 'forward KL over the cached teacher top-K tokens plus one tail bucket, ×T² (used with --cache-teacher)',
  teacher: 'topk',
  perToken(inputs) {
    const teacher = inputs.teacher;
    if (teacher?.kind !== 'topk') throw new Error('loss "topk-kl" needs a teacher top-k cache (--cache-teacher K)');
    const logS = studentLogProbs(inputs);
    const [n, vocab] = logS.shape;
    const k = teacher.ids.shape[1];
    const rows = tf.tile(tf.expandDims(tf.range(0, n, 1, 'int32'), 1), [1, k]);
    const coords = tf.reshape(tf.stack([rows, tf.cast(teacher.ids, 'int32')], 2), [n * k, 2]) as tf.Tensor2D;
    const probs = tf.exp(teacher.logProbs);
    // The teacher's top-K probabilities laid out over the vocabulary (constants: no gradient needed).
    const denseProbs = tf.scatterND(coords, tf.reshape(probs, [n * k]), [n, vocab]);
    const inTopK = tf.scatterND(coords, tf.ones([n * k]), [n, vocab]);
    const studentTail = tf.logSumExp(tf.add(logS, tf.mul(inTopK, MASKED_LOGIT)), -1);
    const teacherPart = tf.sum(tf.mul(probs, teacher.logProbs), -1);
    const crossPart = tf.sum(tf.mul(denseProbs, logS), -1);
    const tailPart = tf.mul(tf.exp(teacher.tailLogMass), tf.sub(teacher.tailLogMass, studentTail));
    return temperatureScaled(tf.add(tf.sub(teacherPart, crossPart), tailPart) as tf.Tensor1D, inputs.temperature);
  },
});
