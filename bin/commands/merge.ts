import { Command } from 'commander';
import { mergeAnalyzeShards } from '../../lib/analyze/index.ts';
import { mergeLaunch } from '../../lib/launch/index.ts';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';

interface MergeFlags {
  out?: string;
  launch?: string;
  arrowFormat: 'stream' | 'file';
}

const specs: OptionSpecs<MergeFlags> = {
  out: { flags: '--out <dir>', description: 'output directory (attributions.arrow, manifest.json)' },
  launch: { flags: '--launch <dir>', description: 'merge the shards of a launch (analyze --executor ... --out DIR) into DIR; every shard needs its completion marker' },
  arrowFormat: { flags: '--arrow-format <encoding>', description: 'Arrow IPC stream or file encoding', default: 'stream', choices: ['stream', 'file'] },
};

export const mergeCommand = addOptions(
  new Command('merge').description('combine shard outputs of analyze into one file in corpus order').argument('[shard-dirs...]', 'output directories of leaf analyze --shard i/n'),
  specs,
).action(async (shardDirs: string[], flags: MergeFlags) => {
  if (flags.launch !== undefined) {
    if (shardDirs.length > 0 || flags.out !== undefined) throw new Error('--launch takes the shards and the output directory from the launch: leave out shard directories and --out');
    printAnalyzeSummary(await mergeLaunch(flags.launch, process.argv.slice(2)));
    return;
  }
  if (shardDirs.length === 0) throw new Error('name the shard directories to merge, or --launch DIR');
  if (flags.out === undefined) throw new Error("required option '--out <dir>' not specified");
  printAnalyzeSummary(await mergeAnalyzeShards(shardDirs, { out: flags.out, arrowFormat: flags.arrowFormat }));
});
