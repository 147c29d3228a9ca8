import { Command } from 'commander';
import { addOptions, parseNumber, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, type BackendChoice } from '../../lib/runtime/index.ts';
import { shardOptionSpecs } from '../../lib/corpus/index.ts';
import { checkMeasures, evalDefaults, evaluate, evaluateShard, listCheckers } from '../../lib/eval/index.ts';
import { shardedCommand } from './sharded.ts';

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
  shard?: string;
  shards?: number;
  resume: boolean;
  progress: boolean;
}

const specs: OptionSpecs<EvalFlags> = {
  model: { flags: '--model <dir>', description: 'model checkpoint (HF layout with tokenizer files)', required: true },
  data: { flags: '--data <file>', description: 'evaluation rows: a corpus or `leaf prune` output (arrow, parquet, jsonl, json)', required: true, mustExist: true },
  checker: { flags: '--checker <name>', description: `answer checker for accuracy by greedy generation: ${listCheckers().join(', ')}` },
  attributions: { flags: '--attributions <dir>', description: '`leaf analyze` output: measure attention mass on its flagged spans', mustExist: true },
  maxNewTokens: { flags: '--max-new-tokens <n>', description: 'generation length', default: evalDefaults.maxNewTokens, parse: parseNumber('--max-new-tokens', { integer: true, min: 1 }) },
  batchSize: { flags: '--batch-size <n>', description: 'prompts generated together', default: evalDefaults.batchSize, parse: parseNumber('--batch-size', { integer: true, min: 1 }) },
  idField: { flags: '--id-field <name>', description: 'corpus column of sample ids (as given to `leaf analyze`; default: row index)' },
  instructionField: { flags: '--instruction-field <name>', description: 'corpus column of the instruction (default instruction)' },
  inputField: { flags: '--input-field <name>', description: 'corpus column of the optional input (default input)' },
  responseField: { flags: '--response-field <name>', description: 'corpus column of the reference response (default output)' },
  answerField: { flags: '--answer-field <name>', description: 'corpus column of the gold answer (default answer)' },
  out: { flags: '--out <file>', description: 'also write the JSON summary here (with --shard: the shard directory; with --executor: the launch directory)' },
  details: { flags: '--details <file>', description: 'per-sample predictions and attention masses (JSONL)' },
  backend: { flags: '--backend <name>', description: 'tensor backend', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
  ...shardOptionSpecs('rows k with k mod n = i; --out is then the shard directory'),
  resume: { flags: '--resume', description: 'with --shard: keep the part this shard already wrote (a relaunch)', default: false },
  progress: { flags: '--no-progress', description: 'no progress bar / progress lines on stderr', default: true },
};

export const evalCommand = shardedCommand<EvalFlags>(
  new Command('eval').description('accuracy and attention mass on confounders of a model'),
  'eval',
  specs,
  async ({ shard, shards, resume, ...flags }) => {
    const mapping = Object.fromEntries(
      (['idField', 'instructionField', 'inputField', 'responseField', 'answerField'] as const).filter((key) => flags[key] !== undefined).map((key) => [key, flags[key]]),
    );
    const options = { ...flags, mapping, quiet: !flags.progress };
    if (shard === undefined) {
      if (resume) throw new Error('--resume applies with --shard (one process keeps no state: run it again)');
      process.stdout.write(`${JSON.stringify(await evaluate(options), null, 2)}\n`);
      return;
    }
    if (flags.out === undefined) throw new Error('--shard needs --out DIR: the shard directory its part is written to');
    const result = await evaluateShard({ ...options, shard, shards, resume, out: flags.out });
    process.stdout.write(`leaf eval: shard ${result.shard.index}/${result.shard.count}: ${result.rows} row(s) ${result.reused ? 'already evaluated' : 'evaluated'} in ${result.dir}; combine the shards with leaf merge\n`);
  },
  (flags) => {
    checkMeasures(flags);
    if (flags.details !== undefined) throw new Error('--details with --executor: the merge writes the details to DIR/details.jsonl; leave out --details');
  },
);
