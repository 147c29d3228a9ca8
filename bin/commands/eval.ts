import { Command } from 'commander';
import { addOptions, parseNumber, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, type BackendChoice } from '../../lib/runtime/index.ts';
import { fieldMappingSpecs, pickFieldMapping, shardOptionSpecs, type FieldMapping } from '../../lib/corpus/index.ts';
import { checkMeasures, evalDefaults, evaluate, evaluateShard, listCheckers } from '../../lib/eval/index.ts';
import { shardedCommand } from './sharded.ts';

interface EvalFlags extends FieldMapping {
  model: string;
  data: string;
  checker?: string;
  attributions?: string;
  maxNewTokens: number;
  batchSize: number;
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
  ...fieldMappingSpecs(),
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
    const mapping = pickFieldMapping(flags);
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
