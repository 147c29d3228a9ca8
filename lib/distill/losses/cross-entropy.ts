import * as tf from '@tensorflow/tfjs-core';
import { registerLoss } from './registry.ts';

registerLoss({
  name: 'cross-entropy',
  description: 'NLL of the reference response tokens under the student (temperature 1, full vocabulary); mixed in by --ce-weight',
  teacher: 'none',
  perToken({ studentLogits, targets }) {
    if (!targets) throw new Error('loss "cross-entropy" needs the target token ids');
    const logS = tf.logSoftmax(studentLogits);
    const oneHot = tf.oneHot(tf.cast(targets, 'int32'), logS.shape[1]);
    return tf.neg(tf.sum(tf.mul(oneHot, logS), -1)) as tf.Tensor1D;
  },
});
