import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../runtime/gradients.ts';
import type { CausalLM } from '../models/types.ts';
import { collateSide, disposeSide } from './data/collate.ts';
import type { EncodedRow } from './data/encode.ts';
import type { DistillLoss, TeacherTargets } from './losses/index.ts';
import { distillationObjective, tokenCoefficients } from './objective.ts';
import { selectRows } from './select.ts';
import type { TeacherSignal } from './teacher/types.ts';
import { meanAttentionRows } from './attention/rows.ts';
import { attentionAlignmentPerToken } from './attention/loss.ts';
import { focusInputs, type FocusTarget } from './attention/focus.ts';
import { getLoss } from './losses/index.ts';
import { fusedForwardKl } from './losses/fused-forward-kl.ts';

ensureGradients();

export interface LossSettings {
  loss: DistillLoss;
  temperature: number;
  beta: number;
  ceWeight: number;
  /** Weight of the attention-alignment term; 0 = off. */
  attentionWeight: number;
  /** Last k layers averaged by the attention terms. */
  attentionLayers: number;
  /** Weight of the focus term (attention share on flagged spans toward the target); 0 = off. */
  focusWeight: number;
  /** The focus term's target share: the teacher's (when absent), or zero. */
  focusTarget?: FocusTarget;
  /** Weight of the counterfactual-consistency term (the student's output on an original toward its output without the flagged spans); 0 = off. */
  consistencyWeight?: number;
}

/** A student/teacher pair with what the loss needs, for the lifetime of a run. */
export interface StepContext {
  student: CausalLM;
  teacher: TeacherSignal;
  settings: LossSettings;
  /** [V] 0 / MASKED_LOGIT over the student vocabulary (intersect mode). */
  vocabBias?: tf.Tensor1D;
}

export interface MicroBatchResult {
  /** Per-term values already divided by the step's row count (they add up over micro-batches). */
  terms: Record<string, number>;
  total: number;
  /** Student tokens processed (for tokens/s). */
  tokens: number;
}

/**
 * The weighted loss of one micro-batch as a scalar, inside the caller's gradient scope.
 * `rowsInStep` is the number of rows of the whole optimizer step (the normaliser).
 */
function microBatchLoss(ctx: StepContext, rows: EncodedRow[], rowsInStep: number, teacherTargets: TeacherTargets, teacherAttention: tf.Tensor2D | undefined, consistency: Consistency | undefined, termsOut: Record<string, tf.Scalar>): tf.Scalar {
  const { student, settings } = ctx;
  const side = collateSide(rows.map((r) => r.student), (b) => rows[b].row.origin);
  try {
    const wantAttention = settings.attentionWeight > 0 || settings.focusWeight > 0;
    const { hidden, attentions } = student.forwardHidden(student.embed(side.inputIds), { outputAttentions: wantAttention });
    const [B, T, D] = hidden.shape;
    // Only the rows that predict supervised tokens go through the LM head (shifted positions).
    const picked = selectRows(tf.reshape(hidden, [B * T, D]) as tf.Tensor2D, side.predicting);
    const studentLogits = tf.matMul(picked, student.lmHeadWeight, false, true) as tf.Tensor2D;
    const coefficients = tf.tensor1d(tokenCoefficients(rows.map((r) => ({ weight: r.row.weight, tokens: r.student.targets.length })), rowsInStep));
    const { total, terms } = distillationObjective(
      { studentLogits, teacher: teacherTargets, targets: side.targets, vocabBias: ctx.vocabBias, temperature: settings.temperature, beta: settings.beta },
      coefficients,
      { loss: settings.loss, ceWeight: settings.ceWeight },
    );
    let loss = total;
    const studentAttention = wantAttention ? meanAttentionRows(attentions!, settings.attentionLayers, side.predicting) : undefined;
    if (settings.attentionWeight > 0) {
      const attention = tf.sum(tf.mul(attentionAlignmentPerToken(studentAttention!, teacherAttention!, rows), coefficients)) as tf.Scalar;
      terms.attention = attention;
      loss = tf.add(loss, tf.mul(attention, settings.attentionWeight)) as tf.Scalar;
    }
    if (settings.focusWeight > 0) {
      const focus = focusInputs(studentAttention!, teacherAttention!, rows, settings.focusTarget);
      const perToken = getLoss('focus-attention').perToken({ studentLogits, temperature: settings.temperature, beta: settings.beta, focus });
      // Unweighted by the row's λ: the term acts on originals only, and λ scales their KD term, not this one.
      const focusTerm = tf.sum(tf.mul(perToken, tf.div(coefficients, tf.tensor1d(rowWeights(rows))))) as tf.Scalar;
      terms.focus = focusTerm;
      loss = tf.add(loss, tf.mul(focusTerm, settings.focusWeight)) as tf.Scalar;
    }
    if (consistency) {
      // KL(p_S(y | X∖A) ‖ p_S(y | X)) on the originals that have flagged spans, the first a constant: the
      // student is pulled toward what it predicts without the confounders, not the other way.
      const perToken = fusedForwardKl(tf.gather(studentLogits, consistency.positions) as tf.Tensor2D, consistency.logits, settings.temperature, ctx.vocabBias);
      const own = tf.gather(tf.div(coefficients, tf.tensor1d(rowWeights(rows))), consistency.positions);
      const term = tf.sum(tf.mul(perToken, own)) as tf.Scalar;
      terms.consistency = term;
      loss = tf.add(loss, tf.mul(term, settings.consistencyWeight!)) as tf.Scalar;
    }
    // Clones: the gradient tape disposes tensors it saved for backprop, which may include these.
    for (const [name, value] of Object.entries(terms)) termsOut[name] = tf.keep(tf.clone(value));
    return loss;
  } finally {
    disposeSide(side);
  }
}

