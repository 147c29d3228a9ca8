import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../runtime/gradients.ts';
import type { CausalLM } from '../models/types.ts';
import { collateSide, disposeSide } from './data/collate.ts';
import type { EncodedRow } from './data/encode.ts';
import type { DistillLoss, TeacherTargets } from './losses/index.ts';
import { distillationObjective, tokenCoefficients } from './objective.ts';
import type { TeacherSignal } from './teacher/types.ts';
import { meanAttentionRows } from './attention/rows.ts';
import { attentionAlignmentPerToken } from './attention/loss.ts';
import { focusInputs, type FocusTarget } from './attention/focus.ts';
import { getLoss } from './losses/index.ts';
import { distillDefaults } from './options.ts';
import { consistencyInputs, consistencyPerToken, disposeConsistency, supervisedLogits, type ConsistencyInputs, type ConsistencyPull } from './consistency.ts';

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
  /** Weight of the counterfactual-consistency term (the student's outputs on an original and without its flagged spans pulled together); 0 = off. */
  consistencyWeight?: number;
  /** Which of the two outputs the consistency term pulls (default: `leaf distill`'s). */
  consistencyPull?: ConsistencyPull;
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
function microBatchLoss(ctx: StepContext, rows: EncodedRow[], rowsInStep: number, teacherTargets: TeacherTargets, teacherAttention: tf.Tensor2D | undefined, consistency: ConsistencyInputs | undefined, termsOut: Record<string, tf.Scalar>): tf.Scalar {
  const { student, settings } = ctx;
  const side = collateSide(rows.map((r) => r.student), (b) => rows[b].row.origin);
  try {
    const wantAttention = settings.attentionWeight > 0 || settings.focusWeight > 0;
    const { hidden, attentions } = student.forwardHidden(student.embed(side.inputIds), { outputAttentions: wantAttention });
    // Only the rows that predict supervised tokens go through the LM head (shifted positions).
    const studentLogits = supervisedLogits(student, hidden, side.predicting);
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
      // On the originals that have flagged spans: the student's output there and without the spans pulled together.
      const perToken = consistencyPerToken(student, studentLogits, consistency, settings.temperature, ctx.vocabBias);
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

function consistencyFor(ctx: StepContext, rows: EncodedRow[]): ConsistencyInputs | undefined {
  return ctx.settings.consistencyWeight! > 0 ? consistencyInputs(ctx.student, rows, ctx.settings.consistencyPull ?? distillDefaults.consistencyPull) : undefined;
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
  const consistency = consistencyFor(ctx, rows);
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
    disposeConsistency(consistency);
    for (const t of Object.values(terms)) if (!t.isDisposed) t.dispose();
  }
}

/** The same loss without gradients (validation). */
export function evaluateMicroBatch(ctx: StepContext, rows: EncodedRow[], rowsInStep: number): MicroBatchResult {
  const teacher = teacherFor(ctx, rows);
  const consistency = consistencyFor(ctx, rows);
  const terms: Record<string, tf.Scalar> = {};
  try {
    const total = tf.tidy(() => (microBatchLoss(ctx, rows, rowsInStep, teacher.targets, teacher.attention, consistency, terms).dataSync() as Float32Array)[0]);
    return { terms: readTerms(terms), total, tokens: rows.reduce((sum, r) => sum + r.student.ids.length, 0) };
  } finally {
    disposeTeacher(teacher);
    disposeConsistency(consistency);
    for (const t of Object.values(terms)) if (!t.isDisposed) t.dispose();
  }
}
