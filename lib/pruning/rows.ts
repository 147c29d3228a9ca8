import type { PrunedRow } from '../corpus/types.ts';
import type { PruningModeName } from './modes.ts';
import type { BuiltCounterfactual, SamplePlan } from './plan.ts';
import type { SampleVerdicts, Verdict } from './verify.ts';

/** Columns --verify adds after the source's own: each model's generated answer on the row (null when not generated). */
export const ANSWER_COLUMNS = ['teacher_answer', 'student_answer'] as const;

/** Rule recorded on rows of samples that were not analysed (their threshold is 0). */
export const NOT_ANALYSED_RULE = 'not-analysed';

export interface RowSettings {
  mode: PruningModeName;
  /** The analysis level, recorded on originals. */
  level: 'instruction' | 'response';
  lambda: number;
  /** Canonical rule spec per field, e.g. "percentile:p=0.05,cap=0.5". */
  rules: { user: string; response: string };
  /** all: every sample of the corpus gets its original row; analysed: only samples with attribution rows. */
  originals: 'all' | 'analysed';
  /** Write counterfactuals that failed verification too (verified = false). */
  keepUnverified: boolean;
  /** --verify is on: rows carry the answer columns. */
  verify: boolean;
}

/** What became of one sample, kept beside the rows so a resumed run can still report on it. */
export interface SampleStats {
  /** Position of the sample in the corpus as read. */
  position: number;
  analysed: boolean;
  spans: number;
  shortSpans: number;
  capped: number;
  emptied: number;
  /** Counterfactuals built (and verified, with --verify). */
  candidates: number;
  /** Counterfactual rows written. */
  written: number;
  removedChars: number[];
  verification?: { teacherOriginal: boolean; studentOriginal: boolean; teacher: boolean[]; student: boolean[] };
}

export interface SampleOutcome {
  rows: PrunedRow[];
  stats: SampleStats;
}

const counterfactualId = (sourceId: string, cf: BuiltCounterfactual) => `${sourceId}#cf${cf.key}`;

/** The id a sample's k-th counterfactual candidate gets; used to refuse corpora whose ids would collide with it. */
export const COUNTERFACTUAL_ID = /^(.*)#cf\d+$/;

const passed = (verdict: Verdict | undefined) => (verdict ? verdict.teacher.correct && verdict.student.correct : null);

/**
 * The rows of one sample: its original, then its counterfactuals in span order. Weights: λ for
 * the original and (1 − λ) shared evenly by the counterfactuals written; a sample without any
 * counterfactual row keeps weight 1 on its original, so every sample weighs 1 in total.
 */
export function sampleRows(position: number, plan: SamplePlan, verdicts: SampleVerdicts | undefined, settings: RowSettings): SampleOutcome {
  const { sample } = plan;
  const analysed = plan.regions.length > 0;
  const written = plan.counterfactuals
    .map((cf, k) => ({ cf, verdict: verdicts?.counterfactuals[k] }))
    .filter(({ verdict }) => settings.keepUnverified || !verdict || passed(verdict));
  const originalWeight = written.length > 0 ? settings.lambda : 1;
  const counterfactualWeight = written.length > 0 ? (1 - settings.lambda) / written.length : 0;
  const answers = (verdict: Verdict | undefined) =>
    settings.verify ? { [ANSWER_COLUMNS[0]]: verdict?.teacher.text ?? null, [ANSWER_COLUMNS[1]]: verdict?.student.text ?? null } : {};
  const userRow = plan.regions.find((region) => region.field === 'user')?.row;

  const rows: PrunedRow[] = [];
  if (analysed || settings.originals === 'all')
    rows.push({
      id: sample.id,
      source_id: sample.id,
      kind: 'original',
      instruction: sample.instruction,
      input: sample.input,
      output: sample.output,
      answer: sample.answer,
      removed_spans: [],
      removed_chars: 0,
      mode: settings.mode,
      level: settings.level,
      rule: analysed ? settings.rules.user : NOT_ANALYSED_RULE,
      threshold: userRow?.threshold ?? 0,
      verified: passed(verdicts?.original),
      weight: originalWeight,
      extra: { ...sample.extra, ...answers(verdicts?.original) },
    });
  for (const { cf, verdict } of written)
    rows.push({
      id: counterfactualId(sample.id, cf),
      source_id: sample.id,
      kind: 'counterfactual',
      ...cf.fields,
      answer: sample.answer,
      removed_spans: cf.removed,
      removed_chars: cf.removedChars,
      mode: settings.mode,
      level: cf.spec.region.field === 'user' ? 'instruction' : 'response',
      rule: settings.rules[cf.spec.region.field],
      threshold: cf.spec.region.row.threshold,
      verified: passed(verdict),
      weight: counterfactualWeight,
      extra: { ...sample.extra, ...answers(verdict) },
    });

  const stats: SampleStats = {
    position,
    analysed,
    spans: plan.spans,
    shortSpans: plan.shortSpans,
    capped: plan.capped,
    emptied: plan.emptied,
    candidates: plan.counterfactuals.length,
    written: written.length,
    removedChars: written.map(({ cf }) => cf.removedChars),
  };
  if (verdicts)
    stats.verification = {
      teacherOriginal: verdicts.original.teacher.correct,
      studentOriginal: verdicts.original.student.correct,
      teacher: verdicts.counterfactuals.map((v) => v.teacher.correct),
      student: verdicts.counterfactuals.map((v) => v.student.correct),
    };
  return { rows, stats };
}
