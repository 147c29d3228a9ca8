import { join } from 'node:path';

/**
 * A launch directory DIR (the command's --out):
 *
 *   DIR/attributions.arrow, DIR/manifest.json   the merged output, written by the merge job
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
