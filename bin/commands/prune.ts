import { Command } from 'commander';
import { prune, pruneOptionSpecs, summaryTable, type PruneOptions } from '../../lib/pruning/index.ts';
import { addOptions } from '../../lib/util/options.ts';
import { notShardable } from './not-shardable.ts';

export const pruneCommand = notShardable(
  addOptions(new Command('prune').description('write originals plus counterfactuals with confounder spans removed'), pruneOptionSpecs),
  'prune --verify resumes (--resume) but does not split across processes in this version; run it as one job ' +
    "(e.g. sbatch --wrap 'npx leaf prune ... --verify --resume', resubmitted with the same line if it is cut short). Without --verify, prune takes seconds",
).action(async (options: PruneOptions) => {
  const { summary, summaryPath } = await prune(options);
  process.stdout.write(`leaf prune\n${summaryTable(summary, summaryPath)}`);
});