/** The consistency term's constant target: the student's logits without the focus spans, and which of the batch's supervised tokens they pair with. */
interface Consistency {
  /** [N_c, V] the student's logits on the shortened rows, at the positions predicting their supervised tokens. */
  logits: tf.Tensor2D;
  /** [N_c] indices into the batch's supervised tokens (rows in order, each row's targets in order). */
  positions: tf.Tensor1D;
}

/** The student's forward pass on the rows' texts without focus spans (no gradient); undefined when the term is off or no row has them. */
function consistencyTargets(ctx: StepContext, rows: EncodedRow[]): Consistency | undefined {
  if (!(ctx.settings.consistencyWeight! > 0)) return undefined;
  const positions: number[] = [];
  let offset = 0;
  const shortened: EncodedRow[] = [];
  for (const r of rows) {
    if (r.withoutFocus) {
      shortened.push(r);
      for (let j = 0; j < r.student.targets.length; j++) positions.push(offset + j);
    }
    offset += r.student.targets.length;
  }
  if (shortened.length === 0) return undefined;
  const side = collateSide(shortened.map((r) => r.withoutFocus!), (b) => `${shortened[b].row.origin} without its flagged spans`);
  try {
    const logits = tf.tidy(() => {
      const { student } = ctx;
      const { hidden } = student.forwardHidden(student.embed(side.inputIds));
      const [B, T, D] = hidden.shape;
      return tf.matMul(selectRows(tf.reshape(hidden, [B * T, D]) as tf.Tensor2D, side.predicting), student.lmHeadWeight, false, true) as tf.Tensor2D;
    });
    return { logits, positions: tf.tensor1d(positions, 'int32') };
  } finally {
    disposeSide(side);
  }
}

/** Each supervised token's row weight (to undo it where a term should not follow λ). */
function rowWeights(rows: EncodedRow[]): Float32Array {
  return Float32Array.from(rows.flatMap((r) => r.student.targets.map(() => r.row.weight || 1)));
}

function teacherFor(ctx: StepContext, rows: EncodedRow[]) {
  const { attentionWeight, focusWeight, attentionLayers } = ctx.settings;
  return ctx.teacher.output(rows, attentionWeight > 0 || focusWeight > 0 ? { attentionLayers } : {});
}

function disposeTeacher(out: { targets: TeacherTargets; attention?: tf.Tensor2D }): void {
  const t = out.targets;
  tf.dispose(t.kind === 'full' ? [t.logits] : [t.ids, t.logProbs, t.tailLogMass]);
  if (out.attention) out.attention.dispose();
}

function readTerms(terms: Record<string, tf.Scalar>): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [name, value] of Object.entries(terms)) {
    values[name] = (value.dataSync() as Float32Array)[0];
    value.dispose();
  }
  return values;
}

/**
 * Loss and gradients of one micro-batch. Gradients are added into `accumulated` (by parameter
 * name), so a step's micro-batches sum to the gradient of the effective batch's mean loss.
 */
export function accumulateMicroBatch(
  ctx: StepContext,
  rows: EncodedRow[],
  rowsInStep: number,
  parameters: ReadonlyMap<string, tf.Variable>,
  accumulated: Map<string, tf.Tensor>,
): MicroBatchResult {
  const teacher = teacherFor(ctx, rows);
  const consistency = consistencyTargets(ctx, rows);
  const terms: Record<string, tf.Scalar> = {};
  try {
    const names = new Map([...parameters].map(([name, variable]) => [variable.name, name]));
    const { value, grads } = tf.variableGrads(() => microBatchLoss(ctx, rows, rowsInStep, teacher.targets, teacher.attention, consistency, terms), [...parameters.values()]);
    for (const [variableName, grad] of Object.entries(grads)) {
      const name = names.get(variableName)!;
      const previous = accumulated.get(name);
      if (previous) {
        accumulated.set(name, tf.add(previous, grad));
        tf.dispose([previous, grad]);
      } else accumulated.set(name, grad);
    }
    const total = (value.dataSync() as Float32Array)[0];
    value.dispose();
    return { terms: readTerms(terms), total, tokens: rows.reduce((sum, r) => sum + r.student.ids.length, 0) };
  } finally {
    disposeTeacher(teacher);
    if (consistency) tf.dispose([consistency.logits, consistency.positions]);
    for (const t of Object.values(terms)) if (!t.isDisposed) t.dispose();
  }
}

/** The same loss without gradients (validation). */
export function evaluateMicroBatch(ctx: StepContext, rows: EncodedRow[], rowsInStep: number): MicroBatchResult {
  const teacher = teacherFor(ctx, rows);
  const consistency = consistencyTargets(ctx, rows);
  const terms: Record<string, tf.Scalar> = {};
  try {
    const total = tf.tidy(() => (microBatchLoss(ctx, rows, rowsInStep, teacher.targets, teacher.attention, consistency, terms).dataSync() as Float32Array)[0]);
    return { terms: readTerms(terms), total, tokens: rows.reduce((sum, r) => sum + r.student.ids.length, 0) };
  } finally {
    disposeTeacher(teacher);
    if (consistency) tf.dispose([consistency.logits, consistency.positions]);
    for (const t of Object.values(terms)) if (!t.isDisposed) t.dispose();
  }
}
