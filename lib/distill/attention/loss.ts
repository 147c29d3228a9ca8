import * as tf from '@tensorflow/tfjs-core';
import type { EncodedRow } from '../data/encode.ts';
import type { VocabMap } from '../vocab.ts';

/**
 * The explicit alignment term (--attention-loss): at every predicting position, KL between the
 * teacher's and the student's attention over the instruction tokens (each renormalised over the
 * instruction, averaged over heads and the last k layers). Columns are paired token by token,
 * so both models must tokenise the instruction identically (checked by checkRegionsAlign).
 */
export function checkRegionsAlign(rows: EncodedRow[], vocab: VocabMap): void {
  for (const { row, student, teacher } of rows) {
    const s = student.instructionTokens;
    const t = teacher.instructionTokens;
    if (s.length !== t.length || s.some((si, j) => !vocab.sameToken(student.ids[si], teacher.ids[t[j]])))
      throw new Error(
        `${row.origin} (id ${row.id}): --attention-loss needs teacher and student to tokenise the instruction identically ` +
          `(student ${s.length} tokens, teacher ${t.length}); drop --attention-loss for this model pair`,
      );
  }
}

interface Layout {
  /** Row of the batch each predicting position belongs to. */
  rowOf: number[];
}

function layoutOf(rows: EncodedRow[]): Layout {
  const rowOf: number[] = [];
  rows.forEach((r, b) => r.student.targets.forEach(() => rowOf.push(b)));
  return { rowOf };
}

/**
 * Per predicting position [N]: KL(a_T ‖ a_S) over the instruction. `studentAttention` [N, T_s]
 * carries the gradient; `teacherAttention` [N, T_t] is a constant.
 */
export function attentionAlignmentPerToken(studentAttention: tf.Tensor2D, teacherAttention: tf.Tensor2D, rows: EncodedRow[]): tf.Tensor1D {
  const [n, studentLength] = studentAttention.shape;
  const teacherLength = teacherAttention.shape[1];
  const { rowOf } = layoutOf(rows);
  if (rowOf.length !== n) throw new Error('attention loss: predicting positions do not match the batch');
  const teacherData = teacherAttention.dataSync() as Float32Array;
  const target = new Float32Array(n * studentLength);
  const mask = new Float32Array(n * studentLength);
  const entropyPart = new Float32Array(n);
  const hasRegion = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const { student, teacher } = rows[rowOf[i]];
    const region = student.instructionTokens;
    if (region.length === 0) continue;
    let total = 0;
    for (const column of teacher.instructionTokens) total += teacherData[i * teacherLength + column];
    region.forEach((column, j) => {
      const p = teacherData[i * teacherLength + teacher.instructionTokens[j]] / total;
      target[i * studentLength + column] = p;
      mask[i * studentLength + column] = 1;
      if (p > 0) entropyPart[i] += p * Math.log(p);
    });
    hasRegion[i] = 1;
  }
  return tf.tidy(() => {
    const p = tf.tensor2d(target, [n, studentLength]);
    const regionMass = tf.sum(tf.mul(studentAttention, tf.tensor2d(mask, [n, studentLength])), -1);
    const cross = tf.sum(tf.mul(p, tf.log(tf.add(studentAttention, 1e-12))), -1);
    const logNorm = tf.mul(tf.log(tf.add(regionMass, 1e-12)), tf.tensor1d(hasRegion));
    return tf.add(tf.sub(tf.tensor1d(entropyPart), cross), logNorm) as tf.Tensor1D;
  });
}
