import { Option, type Command } from 'commander';

/**
 * `--executor` and `--shard` on a command that does not run sharded: they exist so that asking for
 * them gets the reason and what to do instead, rather than "unknown option".
 */
export function notShardable(command: Command, reason: string): Command {
  return command
    .addOption(new Option('--executor <name>', 'not supported: this command is not sharded (see the error for why)').hideHelp())
    .addOption(new Option('--shard <i/n>', 'not supported: this command is not sharded').hideHelp())
    .hook('preAction', (_command, action) => {
      const { executor, shard } = action.opts<{ executor?: string; shard?: string }>();
      if (executor !== undefined || shard !== undefined) throw new Error(`leaf ${action.name()} ${executor !== undefined ? '--executor' : '--shard'} is not supported: ${reason}`);
    });
}
