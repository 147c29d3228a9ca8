// Public surface of lib/distill: the distillation trainer and its interchangeable parts.
export { distill, type DistillHooks, type DistillInput, type DistillResult } from './trainer.ts';
export { distillDefaults, TRAJECTORY_SETTINGS, type DistillOptions } from './options.ts';
export { FOCUS_TARGETS, type FocusTarget } from './attention/focus.ts';
export { CONSISTENCY_PULLS, type ConsistencyPull } from './consistency.ts';
export { getLoss, listLosses, registerLoss, logProbsAt, MASKED_LOGIT, type DistillLoss, type LossInputs, type TeacherTargets } from './losses/index.ts';
export { getSchedule, listSchedules, learningRate, registerSchedule, type LrSchedule, type ScheduleParams } from './optim/schedules/index.ts';
export { AdamW, type AdamWOptions } from './optim/adamw.ts';
export { clipByGlobalNorm, globalNormScale } from './optim/clip.ts';
export { distillationObjective, tokenCoefficients, type ObjectiveConfig } from './objective.ts';
export { buildVocabMap, type VocabMap, type VocabMode } from './vocab.ts';
export { estimateTrainingMemory, checkMemory, memoryLimit, parameterCount, type MemoryEstimate } from '../runtime/memory.ts';
export { readMetrics, type MetricsLine, type TrainMetrics, type ValidationMetrics } from './metrics.ts';
export { loadTrainingRows } from './data/load.ts';
export { weightedRows, type TrainingRow } from './data/rows.ts';
export { saveStudent } from './checkpoint.ts';
export { Prng, type PrngState } from './data/prng.ts';
