import type { Command } from 'commander';
import { checkNoLaunchFlags, launch, launchOptionSpecs, type LaunchFlags } from '../../lib/launch/index.ts';
import type { LaunchCommand } from '../../lib/launch/types.ts';
import { addOptions, argvFromOptions, splitOptions, type OptionSpecs } from '../../lib/util/options.ts';

interface ShardedOptions {
  out?: string;
  shard?: string;
  shards?: number;
  resume?: boolean;
  arrowFormat?: 'stream' | 'file';
}

/**
 * A corpus-sized command with the launcher's flags: with --executor its shards run as cluster jobs
 * (`check` refuses what a launch of it cannot do), else `run` does this process's part (all of it,
 * or the shard --shard names).
 */
export function shardedCommand<O extends ShardedOptions>(
  command: Command,
  name: LaunchCommand,
  specs: OptionSpecs<O>,
  run: (options: O) => Promise<void>,
  check: (options: O) => void = () => {},
): Command {
  return addOptions(addOptions(command, specs), launchOptionSpecs).action(async (parsed: Record<string, unknown>) => {
    const [flags, rest] = splitOptions<LaunchFlags>(parsed, launchOptionSpecs);
    const options = rest as unknown as O;
    if (!flags.executor) {
      checkNoLaunchFlags(flags);
      if (options.shards !== undefined && options.shard?.trim() !== 'auto') throw new Error('--shards applies with --shard auto or --executor');
      await run(options);
      return;
    }
    if (options.shard !== undefined) throw new Error('--executor runs every shard itself: leave out --shard (give the count with --shards N)');
    if (options.out === undefined) throw new Error(`--executor needs --out DIR: the launch directory (shards, logs, merged output)`);
    check(options);
    const argv = argvFromOptions(specs, { ...options, out: undefined, shard: undefined, shards: undefined, resume: undefined });
    process.stdout.write(launch({ command: name, out: options.out, shards: options.shards, resume: options.resume ?? false, argv, arrowFormat: options.arrowFormat ?? 'stream', flags }));
  });
}
