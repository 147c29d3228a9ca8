import * as tf from '@tensorflow/tfjs-core';
import { fullTeacherLogProbs, klRows, studentLogProbs, temperatureScaled } from './log-probs.ts';
import { registerLoss } from './registry.ts';

registerLoss({
  name: 'jsd',
  description: 'generalised Jensen-Shannon β·KL(p_T ‖ m) + (1−β)·KL(p_S ‖ m), m = β·p_T + (1−β)·p_S, ×T²',
  teacher: 'full',
  perToken(inputs) {
    const { beta } = inputs;
    if (!(beta > 0 && beta < 1)) throw new Error(`jsd needs 0 < beta < 1, got ${beta}`);
    const logT = fullTeacherLogProbs(inputs, 'jsd');
    const logS = studentLogProbs(inputs);
    // log m by log-sum-exp so masked columns stay finite.
    const a = tf.add(logT, Math.log(beta));
    const b = tf.add(logS, Math.log(1 - beta));
    const top = tf.maximum(a, b);
    const logM = tf.add(top, tf.log(tf.add(tf.exp(tf.sub(a, top)), tf.exp(tf.sub(b, top))))) as tf.Tensor2D;
    const loss = tf.add(tf.mul(klRows(logT, logM), beta), tf.mul(klRows(logS, logM), 1 - beta)) as tf.Tensor1D;
    return temperatureScaled(loss, inputs.temperature);
  },
});
