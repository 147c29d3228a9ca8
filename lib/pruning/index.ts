/** lib/pruning: counterfactual construction from attributions, verification, and `leaf prune`. */
export { prune, pruneShard, mergePruneShards, isPruneShard, prunedFileIn, runDirFor, PRUNE_SHARD_FILE, type PruneResult, type PruneShardResult } from './prune.ts';
export { pruneDefaults, pruneOptionSpecs, checkPruneOptions, type PruneOptions } from './options.ts';
export { removeSpans, reinsertSpans, keptText, type Removal, type RemovedSpan } from './removal.ts';
export { removeFromField, fieldText, type FieldName, type FieldRemoval, type PrunedFields } from './fields.ts';
export { placeRegions, MismatchError, type PlacedRegion, type RegionLayout } from './regions.ts';
export { PRUNING_MODES, getPruningMode, pruningModeNames, type PruningMode, type PruningModeName, type CandidateSpec } from './modes.ts';
export { planSample, type SamplePlan, type BuiltCounterfactual, type PlanSettings } from './plan.ts';
export { sampleRows, ANSWER_COLUMNS, NOT_ANALYSED_RULE, type RowSettings, type SampleStats } from './rows.ts';
export { verifyPlans, loadJudge, goldAnswer, type Judge, type Verdict, type SampleVerdicts } from './verify.ts';
export { summarize, summaryTable, SUMMARY_FILE, SUMMARY_FORMAT, type PruneSummary, type VerificationSummary } from './summary.ts';
export { loadPruneInputs, type PruneInputs } from './inputs.ts';
