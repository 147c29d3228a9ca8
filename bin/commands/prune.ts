import { Command } from 'commander';
import { prune, pruneOptionSpecs, summaryTable, type PruneOptions } from '../../lib/pruning/index.ts';
import { addOptions } from '../../lib/util/options.ts';

export const pruneCommand = addOptions(
  new Command('prune').description('write originals plus counterfactuals with confounder spans removed'),
  pruneOptionSpecs,
).action(async (options: PruneOptions) => {
  const { summary, summaryPath } = await prune(options);
  process.stdout.write(`leaf prune\n${summaryTable(summary, summaryPath)}`);
});
