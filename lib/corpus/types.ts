/**
 * Row types of leaf's artifacts. The Arrow schemas that store them are built from these in
 * lib/corpus/schemas.ts; every reader and writer goes through that module.
 */

/** One training sample as read from the user's corpus, after field mapping. */
export interface Sample {
  id: string;
  /** Position in the source file (0-based row / record index), for error messages and corpus order. */
  index: number;
  instruction: string;
  /** Optional extra input appended to the instruction in the user message ("" when absent). */
  input: string;
  /** Reference response. */
  output: string;
  /** Gold answer for answer checkers ("" when absent). */
  answer: string;
  /** Every other column of the source row, carried through to pruned datasets unchanged. */
  extra: Record<string, unknown>;
}

/** `attributions.arrow`: one row per analysed region of a sample. */
export interface AttributionRow {
  id: string;
  /** "instruction" or "response-k" (k = 1-based index of an earlier response segment). */
  region: string;
  /** The analysed region's text. */
  text: string;
  /** Student tokens of the region, as the text each covers (text.slice(char_start, char_end)). */
  tokens: string[];
  /** Character span of each token, into `text`. */
  char_start: number[];
  char_end: number[];
  /** Raw scores per student token (teacher's projected onto student tokens when tokenisers differ). */
  teacher_score: number[];
  student_score: number[];
  /** Min-max normalised scores in [0, 1]. */
  teacher_norm: number[];
  student_norm: number[];
  /** teacher_norm - student_norm (re-normalised to [0, 1] when --renormalize). */
  delta: number[];
  flagged: boolean[];
  /** Character spans of maximal flagged runs, into `text`. */
  spans: { start: number; end: number }[];
  /** Mean response NLL under each model. */
  teacher_loss: number;
  student_loss: number;
  /** The threshold actually applied to delta for this row. */
  threshold: number;
}

/** One row of the intervened dataset written by `leaf prune`. */
export interface PrunedRow {
  id: string;
  source_id: string;
  kind: 'original' | 'counterfactual';
  instruction: string;
  input: string;
  output: string;
  answer: string;
  /** Spans removed from the source field, in the source field's coordinates. */
  removed_spans: { start: number; end: number; text: string }[];
  removed_chars: number;
  mode: 'span' | 'collective';
  level: 'instruction' | 'response';
  rule: string;
  threshold: number;
  /** null when not verified. */
  verified: boolean | null;
  /** Distillation loss weight: lambda for originals, (1 - lambda) spread over counterfactuals. */
  weight: number;
  /** The source sample's other columns (Sample.extra), written as columns after the fixed ones. */
  extra?: Record<string, unknown>;
}
