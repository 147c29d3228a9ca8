import { Command } from 'commander';
import { mergeAnalyzeShards } from '../../lib/analyze/index.ts';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { printAnalyzeSummary } from './analyze-summary.ts';

interface MergeFlags {
  out: string;
  arrowFormat: 'stream' | 'file';
}

const specs: OptionSpecs<MergeFlags> = {
  out: { flags: '--out <dir>', description: 'output directory (attributions.arrow, manifest.json)', required: true },
  arrowFormat: { flags: '--arrow-format <encoding>', description: 'Arrow IPC stream or file encoding', default: 'stream', choices: ['stream', 'file'] },
};

export const mergeCommand = addOptions(
  new Command('merge').description('combine shard outputs of analyze into one file in corpus order').argument('<shard-dirs...>', 'output directories of leaf analyze --shard i/n'),
  specs,
).action(async (shardDirs: string[], flags: MergeFlags) => {
  printAnalyzeSummary(await mergeAnalyzeShards(shardDirs, flags));
});
