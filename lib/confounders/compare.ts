import { minMaxNormalize } from './normalize.ts';
import { projectOntoTokens, sameTokenization } from './project.ts';
import type { ResolvedRule } from './rules/index.ts';
import { flagTokens, flaggedSpans, isWhitespaceToken, spanPieces, type SpanCut } from './spans.ts';
import type { ProjectionMode, RegionComparison, RegionTokens } from './types.ts';

export interface CompareOptions {
  /** How teacher scores land on student tokens when the tokenisations differ (default max). */
  projection?: ProjectionMode;
  /** Project through characters even when the tokenisations are identical (tests the equivalence). */
  forceProjection?: boolean;
  /** Min-max normalise Δ again to [0, 1], as the authors' scripts do (the paper does not). */
  renormalize?: boolean;
  rule: ResolvedRule;
  /** Bridge up to this many whitespace-only tokens between flagged runs (default 0). */
  mergeGap?: number;
  /** Where flagged runs are cut besides unflagged tokens (default none: plain maximal runs). */
  spanCut?: SpanCut;
  /**
   * normalized (default, the paper): Δ = ĝ_T − ĝ_S of the min-max normalised scores. raw: the scores
   * share a unit (loss changes), Δ = s_T − s_S, then min-max normalised to [0, 1].
   */
  comparison?: 'normalized' | 'raw';
}

/**
 * Stage 1 for one region: normalise each model's scores on its own tokens, carry the teacher's onto
 * the student's tokens, take Δ = ĝ_T − ĝ_S, threshold, and find the flagged spans.
 */
export function compareRegion(text: string, teacher: RegionTokens, student: RegionTokens, options: CompareOptions): RegionComparison {
  const teacherNormOwn = minMaxNormalize(teacher.scores);
  const studentNorm = minMaxNormalize(student.scores);
  const identical = sameTokenization(teacher.spans, student.spans);
  const project = !identical || options.forceProjection;
  const mode = options.projection ?? 'max';
  const onStudent = (values: Float32Array) =>
    project ? projectOntoTokens(values, teacher.spans, student.spans, text.length, mode) : Float32Array.from(values);
  const teacherScore = onStudent(teacher.scores);
  const teacherNorm = onStudent(teacherNormOwn);

  let delta: Float32Array =
    options.comparison === 'raw' ? minMaxNormalize(teacherScore.map((t, i) => t - student.scores[i])) : teacherNorm.map((t, i) => t - studentNorm[i]);
  if (options.renormalize) delta = minMaxNormalize(delta);

  const threshold = options.rule.rule.threshold(delta, options.rule.params);
  const whitespace = student.spans.map((span) => isWhitespaceToken(text, span));
  const flagged = flagTokens(delta, threshold, whitespace);
  return {
    spans: student.spans.map((s) => ({ ...s })),
    teacherScore,
    studentScore: Float32Array.from(student.scores),
    teacherNorm,
    studentNorm,
    delta,
    flagged,
    flaggedSpans: flaggedSpans(flagged, student.spans, whitespace, options.mergeGap ?? 0, spanPieces(text, student.spans, options.spanCut ?? 'none')),
    threshold,
    identicalTokenization: identical,
  };
}
