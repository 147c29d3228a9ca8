/**
 * Planted-confounder task generator: instruction/response samples whose instructions contain a
 * distractor span (ground truth recorded) that correlates with the answer in the student's data
 * and not in the teacher's. Design, splits and tokenizers: lib/synth/README.md.
 */
export type { SynthSample, SynthSpan, SplitName, Problem, Domain, TaskTemplate, DistractorKind, Placement } from './types.ts';
export { SPLIT_NAMES } from './types.ts';
export { Rng, streamSeed } from './rng.ts';
export {
  KEYS,
  DEFAULT_SIZES,
  DEFAULT_CLEAN_RATES,
  DEFAULT_SYNTH_OPTIONS,
  TRAINING_SPLITS,
  resolveSynthOptions,
  type SynthOptions,
  type SynthOptionsInput,
  type TrainingSplit,
} from './options.ts';
export { SPLIT_POLICIES, type SplitPolicy } from './splits.ts';
export { getTemplate, listTemplates } from './templates/index.ts';
export { getDistractorKind, listDistractorKinds } from './distractors/index.ts';
export { getFamily, listFamilies, type TaskFamily } from './families/index.ts';
export { composeInstruction, generateSplit, generateSynthCorpus, splitStats, type SplitStats } from './generate.ts';
export { writeSynthCorpus, type SynthManifest } from './corpus.ts';
export { synthWords, synthNumbers } from './vocabulary.ts';
export {
  studentTokenizer,
  teacherTokenizer,
  writeSynthTokenizers,
  TEACHER_CHAT_TEMPLATE,
  TEACHER_SPLIT_PATTERN,
  type TokenizerFiles,
} from './tokenizers.ts';
