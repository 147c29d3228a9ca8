import { join } from 'node:path';
import { mergeAnalyzeShards, type AnalyzeResult } from '../analyze/index.ts';
import { mergeEvalShards, type EvalResult } from '../eval/index.ts';
import { mergePruneShards, prunedFileIn, type PruneResult } from '../pruning/index.ts';
import { launchLayout, mergedOutput } from './layout.ts';
import { completedShards, requireLaunchRecord } from './record.ts';

export type MergedLaunch = { command: 'analyze'; result: AnalyzeResult } | { command: 'prune'; result: PruneResult } | { command: 'eval'; result: EvalResult };

/**
 * The merge step of a launch: every shard must have its completion marker (a shard whose job
 * failed or was cancelled has none, even when part of its run is on disk), then the shard runs are
 * merged into the launch directory (mergedOutput); each command's merge refuses shards of
 * different inputs or options.
 */
export async function mergeLaunch(dir: string, command?: string[]): Promise<MergedLaunch> {
  const record = requireLaunchRecord(dir);
  const layout = launchLayout(dir);
  const done = completedShards(dir, record.shards);
  const missing = Array.from({ length: record.shards }, (_, i) => i).filter((i) => !done.has(i));
  if (missing.length > 0)
    throw new Error(
      `cannot merge ${dir}: ${missing.map((i) => `shard ${i}/${record.shards} did not complete (no marker ${layout.marker(i)}; log ${layout.log(i)})`).join('; ')}. ` +
        `Relaunch the unfinished shards with the same leaf ${record.command} command plus --resume`,
    );
  const shardDirs = Array.from({ length: record.shards }, (_, i) => layout.shard(i));
  if (record.command === 'prune') return { command: 'prune', result: await mergePruneShards(shardDirs, prunedFileIn(dir, shardDirs[0]), command) };
  if (record.command === 'eval')
    return { command: 'eval', result: mergeEvalShards(shardDirs, { details: join(dir, 'details.jsonl'), out: mergedOutput('eval', dir).marker }) };
  return { command: 'analyze', result: await mergeAnalyzeShards(shardDirs, { out: dir, arrowFormat: record.arrowFormat }, command) };
}
