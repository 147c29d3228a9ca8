/** lib/demo: `leaf demo` on the shipped planted-confounder task, and the helpers that measure it against ground truth. */
export { runDemo, type DemoResult, type ModelResult, type ModelName } from './run.ts';
export { demoDefaults, demoOptionSpecs, type DemoOptions } from './options.ts';
export { familyData, readSynthSplit, SHIPPED } from './paths.ts';
export { DEMO_SYNTH_OPTIONS } from './task.ts';
export { resultsTable, resultsMarkdown } from './table.ts';
export { detectionQuality, plantedPairs, type DetectionQuality } from './quality.ts';
export { auroc, precisionRecall, plantedTokenLabels, spanOnPlanted, spansByDelta } from './detection.ts';
export { plantedAttention, type PlantedAttention } from './planted-attention.ts';
export { splitAccuracy, type SplitAccuracy } from './split-accuracy.ts';
export { encodeLmExamples, trainLanguageModel, type LmExample, type LmStep, type LmTrainOptions } from './lm-train.ts';
export { reflag, scoreAsDelta } from './reflag.ts';
export { tokenAttention } from './attention-scores.ts';
export { analyzeOptions, pruneOptions, distillOptions, leafTerms, MAX_NEW_TOKENS, EVAL_BATCH, ID_MAPPING } from './stages.ts';
