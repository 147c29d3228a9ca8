import * as tf from '@tensorflow/tfjs-core';

/** A variable that owns `data` without leaving the temporary tensor it was built from. */
export function variableFrom(data: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  const initial = tf.tensor(data, shape, 'float32');
  const variable = tf.variable(initial, trainable);
  initial.dispose();
  return variable;
}
