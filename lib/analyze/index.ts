/** lib/analyze: `leaf analyze` — corpus → rendered samples → length-bucketed batches → attribution scores → rows. */
export { analyzeOptionSpecs, analyzeDefaults, paperMethod, spanCutFor, type AnalyzeOptions } from './options.ts';
export { runAnalyze, ATTRIBUTIONS_FILE, MANIFEST_FILE, BUCKET_WINDOW, type AnalyzeResult, type AnalyzeContext } from './run.ts';
export { mergeAnalyzeShards, type MergeOptions } from './merge.ts';
export { scoreSamples, scoreBatch, planBatches, prepareSample, type ScoringSettings, type Outcome, type ReadySample } from './score.ts';
export { modelSide, loadSide, loadSides } from './sides.ts';
export { selectTeacherCorrectStudentWrong, type Selection, type SelectionSettings } from './select.ts';
export type { ModelSide, LengthPolicy } from './prepare.ts';
export { SkipSample, SampleFailed } from './errors.ts';
