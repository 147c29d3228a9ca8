import type { AttributionRow, PrunedRow } from '../corpus/types.ts';

/**
 * Everything a report is built from, already in memory. `leaf report` fills it from the artifacts
 * on disk (lib/report/load.ts); tests and other stages can build it directly.
 */
export interface ReportInput {
  attributions: AttributionRow[];
  /** `manifest.json` of the analyze run; shown as counts, skip reasons and run details. */
  manifest?: AnalyzeManifestLike;
  pruned?: ReportPrunedRow[];
  /** `summary.json` written by `leaf prune` beside the pruned file. */
  pruneSummary?: Record<string, unknown>;
  runs?: DistillRun[];
  title?: string;
  /** ISO time shown in the header; the caller passes it so builds can be reproducible. */
  generatedAt?: string;
}

/**
 * A pruned row. The models' answers from `leaf prune --verify`, when it records them, are read from
 * `teacher_answer` / `student_answer`, either as fields of the row or among its `extra` columns.
 */
export type ReportPrunedRow = PrunedRow & { teacher_answer?: string | null; student_answer?: string | null };

export interface SkippedLike {
  id?: string;
  index?: number;
  reason: string;
}

/**
 * The fields of the analyze manifest (lib/corpus/manifest.ts) the report interprets: `counts`
 * (numbers, and the `skipped` list, which is grouped by reason). Any other field is shown verbatim
 * under "run details", so the manifest can grow without the report changing.
 */
export interface AnalyzeManifestLike {
  counts?: Record<string, unknown> & { skipped?: SkippedLike[] | number };
  [key: string]: unknown;
}

/**
 * One distill run directory. The files it comes from and their shapes are documented in
 * lib/report/runs.ts (readRun).
 */
export interface DistillRun {
  name: string;
  train: TrainPoint[];
  validation: ValidationPoint[];
  evals: EvalResult[];
}

export interface TrainPoint {
  step: number;
  loss: number;
  lr?: number;
  grad_norm?: number;
  tokens_per_s?: number;
  loss_terms?: Record<string, number>;
}

export interface ValidationPoint {
  step: number;
  val_loss?: number;
  val_accuracy?: number;
}

export interface EvalResult {
  split: string;
  accuracy: number | null;
  attention_mass: number | null;
  n?: number;
  flagged_token_fraction?: number | null;
}
