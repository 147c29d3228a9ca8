import { join } from 'node:path';
import type { LaunchCommand } from './types.ts';

/**
 * A launch directory DIR (the command's --out):
 *
 *   DIR/<merged output>                         written by the merge job (see mergedOutput)
 *   DIR/shards/<i>/                             shard i's run directory (--shard i/n --resume)
 *   DIR/logs/shard-<i>.log, DIR/logs/merge.log  what the jobs printed
 *   DIR/launch/launch.json                      the plan and every submission (LaunchRecord)
 *   DIR/launch/done/<i>                         completion marker: shard i finished (exit 0)
 *   DIR/launch/<job files>                      what the executor submitted
 *
 * A shard's marker is written by its job after the command exited 0 and only then, so a relaunch
 * redoes exactly the shards without one (resuming their committed batches).
 */
export const launchLayout = (dir: string) => ({
  record: join(dir, 'launch', 'launch.json'),
  files: join(dir, 'launch'),
  markers: join(dir, 'launch', 'done'),
  marker: (shard: number) => join(dir, 'launch', 'done', String(shard)),
  shards: join(dir, 'shards'),
  shard: (shard: number) => join(dir, 'shards', String(shard)),
  logs: join(dir, 'logs'),
  log: (shard: number) => join(dir, 'logs', `shard-${shard}.log`),
  mergeLog: join(dir, 'logs', 'merge.log'),
});

/**
 * What the merge job writes into the launch directory: `marker` is written last (its presence
 * means merged), `output` is what to show the user. prune's dataset is DIR/pruned.<format>,
 * named in summary.json; eval writes DIR/eval.json and the per-sample DIR/details.jsonl.
 */
export function mergedOutput(command: LaunchCommand, dir: string): { marker: string; output: string } {
  if (command === 'analyze') return { marker: join(dir, 'manifest.json'), output: join(dir, 'attributions.arrow') };
  if (command === 'prune') return { marker: join(dir, 'summary.json'), output: join(dir, 'summary.json') };
  return { marker: join(dir, 'eval.json'), output: join(dir, 'eval.json') };
}
