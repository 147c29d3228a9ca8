import { analyzeDefaults, type AnalyzeOptions } from '../analyze/index.ts';
import type { DistillInput } from '../distill/index.ts';
import { pruneDefaults, type PruneOptions } from '../pruning/index.ts';
import type { DemoOptions } from './options.ts';

/**
 * Stage settings of the demo, shared with analyses/planted-confounders.ts so the analysis measures
 * exactly what `leaf demo` runs.
 */

/**
 * Answers are one digit, one token for both models: generation reads exactly that token. More would
 * judge what follows it too, and a distilled student may not end its turn: when teacher and student
 * close the turn with different tokens, `leaf distill` cannot supervise the student's end-of-turn
 * token, and after a few hundred steps about half of its answers run on ("4 5"), which the numeric
 * checker (last number) would score by the run-on digit.
 */
export const MAX_NEW_TOKENS = 1;
export const EVAL_BATCH = 64;
/** Synth ids ("test-000012") name samples in every artifact, so results join by id. */
export const ID_MAPPING = { idField: 'id' } as const;

type Common = Pick<DemoOptions, 'backend' | 'progress'> & { teacher: string; student: string };

export function analyzeOptions(o: Common & Pick<DemoOptions, 'method' | 'rule' | 'select'>, data: string, out: string): AnalyzeOptions {
  return {
    ...analyzeDefaults, ...ID_MAPPING, teacher: o.teacher, student: o.student, data, out,
    method: o.method, rule: o.rule, select: o.select, maxNewTokens: MAX_NEW_TOKENS, batchSize: 16, backend: o.backend, progress: o.progress,
  };
}

/** Span (or collective) counterfactuals, verified by both models; `verifiedOnly` drops those that fail instead of marking them. */
export function pruneOptions(o: Common & Pick<DemoOptions, 'verifiedOnly'>, attributions: string, data: string, out: string, mode: PruneOptions['mode'] = 'span'): PruneOptions {
  return {
    ...pruneDefaults, attributions, data, out, mode, verify: true, keepUnverified: !o.verifiedOnly, teacher: o.teacher, student: o.student,
    maxNewTokens: MAX_NEW_TOKENS, batchSize: EVAL_BATCH, backend: o.backend, progress: o.progress,
  };
}

/** Both distillations use these (KD adds kdOnly): same steps, batch, schedule and seed. */
export function distillOptions(o: Common & Pick<DemoOptions, 'steps' | 'batchSize' | 'lr' | 'seed'>, data: string, out: string): DistillInput {
  return {
    teacher: o.teacher, student: o.student, data, out, maxSteps: o.steps, batchSize: o.batchSize, lr: o.lr,
    warmupSteps: Math.min(10, o.steps), seed: o.seed, vocabMap: 'intersect', backend: o.backend, progress: o.progress,
  };
}

/** What LeaF adds to the shared settings beyond the counterfactual rows: its focus and consistency terms. */
export function leafTerms(o: Pick<DemoOptions, 'focusLoss' | 'attentionLayers' | 'focusTarget' | 'consistencyLoss' | 'consistencyPull'>): Partial<DistillInput> {
  return { focusLoss: o.focusLoss, attentionLayers: o.attentionLayers, focusTarget: o.focusTarget, consistencyLoss: o.consistencyLoss, consistencyPull: o.consistencyPull };
}
