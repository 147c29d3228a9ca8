import type { CharSpan } from '../text/types.ts';

/** One model's tokens inside an analysed region, with their raw attribution scores. */
export interface RegionTokens {
  /** Character span of each token into the region text, clipped to it. */
  spans: CharSpan[];
  /** Raw per-token score of the attribution method (same length as spans). */
  scores: Float32Array;
}

/** How teacher scores are carried onto student tokens when the tokenisations differ. */
export type ProjectionMode = 'max' | 'mean';

/** The comparison of one region: everything a row of attributions.arrow needs besides identity. */
export interface RegionComparison {
  /** Student token spans into the region text. */
  spans: CharSpan[];
  teacherScore: Float32Array;
  studentScore: Float32Array;
  teacherNorm: Float32Array;
  studentNorm: Float32Array;
  delta: Float32Array;
  flagged: boolean[];
  /** Character spans of the flagged runs, into the region text. */
  flaggedSpans: CharSpan[];
  threshold: number;
  /** False when the student's and teacher's region tokenisations differed and scores were projected. */
  identicalTokenization: boolean;
}
