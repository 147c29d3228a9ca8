import * as tf from '@tensorflow/tfjs-core';
import type { EncodedRow } from '../data/encode.ts';
import type { FocusInputs } from '../losses/index.ts';

/**
 * Where the focus term pulls the student's attention share on the flagged spans: to the teacher's
 * share, or to zero. The teacher may look at text without using it (on a task family with several
 * distractors per sample the teacher puts about half its attention on them), so its share is not
 * always a target that moves the student off a confounder; zero says "do not read it" outright.
 */
export type FocusTarget = 'teacher' | 'zero';
export const FOCUS_TARGETS: readonly FocusTarget[] = ['teacher', 'zero'];

/**
 * The focus term's inputs for a micro-batch: masks over the student's positions and the target
 * share on each row's flagged spans: the teacher's, from `teacherAttention` [N, T_t] (a constant), or 0.
 */
export function focusInputs(studentAttention: tf.Tensor2D, teacherAttention: tf.Tensor2D, rows: EncodedRow[], target: FocusTarget = 'teacher'): FocusInputs {
  const [n, studentLength] = studentAttention.shape;
  const teacherLength = teacherAttention.shape[1];
  const rowOf = rows.flatMap((r, b) => r.student.targets.map(() => b));
  if (rowOf.length !== n) throw new Error('focus term: predicting positions do not match the batch');
  const teacherData = teacherAttention.dataSync() as Float32Array;
  const focusMask = new Float32Array(n * studentLength);
  const regionMask = new Float32Array(n * studentLength);
  const teacherShare = new Float32Array(n);
  const active = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const { student, teacher } = rows[rowOf[i]];
    if (!student.focusTokens?.length || !teacher.focusTokens?.length) continue;
    const sum = (columns: number[]) => columns.reduce((total, c) => total + teacherData[i * teacherLength + c], 0);
    const region = sum(teacher.instructionTokens);
    if (!(region > 0)) continue;
    teacherShare[i] = target === 'zero' ? 0 : sum(teacher.focusTokens) / region;
    for (const c of student.instructionTokens) regionMask[i * studentLength + c] = 1;
    for (const c of student.focusTokens) focusMask[i * studentLength + c] = 1;
    active[i] = 1;
  }
  return {
    studentAttention,
    focusMask: tf.tensor2d(focusMask, [n, studentLength]),
    regionMask: tf.tensor2d(regionMask, [n, studentLength]),
    teacherShare: tf.tensor1d(teacherShare),
    active: tf.tensor1d(active),
  };
}
