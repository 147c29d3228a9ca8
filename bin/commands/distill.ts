import { Command } from 'commander';
import { addOptions, parseNumber, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, type BackendChoice } from '../../lib/runtime/index.ts';
import { fieldMappingSpecs } from '../../lib/corpus/index.ts';
import { HOLD_CHOICES } from '../../lib/runtime/memory.ts';
import { distill, distillDefaults, FOCUS_TARGETS, CONSISTENCY_PULLS, listLosses, listSchedules, type DistillOptions } from '../../lib/distill/index.ts';

const int = (name: string, min = 0) => parseNumber(name, { integer: true, min });
const num = (name: string, min?: number, max?: number) => parseNumber(name, { min, max });

const specs: OptionSpecs<DistillOptions> = {
  teacher: { flags: '--teacher <dir>', description: 'teacher checkpoint (HF layout: config.json, safetensors, tokenizer files)', required: true },
  student: { flags: '--student <dir>', description: 'student checkpoint to start from (HF layout)', required: true },
  data: { flags: '--data <file>', description: 'training rows: `leaf prune` output (weights per row) or any corpus (weight 1); arrow, parquet, jsonl, json', required: true, mustExist: true },
  out: { flags: '--out <dir>', description: 'run directory: metrics.jsonl, checkpoints/, best/, final/, run.json', required: true },
  valData: { flags: '--val-data <file>', description: 'validation rows (same formats); best checkpoint by validation', mustExist: true },
  ...fieldMappingSpecs(),
  valFraction: { flags: '--val-fraction <f>', description: 'hold out this fraction of the sources for validation (instead of --val-data)', default: distillDefaults.valFraction, parse: num('--val-fraction', 0, 0.99) },
  loss: { flags: '--loss <name>', description: `distillation loss: ${listLosses().filter((l) => l !== 'cross-entropy').join(', ')} (default forward-kl; topk-kl with --cache-teacher)` },
  temperature: { flags: '--temperature <T>', description: 'softmax temperature of both models in the loss (loss scaled by T²)', default: distillDefaults.temperature, parse: num('--temperature', 1e-6) },
  beta: { flags: '--beta <b>', description: 'mixture weight β of the generalised JSD (--loss jsd), in (0, 1)', default: distillDefaults.beta, parse: num('--beta', 0, 1) },
  ceWeight: { flags: '--ce-weight <w>', description: 'mix in CE on the reference response: (1 − w)·distillation + w·CE', default: distillDefaults.ceWeight, parse: num('--ce-weight', 0, 1) },
  lambda: { flags: '--lambda <l>', description: 'override row weights: λ for originals, (1 − λ) shared by each sample\'s counterfactuals', parse: num('--lambda', 0, 1) },
  kdOnly: { flags: '--kd-only', description: 'plain KD baseline: train on original rows only (weight 1), same steps and seed', default: distillDefaults.kdOnly },
  vocabMap: { flags: '--vocab-map <mode>', description: 'strict: vocabularies must be identical; intersect: distil over the token strings both share', default: distillDefaults.vocabMap, choices: ['strict', 'intersect'] },
  lr: { flags: '--lr <rate>', description: 'peak learning rate', default: distillDefaults.lr, parse: num('--lr', 0) },
  schedule: { flags: '--schedule <name>', description: `learning-rate schedule after warm-up: ${listSchedules().join(', ')}`, default: distillDefaults.schedule, choices: listSchedules() },
  warmupSteps: { flags: '--warmup-steps <n>', description: 'linear warm-up steps', default: distillDefaults.warmupSteps, parse: int('--warmup-steps') },
  weightDecay: { flags: '--weight-decay <wd>', description: 'AdamW decoupled weight decay (matrices only)', default: distillDefaults.weightDecay, parse: num('--weight-decay', 0) },
  adamBeta1: { flags: '--adam-beta1 <b1>', description: 'AdamW β1', default: distillDefaults.adamBeta1, parse: num('--adam-beta1', 0, 1) },
  adamBeta2: { flags: '--adam-beta2 <b2>', description: 'AdamW β2', default: distillDefaults.adamBeta2, parse: num('--adam-beta2', 0, 1) },
  adamEpsilon: { flags: '--adam-epsilon <eps>', description: 'AdamW ε', default: distillDefaults.adamEpsilon, parse: num('--adam-epsilon', 0) },
  maxGradNorm: { flags: '--max-grad-norm <n>', description: 'clip gradients to this global L2 norm (0: no clipping)', default: distillDefaults.maxGradNorm, parse: num('--max-grad-norm', 0) },
  batchSize: { flags: '--batch-size <n>', description: 'rows per micro-batch (length-bucketed)', default: distillDefaults.batchSize, parse: int('--batch-size', 1) },
  effectiveBatch: { flags: '--effective-batch <n>', description: 'rows per optimizer step, by gradient accumulation (multiple of --batch-size; default = --batch-size)', parse: int('--effective-batch', 1) },
  epochs: { flags: '--epochs <n>', description: 'passes over the training rows', default: distillDefaults.epochs, parse: int('--epochs', 1) },
  maxSteps: { flags: '--max-steps <n>', description: 'stop after this many optimizer steps (overrides --epochs)', parse: int('--max-steps', 1) },
  maxLength: { flags: '--max-length <tokens>', description: 'leave out rows longer than this (either model\'s tokens)', default: distillDefaults.maxLength, parse: int('--max-length', 2) },
  seed: { flags: '--seed <n>', description: 'seed of the batch order and validation split', default: distillDefaults.seed, parse: int('--seed') },
  cacheTeacher: { flags: '--cache-teacher <k>', description: 'run the teacher once and cache its top-k log-probs + tail mass on disk (0: live teacher)', default: distillDefaults.cacheTeacher, parse: int('--cache-teacher') },
  saveEvery: { flags: '--save-every <n>', description: 'checkpoint every n steps (always at the end)', default: distillDefaults.saveEvery, parse: int('--save-every') },
  keepCheckpoints: { flags: '--keep-checkpoints <n>', description: 'keep the newest n checkpoints', default: distillDefaults.keepCheckpoints, parse: int('--keep-checkpoints', 1) },
  evalEvery: { flags: '--eval-every <n>', description: 'validate every n steps (0: at each epoch end)', default: distillDefaults.evalEvery, parse: int('--eval-every') },
  checker: { flags: '--checker <name>', description: 'answer checker: validation accuracy by greedy generation picks the best checkpoint' },
  maxNewTokens: { flags: '--max-new-tokens <n>', description: 'generation length for --checker', default: distillDefaults.maxNewTokens, parse: int('--max-new-tokens', 1) },
  attentionLoss: { flags: '--attention-loss <w>', description: 'weight of an extra term aligning the student\'s attention over the instruction with the teacher\'s (off: 0)', default: distillDefaults.attentionLoss, parse: num('--attention-loss', 0) },
  attentionLayers: { flags: '--attention-layers <k>', description: 'last k layers averaged by --attention-loss and --focus-loss', default: distillDefaults.attentionLayers, parse: int('--attention-layers', 1) },
  focusTarget: { flags: '--focus-target <which>', description: 'where --focus-loss pulls the attention share on the flagged spans: the teacher\'s share, or zero (the teacher may look at text it does not use)', default: distillDefaults.focusTarget, choices: [...FOCUS_TARGETS] },
  focusLoss: { flags: '--focus-loss <w>', description: 'weight of the focus term: the student\'s attention share on the flagged spans of each original (from its counterfactuals) pulled toward the teacher\'s, through characters when the tokenizers differ (off: 0)', default: distillDefaults.focusLoss, parse: num('--focus-loss', 0) },
  consistencyLoss: { flags: '--consistency-loss <w>', description: 'weight of the counterfactual-consistency term: the student\'s outputs on each original and with every flagged span removed pulled together (off: 0)', default: distillDefaults.consistencyLoss, parse: num('--consistency-loss', 0) },
  consistencyPull: { flags: '--consistency-pull <which>', description: 'what --consistency-loss pulls: mutual (each output toward the other) or counterfactual (the original\'s toward the counterfactual\'s only, which also drags answers the student gets right toward its weaker ones)', default: distillDefaults.consistencyPull, choices: [...CONSISTENCY_PULLS] },
  resume: { flags: '--resume', description: 'continue the run in --out from its newest checkpoint, exactly', default: distillDefaults.resume },
  backend: { flags: '--backend <name>', description: 'tensor backend', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
  memoryLimitGb: { flags: '--memory-limit <GiB>', description: 'memory the pre-flight check allows (default: the backend\'s limit)', parse: num('--memory-limit', 0) },
  hold: { flags: '--hold <how>', description: 'the teacher\'s BF16/F16 weights: widened to float32 on load (faster), kept as stored (half the memory), or auto: float32 when the run fits', default: distillDefaults.hold, choices: [...HOLD_CHOICES] },
  progress: { flags: '--no-progress', description: 'no progress bar', default: distillDefaults.progress },
};

export const distillCommand = addOptions(
  new Command('distill').description('distil the teacher into the student on originals and counterfactuals'),
  specs,
).action(async (options: DistillOptions & { backend?: BackendChoice }) => {
  const result = await distill(options);
  process.stdout.write(`${JSON.stringify({ out: result.out, steps: result.steps, final: result.finalDir, best: result.bestDir ?? null, metrics: result.metricsPath, last_loss: result.lastLoss ?? null })}\n`);
});
