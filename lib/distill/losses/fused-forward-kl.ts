import * as tf from '@tensorflow/tfjs-core';

/**
 * Forward KL per row, T²·KL(softmax(t/T + b) ‖ softmax(s/T + b)), and its gradient with respect to
 * the student logits, T·(q − p), computed in one pass over plain arrays. Composed from tfjs ops the
 * same loss takes about fifteen vocabulary-wide kernels forward and backward, several of them
 * broadcasting ones that CPU backends run element by element; at real vocabulary sizes that cost
 * more than the LM head's matMul. The composed form (log-probs.ts) stays the reference in tests.
 */
export function fusedForwardKl(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature: number, vocabBias?: tf.Tensor1D): tf.Tensor1D {
  const [rows, vocab] = studentLogits.shape;
  if (teacherLogits.shape[0] !== rows || teacherLogits.shape[1] !== vocab)
    throw new Error(`forward-kl: teacher logits [${teacherLogits.shape}] do not match the student's [${studentLogits.shape}]`);
  const kl = tf.customGrad(((student: tf.Tensor) => {
    const s = student.dataSync() as Float32Array;
    const t = teacherLogits.dataSync() as Float32Array;
    const bias = vocabBias ? (vocabBias.dataSync() as Float32Array) : undefined;
    const losses = new Float32Array(rows);
    const gradient = new Float32Array(rows * vocab);
    const inv = 1 / temperature;
    const ls = new Float64Array(vocab);
    const lt = new Float64Array(vocab);
    for (let r = 0; r < rows; r++) {
      const base = r * vocab;
      let maxS = -Infinity;
      let maxT = -Infinity;
      for (let j = 0; j < vocab; j++) {
        const b = bias ? bias[j] : 0;
        ls[j] = s[base + j] * inv + b;
        lt[j] = t[base + j] * inv + b;
        if (ls[j] > maxS) maxS = ls[j];
        if (lt[j] > maxT) maxT = lt[j];
      }
      let sumS = 0;
      let sumT = 0;
      for (let j = 0; j < vocab; j++) {
        sumS += Math.exp(ls[j] - maxS);
        sumT += Math.exp(lt[j] - maxT);
      }
      const lseS = maxS + Math.log(sumS);
      const lseT = maxT + Math.log(sumT);
      let loss = 0;
      for (let j = 0; j < vocab; j++) {
        const logP = lt[j] - lseT;
        const logQ = ls[j] - lseS;
        const p = Math.exp(logP);
        if (p > 0) loss += p * (logP - logQ);
        gradient[base + j] = temperature * (Math.exp(logQ) - p);
      }
      losses[r] = temperature * temperature * loss;
    }
    return {
      value: tf.tensor1d(losses),
      gradFunc: (dy: tf.Tensor) => {
        const upstream = dy.dataSync() as Float32Array;
        const scaled = new Float32Array(rows * vocab);
        for (let r = 0; r < rows; r++) for (let j = 0; j < vocab; j++) scaled[r * vocab + j] = gradient[r * vocab + j] * upstream[r];
        return tf.tensor2d(scaled, [rows, vocab]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return kl(studentLogits) as tf.Tensor1D;
}
