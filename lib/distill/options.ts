import type { BackendChoice } from '../runtime/index.ts';
import type { HoldChoice } from '../runtime/memory.ts';
import type { VocabMode } from './vocab.ts';
import type { FieldMapping } from '../corpus/mapping.ts';
import type { FocusTarget } from './attention/focus.ts';
import type { ConsistencyPull } from './consistency.ts';

/** Everything `leaf distill` takes; the CLI fills it from flags, tests and the demo directly. */
/** Field mapping: used when --data / --val-data is a corpus rather than `leaf prune` output. */
export interface DistillOptions extends Partial<FieldMapping> {
  teacher: string;
  student: string;
  data: string;
  out: string;
  /** Validation rows from another file; else `valFraction` of the sources (with all their rows) is held out. */
  valData?: string;
  valFraction: number;
  /** Registry name; default forward-kl, or topk-kl with a teacher cache. */
  loss?: string;
  temperature: number;
  /** Mixture weight of the generalised JSD. */
  beta: number;
  ceWeight: number;
  lambda?: number;
  kdOnly: boolean;
  vocabMap: VocabMode;
  lr: number;
  schedule: string;
  warmupSteps: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  /** Global-norm clipping threshold; 0 disables. */
  maxGradNorm: number;
  /** Rows per micro-batch. */
  batchSize: number;
  /** Rows per optimizer step (a multiple of batchSize): micro-batches are accumulated. */
  effectiveBatch?: number;
  epochs: number;
  /** Stop after this many optimizer steps (overrides epochs). */
  maxSteps?: number;
  /** Rows longer than this (tokens, either model) are left out and counted. */
  maxLength: number;
  seed: number;
  /** K of the teacher top-k cache; 0 = run the teacher live every step. */
  cacheTeacher: number;
  /** Checkpoint every N steps (0: only at the end). */
  saveEvery: number;
  keepCheckpoints: number;
  /** Validate every N steps (0: at the end of each epoch). */
  evalEvery: number;
  /** Answer checker for validation accuracy (best checkpoint by accuracy). */
  checker?: string;
  maxNewTokens: number;
  attentionLoss: number;
  attentionLayers: number;
  /** Weight of the focus term: the student's attention share on each original's flagged spans pulled toward the teacher's (0 = off). */
  focusLoss: number;
  /** The focus term's target share on the flagged spans: the teacher's, or zero. */
  focusTarget: FocusTarget;
  /** Weight of the counterfactual-consistency term: the student's outputs on each original and with every flagged span removed pulled together (0 = off). */
  consistencyLoss: number;
  /** Which of the two outputs the consistency term pulls: both toward each other, or the original's toward the counterfactual's. */
  consistencyPull: ConsistencyPull;
  resume: boolean;
  backend?: BackendChoice;
  /** Override of the memory the pre-flight allows, in GiB. */
  memoryLimitGb?: number;
  /** How the teacher's BF16/F16 weights are held (default auto: float32 when the run fits, else as stored). */
  hold?: HoldChoice;
  /** Show a progress bar / plain progress lines on stderr. */
  progress: boolean;
}

export const distillDefaults = {
  valFraction: 0,
  temperature: 1,
  beta: 0.5,
  ceWeight: 0,
  kdOnly: false,
  vocabMap: 'strict',
  lr: 1e-5,
  schedule: 'cosine',
  warmupSteps: 5,
  weightDecay: 0,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  maxGradNorm: 1,
  batchSize: 1,
  epochs: 3,
  maxLength: 4096,
  seed: 0,
  cacheTeacher: 0,
  saveEvery: 0,
  keepCheckpoints: 2,
  evalEvery: 0,
  maxNewTokens: 256,
  attentionLoss: 0,
  attentionLayers: 2,
  focusLoss: 0,
  focusTarget: 'teacher',
  consistencyLoss: 0,
  consistencyPull: 'mutual',
  resume: false,
  hold: 'auto',
  progress: true,
} as const satisfies Partial<DistillOptions>;

/**
 * Settings that decide the trajectory: a resumed run must use the same ones (the rest, like
 * progress, checkpoint cadence or the backend, may change between sessions).
 */
export const TRAJECTORY_SETTINGS = [
  'teacher', 'student', 'data', 'valData', 'valFraction', 'loss', 'temperature', 'beta', 'ceWeight', 'lambda', 'kdOnly',
  'vocabMap', 'lr', 'schedule', 'warmupSteps', 'weightDecay', 'adamBeta1', 'adamBeta2', 'adamEpsilon', 'maxGradNorm',
  'batchSize', 'effectiveBatch', 'epochs', 'maxSteps', 'maxLength', 'seed', 'cacheTeacher', 'attentionLoss', 'attentionLayers', 'focusLoss', 'focusTarget', 'consistencyLoss', 'consistencyPull',
] as const satisfies readonly (keyof DistillOptions)[];
