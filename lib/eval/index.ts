// Public surface of lib/eval: `leaf eval` (accuracy + attention mass on confounders).
export { evaluate, evalDefaults, checkMeasures, type EvalOptions, type EvalResult } from './evaluate.ts';
export { answerAccuracy, promptIds, type AnswerItem, type Prediction, type AccuracyOptions } from './accuracy.ts';
export { regionAttentionMass, type MassItem, type RegionMass } from './attention-mass.ts';
export { getChecker, listCheckers, type AnswerChecker } from './checkers/index.ts';
export { evaluateShard, mergeEvalShards, isEvalShard, EVAL_PART_FILE, type EvalShardResult, type EvalShardOptions } from './shard.ts';
