import { WRITABLE_FORMATS, fieldMappingSpecs, type ArrowEncoding, type WritableFormat } from '../corpus/index.ts';
import { listCheckers } from '../eval/checkers/index.ts';
import { backendNames, type BackendChoice } from '../runtime/index.ts';
import { shardOptionSpecs } from '../corpus/shard-auto.ts';
import { parseNumber, type OptionSpecs } from '../util/options.ts';
import { pruningModeNames, type PruningModeName } from './modes.ts';

/** Everything `leaf prune` takes; the CLI fills it from flags, tests and the demo directly. */
export interface PruneOptions {
  /** `leaf analyze` output directory (manifest.json + attributions), or its attributions file. */
  attributions: string;
  data: string;
  out: string;
  mode: PruningModeName;
  maxPerSample?: number;
  minSpanChars: number;
  lambda: number;
  originals: 'all' | 'analysed';
  /** Default: from the --out extension (.parquet, .jsonl), else Arrow. */
  format?: WritableFormat;
  arrowFormat: ArrowEncoding;
  /** Field mapping; each defaults to what the analysis used (its manifest), else the corpus defaults. */
  idField?: string;
  instructionField?: string;
  inputField?: string;
  responseField?: string;
  answerField?: string;
  /** Bad corpus records; default: what the analysis used, else fail. */
  onError?: 'fail' | 'skip';
  verify: boolean;
  teacher?: string;
  student?: string;
  checker: string;
  maxNewTokens: number;
  batchSize: number;
  keepUnverified: boolean;
  resume: boolean;
  /** With --verify: verify only shard "i/n" (or "auto") into the run directory --out; `leaf merge` joins the shards. */
  shard?: string;
  /** The shard count for `--shard auto` where the scheduler does not give it. */
  shards?: number;
  backend?: BackendChoice;
  progress: boolean;
}

export const pruneDefaults = {
  mode: 'span',
  minSpanChars: 1,
  lambda: 0.5,
  originals: 'all',
  arrowFormat: 'stream',
  verify: false,
  checker: 'numeric',
  maxNewTokens: 512,
  batchSize: 8,
  keepUnverified: false,
  resume: false,
  progress: true,
} as const satisfies Partial<PruneOptions>;

const int = (name: string, min: number) => parseNumber(name, { integer: true, min });

export const pruneOptionSpecs: OptionSpecs<PruneOptions> = {
  attributions: { flags: '--attributions <dir>', description: 'leaf analyze output directory (manifest.json, attributions.arrow)', required: true, mustExist: true },
  data: { flags: '--data <file>', description: 'the corpus the attributions were computed from (checked by sha256 and per row)', required: true, mustExist: true },
  out: { flags: '--out <file>', description: 'the pruned dataset to write (summary.json goes beside it)', required: true },
  mode: { flags: '--mode <mode>', description: 'span: one counterfactual per flagged span (the paper); collective: one per region removing all its spans', default: pruneDefaults.mode, choices: pruningModeNames() },
  maxPerSample: { flags: '--max-per-sample <n>', description: 'at most n counterfactuals per sample (those whose spans have the lowest mean delta)', parse: int('--max-per-sample', 1) },
  minSpanChars: { flags: '--min-span-chars <n>', description: 'leave spans with fewer non-whitespace characters in place', default: pruneDefaults.minSpanChars, parse: int('--min-span-chars', 1) },
  lambda: { flags: '--lambda <l>', description: "row weight: λ for an original, (1 − λ) shared by its sample's counterfactuals (1 for an original without any)", default: pruneDefaults.lambda, parse: parseNumber('--lambda', { min: 0, max: 1 }) },
  originals: { flags: '--originals <which>', description: 'all: every corpus sample gets its original row; analysed: only samples with attributions', default: pruneDefaults.originals, choices: ['all', 'analysed'] },
  format: { flags: '--format <format>', description: 'output format (default: by the --out extension, else arrow)', choices: WRITABLE_FORMATS },
  arrowFormat: { flags: '--arrow-format <encoding>', description: 'Arrow IPC stream (Hugging Face datasets) or file (Feather v2) encoding', default: pruneDefaults.arrowFormat, choices: ['stream', 'file'] },
  ...fieldMappingSpecs('as in the analysis'),
  onError: { flags: '--on-error <what>', description: 'bad corpus records: fail, or skip them (default: as in the analysis)', choices: ['fail', 'skip'] },
  verify: { flags: '--verify', description: 'answer every counterfactual with both models (greedy) and keep it only if both are right', default: pruneDefaults.verify },
  teacher: { flags: '--teacher <dir>', description: 'teacher checkpoint for --verify (HF layout with tokenizer files)' },
  student: { flags: '--student <dir>', description: 'student checkpoint for --verify (HF layout with tokenizer files)' },
  checker: { flags: '--checker <name>', description: 'answer checker for --verify (gold: the answer field, else the response)', default: pruneDefaults.checker, choices: listCheckers() },
  maxNewTokens: { flags: '--max-new-tokens <n>', description: 'generation length for --verify', default: pruneDefaults.maxNewTokens, parse: int('--max-new-tokens', 1) },
  batchSize: { flags: '--batch-size <n>', description: 'prompts generated together (--verify); also samples per committed batch', default: pruneDefaults.batchSize, parse: int('--batch-size', 1) },
  keepUnverified: { flags: '--keep-unverified', description: 'with --verify, also write the counterfactuals that fail it (verified = false)', default: pruneDefaults.keepUnverified },
  resume: { flags: '--resume', description: 'continue an interrupted --verify run (state in <out>.run/)', default: pruneDefaults.resume },
  ...shardOptionSpecs('with --verify: blocks of --batch-size samples; --out is then the shard\'s run directory'),
  backend: { flags: '--backend <name>', description: 'tensor backend for --verify', env: 'LEAF_BACKEND', choices: ['auto', ...backendNames()] },
  progress: { flags: '--no-progress', description: 'no progress bar / progress lines on stderr', default: pruneDefaults.progress },
};

/** Combinations that would silently do nothing are errors. */
export function checkPruneOptions(options: PruneOptions): void {
  const verifyOnly: [keyof PruneOptions, string][] = [
    ['teacher', '--teacher'],
    ['student', '--student'],
    ['keepUnverified', '--keep-unverified'],
    ['resume', '--resume'],
    ['shard', '--shard'],
  ];
  if (options.shards !== undefined && options.shard?.trim() !== 'auto') throw new Error('--shards applies with --shard auto or --executor');
  if (options.verify) {
    if (!options.teacher || !options.student) throw new Error('--verify needs --teacher and --student');
    return;
  }
  for (const [key, flag] of verifyOnly)
    if (options[key]) throw new Error(`${flag} only applies with --verify${key === 'resume' ? ' (without it prune keeps no run state: run it again)' : ''}`);
}
