import { Command } from 'commander';
import { prune, pruneOptionSpecs, pruneShard, summaryTable, type PruneOptions } from '../../lib/pruning/index.ts';
import { shardedCommand } from './sharded.ts';

export const pruneCommand = shardedCommand<PruneOptions>(
  new Command('prune').description('write originals plus counterfactuals with confounder spans removed'),
  'prune',
  pruneOptionSpecs,
  async (options) => {
    if (options.shard === undefined) {
      const { summary, summaryPath } = await prune(options);
      process.stdout.write(`leaf prune\n${summaryTable(summary, summaryPath)}`);
      return;
    }
    const { dir, shard, samples } = await pruneShard({ ...options, shard: options.shard });
    process.stdout.write(`leaf prune: shard ${shard.index}/${shard.count} verified ${samples} sample(s) into ${dir}; combine the shards with leaf merge\n`);
  },
  (options) => {
    if (!options.verify) throw new Error('--executor applies with --verify: without it prune takes seconds, run it in one process');
  },
);
