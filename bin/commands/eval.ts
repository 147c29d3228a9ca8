import { Command } from 'commander';
import { addOptions, parseNumber, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, type BackendChoice } from '../../lib/runtime/index.ts';
import { evalDefaults, evaluate, listCheckers } from '../../lib/eval/index.ts';
import { notShardable } from './not-shardable.ts';

interface EvalFlags {
  model: string;
  data: string;
  checker?: string;
  attributions?: string;
  maxNewTokens: number;
  batchSize: number;
  idField?: string;
  instructionField?: string;
  inputField?: string;
  responseField?: string;
  answerField?: string;
  out?: string;
  details?: string;
  backend?: BackendChoice;
}

const specs: OptionSpecs<EvalFlags> = {
  model: { flags: '--model <dir>', description: 'model checkpoint (HF layout with tokenizer files)', required: true },
  data: { flags: '--data <file>', description: 'evaluation rows: a corpus or `leaf prune` output (arrow, parquet, jsonl, json)', required: true },
  checker: { flags: '--checker <name>', description: `answer checker for accuracy by greedy generation: ${listCheckers().join(', ')}` },
  attributions: { flags: '--attributions <dir>', description: '`leaf analyze` output: measure attention mass on its flagged spans' },
  maxNewTokens: { flags: '--max-new-tokens <n>', description: 'generation length', default: evalDefaults.maxNewTokens, parse: parseNumber('--max-new-tokens', { integer: true, min: 1 }) },
  batchSize: { flags: '--batch-size <n>', description: 'prompts generated together', default: evalDefaults.batchSize, parse: parseNumber('--batch-size', { integer: true, min: 1 }) },
  idField: { flags: '--id-field <name>', description: 'corpus column of sample ids (as given to `leaf analyze`; default: row index)' },
  instructionField: { flags: '--instruction-field <name>', description: 'corpus column of the instruction (default instruction)' },
  inputField: { flags: '--input-field <name>', description: 'corpus column of the optional input (default input)' },
  responseField: { flags: '--response-field <name>', description: 'corpus column of the reference response (default output)' },
  answerField: { flags: '--answer-field <name>', description: 'corpus column of the gold answer (default answer)' },
  out: { flags: '--out <file>', description: 'also write the JSON summary here' },
  details: { flags: '--details <file>', description: 'per-sample predictions and attention masses (JSONL)' },
  backend: { flags: '--backend <name>', description: 'tensor backend', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
};

export const evalCommand = notShardable(
  addOptions(new Command('eval').description('accuracy and attention mass on confounders of a model'), specs),
  'eval runs in one process (a held-out test set, not the training corpus); run it as one job, e.g. sbatch --wrap \'npx leaf eval ...\'',
).action(
  async (flags: EvalFlags) => {
    const mapping = Object.fromEntries(
      (['idField', 'instructionField', 'inputField', 'responseField', 'answerField'] as const).filter((key) => flags[key] !== undefined).map((key) => [key, flags[key]]),
    );
    const result = await evaluate({ ...flags, mapping });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  },
);
