import { Command } from 'commander';
import { mergeAnalyzeShards } from '../../lib/analyze/index.ts';
import { isEvalShard, mergeEvalShards, type EvalResult } from '../../lib/eval/index.ts';
import { mergeLaunch } from '../../lib/launch/index.ts';
import { isPruneShard, mergePruneShards, summaryTable, type PruneResult } from '../../lib/pruning/index.ts';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';

interface MergeFlags {
  out?: string;
  details?: string;
  launch?: string;
  arrowFormat?: 'stream' | 'file';
}

const specs: OptionSpecs<MergeFlags> = {
  out: { flags: '--out <path>', description: 'analyze: output directory (attributions.arrow, manifest.json); prune: the pruned dataset (summary.json beside it); eval: the JSON summary' },
  details: { flags: '--details <file>', description: 'eval: per-sample predictions and attention masses (JSONL)' },
  launch: { flags: '--launch <dir>', description: 'merge the shards of a launch (analyze/prune/eval --executor ... --out DIR) into DIR; every shard needs its completion marker' },
  arrowFormat: { flags: '--arrow-format <encoding>', description: 'analyze: Arrow IPC stream or file encoding (default stream; prune shards keep the format they were run with)', choices: ['stream', 'file'] },
};

const printPrune = ({ summary, summaryPath }: PruneResult) => process.stdout.write(`leaf merge (prune)\n${summaryTable(summary, summaryPath)}`);
const printEval = (result: EvalResult) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);

/** Which command wrote these shard directories; a mix is refused. */
function shardKind(dirs: string[]): 'analyze' | 'prune' | 'eval' {
  const kinds = dirs.map((dir) => (isEvalShard(dir) ? 'eval' : isPruneShard(dir) ? 'prune' : 'analyze'));
  const other = kinds.findIndex((kind) => kind !== kinds[0]);
  if (other >= 0) throw new Error(`${dirs[other]} is a shard of leaf ${kinds[other]} but ${dirs[0]} is a shard of leaf ${kinds[0]}`);
  return kinds[0];
}

export const mergeCommand = addOptions(
  new Command('merge').description('combine the shard outputs of analyze, prune --verify or eval into what one process writes').argument('[shard-dirs...]', 'the --out directories of leaf analyze/prune/eval --shard i/n'),
  specs,
).action(async (shardDirs: string[], flags: MergeFlags) => {
  if (flags.launch !== undefined) {
    if (shardDirs.length > 0 || flags.out !== undefined || flags.details !== undefined || flags.arrowFormat !== undefined)
      throw new Error('--launch takes the shards, the outputs and their format from the launch: leave out shard directories, --out, --details and --arrow-format');
    const merged = await mergeLaunch(flags.launch, process.argv.slice(2));
    if (merged.command === 'prune') printPrune(merged.result);
    else if (merged.command === 'eval') printEval(merged.result);
    else printAnalyzeSummary(merged.result);
    return;
  }
  if (shardDirs.length === 0) throw new Error('name the shard directories to merge, or --launch DIR');
  const kind = shardKind(shardDirs);
  if (flags.details !== undefined && kind !== 'eval') throw new Error(`--details applies to shards of leaf eval; these are shards of leaf ${kind}`);
  if (flags.arrowFormat !== undefined && kind !== 'analyze') throw new Error(`--arrow-format applies to shards of leaf analyze, not leaf ${kind}${kind === 'prune' ? ' (its shards keep the format they were run with)' : ''}`);
  if (kind === 'eval') {
    if (flags.out === undefined && flags.details === undefined) throw new Error('name where the merged evaluation goes: --out FILE (the summary) and/or --details FILE');
    printEval(mergeEvalShards(shardDirs, flags));
    return;
  }
  if (flags.out === undefined) throw new Error("required option '--out <path>' not specified");
  if (kind === 'prune') printPrune(await mergePruneShards(shardDirs, flags.out));
  else printAnalyzeSummary(await mergeAnalyzeShards(shardDirs, { out: flags.out, arrowFormat: flags.arrowFormat ?? 'stream' }));
});
