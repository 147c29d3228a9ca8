import { attributionMethodNames, type AttributionMethod } from '../attribution/index.ts';
import { parseRuleSpec, SPAN_CUTS, thresholdRuleNames, type SpanCut } from '../confounders/index.ts';
import { DEFAULT_FIELD_MAPPING, fieldMappingSpecs, shardOptionSpecs } from '../corpus/index.ts';
import { listCheckers } from '../eval/checkers/index.ts';
import { backendNames, type BackendChoice } from '../runtime/index.ts';
import { HOLD_CHOICES, type HoldChoice } from '../runtime/memory.ts';
import { parseNumber, type OptionSpecs } from '../util/options.ts';

/** Everything `leaf analyze` takes; the CLI fills it from flags, tests and the demo directly. */
export interface AnalyzeOptions {
  teacher: string;
  student: string;
  data: string;
  out: string;
  idField?: string;
  instructionField: string;
  inputField: string;
  responseField: string;
  answerField: string;
  method: string;
  igSteps: number;
  igAggregate: 'l2' | 'sum';
  level: 'instruction' | 'response';
  segments: number;
  rule: string;
  responseRule?: string;
  project: 'max' | 'mean';
  renormalize: boolean;
  mergeGap: number;
  /** Where flagged runs are cut into spans; auto: at phrase edges when the method measures phrases (see spanCutFor). */
  spanCut: 'auto' | SpanCut;
  select: 'all' | 'teacher-correct-student-wrong';
  checker: string;
  maxNewTokens: number;
  batchSize: number;
  maxLength: number;
  onLong: 'skip' | 'truncate';
  onError: 'fail' | 'skip';
  arrowFormat: 'stream' | 'file';
  resume: boolean;
  /** `i/n`, or `auto`: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX (see resolveShard). */
  shard?: string;
  /** The shard count for `--shard auto` where the scheduler does not give it. */
  shards?: number;
  limit?: number;
  backend?: BackendChoice;
  /** Override of the memory the pre-flight allows, in GiB. */
  memoryLimitGb?: number;
  /** How BF16/F16 weights are held (default auto: float32 when the run fits, else as stored). */
  hold?: HoldChoice;
  progress: boolean;
}

/** The authors' pipeline (gradient L2 norm, the scripts' percentile rule): what benchmarks against their PyTorch code run. */
export const paperMethod = { method: 'grad-l2', rule: 'percentile:p=0.05,cap=0.5' } as const;

export const analyzeDefaults = {
  instructionField: DEFAULT_FIELD_MAPPING.instructionField,
  inputField: DEFAULT_FIELD_MAPPING.inputField,
  responseField: DEFAULT_FIELD_MAPPING.responseField,
  answerField: DEFAULT_FIELD_MAPPING.answerField,
  method: 'contrastive',
  igSteps: 32,
  igAggregate: 'l2',
  level: 'instruction',
  segments: 2,
  rule: 'percentile',
  project: 'max',
  renormalize: false,
  mergeGap: 0,
  spanCut: 'auto',
  select: 'all',
  checker: 'numeric',
  maxNewTokens: 512,
  batchSize: 8,
  maxLength: 4096,
  onLong: 'skip',
  onError: 'fail',
  arrowFormat: 'stream',
  resume: false,
  hold: 'auto',
  progress: true,
} as const satisfies Partial<AnalyzeOptions>;

/**
 * The span cut `--span-cut` resolves to: auto follows the method, so a method that scored phrases
 * one by one (contrastive) never gets a span joining two of them, and gradient methods keep the
 * paper's plain maximal runs.
 */
export function spanCutFor(choice: AnalyzeOptions['spanCut'], method: Pick<AttributionMethod, 'occlusionUnits'>): SpanCut {
  if (choice !== 'auto') return choice;
  return method.occlusionUnits?.includes('phrase') ? 'phrase' : 'none';
}

const checkRule = (raw: string) => {
  parseRuleSpec(raw);
  return raw;
};

