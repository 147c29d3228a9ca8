import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../models/types.ts';
import { collateSide, disposeSide } from './data/collate.ts';
import type { EncodedRow } from './data/encode.ts';
import type { TeacherOutput, TeacherSignal } from './teacher/types.ts';

function countNonFinite(values: ArrayLike<number>): { nan: number; inf: number } {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return { nan, inf };
}

const describeCount = ({ nan, inf }: { nan: number; inf: number }, size: number) =>
  [nan && `${nan} NaN`, inf && `${inf} ±Infinity`].filter(Boolean).join(' and ') + ` of ${size} values`;

/**
 * Refuse a checkpoint with NaN or infinite weights before training on it, naming the tensor: such
 * a model makes the loss NaN at the first step, which otherwise looks like a learning-rate problem.
 */
export function checkFiniteWeights(model: CausalLM, label: string): void {
  for (const [name, weight] of model.weights) {
    const count = countNonFinite(weight.dataSync() as Float32Array);
    if (count.nan || count.inf) throw new Error(`${label}: weight "${name}" holds ${describeCount(count, weight.size)}; the checkpoint is corrupt`);
  }
}

/**
 * Why the loss of the first step is not finite although every weight is: the logits of one of the
 * models overflow on these rows. Undefined when both models' logits are finite (a cached
 * teacher was checked when its cache was built from the live one).
 */
export function nonFiniteLogits(student: CausalLM, teacher: TeacherSignal, rows: EncodedRow[]): string | undefined {
  const which = rows.map((r) => r.row.origin).slice(0, 3).join(', ');
  const side = collateSide(rows.map((r) => r.student), (b) => rows[b].row.origin);
  try {
    const logits = tf.tidy(() => student.forward(side.inputIds).logits);
    const count = countNonFinite(logits.dataSync() as Float32Array);
    const size = logits.size;
    logits.dispose();
    if (count.nan || count.inf) return `the student's logits hold ${describeCount(count, size)} on ${which}, although its weights are finite`;
  } finally {
    disposeSide(side);
  }
  if (teacher.kind !== 'full') return undefined;
  const output = teacher.output(rows);
  const logits = (output.targets as Extract<TeacherOutput['targets'], { kind: 'full' }>).logits;
  const count = countNonFinite(logits.dataSync() as Float32Array);
  const size = logits.size;
  tf.dispose([logits, output.attention]);
  if (count.nan || count.inf) return `the teacher's logits hold ${describeCount(count, size)} on ${which}`;
  return undefined;
}