export const analyzeOptionSpecs: OptionSpecs<AnalyzeOptions> = {
  teacher: { flags: '--teacher <dir>', description: 'teacher checkpoint (Hugging Face layout: config.json, *.safetensors, tokenizer files)', required: true },
  student: { flags: '--student <dir>', description: 'student checkpoint (Hugging Face layout)', required: true },
  data: { flags: '--data <file>', description: 'corpus: JSONL, JSON array, Arrow IPC (file or stream) or Parquet', required: true, mustExist: true },
  out: { flags: '--out <dir>', description: 'output directory (attributions.arrow, manifest.json)', required: true },
  ...fieldMappingSpecs(),
  method: { flags: '--method <name>', description: 'attribution method', default: analyzeDefaults.method, choices: attributionMethodNames() },
  igSteps: { flags: '--ig-steps <n>', description: 'integrated gradients: Riemann steps', default: analyzeDefaults.igSteps, parse: parseNumber('--ig-steps', { min: 1, integer: true }) },
  igAggregate: { flags: '--ig-aggregate <how>', description: 'integrated gradients: per-token L2 norm or |sum| of the attribution vector', default: analyzeDefaults.igAggregate, choices: ['l2', 'sum'] },
  level: { flags: '--level <level>', description: 'instruction: score the instruction; response: also earlier response segments', default: analyzeDefaults.level, choices: ['instruction', 'response'] },
  segments: { flags: '--segments <n>', description: 'response level: split the response into this many segments (the last is the target)', default: analyzeDefaults.segments, parse: parseNumber('--segments', { min: 2, max: 3, integer: true }) },
  rule: { flags: '--rule <spec>', description: `threshold rule NAME[:key=value,...] (${thresholdRuleNames().join(', ')}; e.g. percentile:p=0.1,cap=0.5 or absolute:tau=0.1)`, default: analyzeDefaults.rule, parse: checkRule },
  responseRule: { flags: '--response-rule <spec>', description: 'threshold rule for response segments (default: --rule)', parse: checkRule },
  project: { flags: '--project <how>', description: "how teacher scores land on student tokens when the tokenizers differ", default: analyzeDefaults.project, choices: ['max', 'mean'] },
  renormalize: { flags: '--renormalize', description: "min-max normalise delta again to [0, 1] (the authors' scripts; the paper does not)", default: analyzeDefaults.renormalize },
  mergeGap: { flags: '--merge-gap <n>', description: 'bridge up to n whitespace-only tokens between flagged runs', default: analyzeDefaults.mergeGap, parse: parseNumber('--merge-gap', { min: 0, integer: true }) },
  spanCut: { flags: '--span-cut <where>', description: 'cut flagged runs into spans also at phrase edges (phrase) or not (none); auto: phrase when the method measures phrases (contrastive), else none', default: analyzeDefaults.spanCut, choices: ['auto', ...SPAN_CUTS] },
  select: { flags: '--select <which>', description: 'all samples, or only those the teacher answers correctly and the student does not (greedy generation)', default: analyzeDefaults.select, choices: ['all', 'teacher-correct-student-wrong'] },
  checker: { flags: '--checker <name>', description: 'answer checker for --select (gold: the answer field, else the response)', default: analyzeDefaults.checker, choices: listCheckers() },
  maxNewTokens: { flags: '--max-new-tokens <n>', description: 'generation length for --select', default: analyzeDefaults.maxNewTokens, parse: parseNumber('--max-new-tokens', { min: 1, integer: true }) },
  batchSize: { flags: '--batch-size <n>', description: 'samples per forward/backward pass (length-bucketed)', default: analyzeDefaults.batchSize, parse: parseNumber('--batch-size', { min: 1, integer: true }) },
  maxLength: { flags: '--max-length <n>', description: 'longest rendered sample in tokens (either model)', default: analyzeDefaults.maxLength, parse: parseNumber('--max-length', { min: 2, integer: true }) },
  onLong: { flags: '--on-long <what>', description: 'longer samples: skip them, or truncate (loss on the response prefix that fits; skipped if a region is cut)', default: analyzeDefaults.onLong, choices: ['skip', 'truncate'] },
  onError: { flags: '--on-error <what>', description: 'bad corpus records: fail before writing anything, or skip and record them in the manifest', default: analyzeDefaults.onError, choices: ['fail', 'skip'] },
  arrowFormat: { flags: '--arrow-format <encoding>', description: 'Arrow IPC stream (Hugging Face datasets) or file (Feather v2) encoding', default: analyzeDefaults.arrowFormat, choices: ['stream', 'file'] },
  resume: { flags: '--resume', description: 'continue an interrupted run in --out (same options and data)', default: analyzeDefaults.resume },
  ...shardOptionSpecs('whole windows of batch-size × 16 samples, so merged shards equal one run'),
  limit: { flags: '--limit <n>', description: 'analyse only the first n samples of the corpus', parse: parseNumber('--limit', { min: 1, integer: true }) },
  backend: { flags: '--backend <name>', description: 'tensor backend', env: 'LEAF_BACKEND', choices: ['auto', ...backendNames()] },
  memoryLimitGb: { flags: '--memory-limit <GiB>', description: 'memory the pre-flight check allows (default: available memory; the wasm heap on wasm)', parse: parseNumber('--memory-limit', { min: 0 }) },
  hold: { flags: '--hold <how>', description: 'BF16/F16 weights: widened to float32 on load (faster), kept as stored (half the memory), or auto: float32 when the run fits', default: analyzeDefaults.hold, choices: [...HOLD_CHOICES] },
  progress: { flags: '--no-progress', description: 'no progress bar / progress lines on stderr', default: analyzeDefaults.progress },
};
