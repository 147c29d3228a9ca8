import { existsSync } from 'node:fs';
import { runProgress } from '../corpus/index.ts';
import { getExecutor } from './executors/index.ts';
import { launchLayout, mergedOutput } from './layout.ts';
import { completedShards, requireLaunchRecord } from './record.ts';
import type { JobState, LaunchRecord } from './types.ts';

/** Scheduler states of a job that has not ended. */
const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT']);
/** Queued or running: the scheduler still holds it (possibly waiting for ever on a failed dependency). */
export const isQueued = (job: JobState | undefined): boolean => job !== undefined && ACTIVE.has(job.state);
/** Queued or running, and able to run: a job whose dependency failed waits for ever (Slurm's DependencyNeverSatisfied). */
export const isActive = (job: JobState | undefined): boolean => isQueued(job) && job!.reason !== 'DependencyNeverSatisfied';

export interface ShardStatus {
  shard: number;
  /** done: completion marker; active: queued or running; failed: ended without a marker; unsubmitted: never queued. */
  phase: 'done' | 'active' | 'failed' | 'unsubmitted';
  job?: JobState;
  /** Samples the shard's run has committed, of its share of the corpus. */
  samples?: { done: number; total: number };
  log: string;
}

export interface LaunchStatus {
  dir: string;
  record: LaunchRecord;
  shards: ShardStatus[];
  /** The newest merge job, as the scheduler reports it. */
  merge?: JobState;
  /** The merged output is written (its last file, mergedOutput's marker, exists). */
  merged: boolean;
  note?: string;
}

/** Where every shard of the launch in `dir` stands: markers first, then what the scheduler says. */
export function launchStatus(dir: string): LaunchStatus {
  const record = requireLaunchRecord(dir);
  const layout = launchLayout(dir);
  const done = completedShards(dir, record.shards);
  const merged = existsSync(mergedOutput(record.command, dir).marker);
  const submitted = new Set(record.submissions.flatMap((s) => s.shards));
  const needsQueue = record.submissions.length > 0 && (!merged || done.size < record.shards);
  const view = needsQueue ? getExecutor(record.executor).query(record) : undefined;
  const shards = Array.from({ length: record.shards }, (_, shard): ShardStatus => {
    const job = view?.shards.get(shard);
    const progress = runProgress(layout.shard(shard));
    const phase = done.has(shard) ? 'done' : isActive(job) ? 'active' : submitted.has(shard) ? 'failed' : 'unsubmitted';
    return { shard, phase, ...(job ? { job } : {}), ...(progress ? { samples: { done: progress.done, total: progress.total } } : {}), log: layout.log(shard) };
  });
  const lastMerge = record.submissions.at(-1)?.merge;
  const merge = lastMerge ? view?.merges.get(lastMerge) : undefined;
  return { dir, record, shards, ...(merge ? { merge } : {}), merged, ...(view?.note ? { note: view.note } : {}) };
}

/** Nothing of the launch is queued or running any more. */
export const settled = (status: LaunchStatus): boolean => !status.shards.some((s) => s.phase === 'active') && !isActive(status.merge);

const describeJob = (job?: JobState) => (job ? `${job.state}${job.reason ? ` (${job.reason})` : ''}, job ${job.id}` : '');

export function formatStatus(status: LaunchStatus): string {
  const { record, shards } = status;
  const count = (phase: ShardStatus['phase']) => shards.filter((s) => s.phase === phase).length;
  const lines = [
    `leaf ${record.command} on ${record.executor}, ${record.shards} shards in ${status.dir}: ${count('done')} done, ${count('active')} queued or running, ${count('failed')} ended without finishing${count('unsubmitted') ? `, ${count('unsubmitted')} not submitted` : ''}`,
  ];
  for (const s of shards) {
    const samples = s.samples ? `${s.samples.done}/${s.samples.total} samples` : 'not started';
    const what = s.phase === 'done' ? 'done' : s.phase === 'active' ? describeJob(s.job) : s.phase === 'failed' ? `FAILED: ended without a completion marker${s.job ? ` (${describeJob(s.job)})` : ''}, log ${s.log}` : 'not submitted';
    lines.push(`  shard ${s.shard}/${record.shards}  ${samples.padEnd(18)} ${what}`);
  }
  if (status.merged) lines.push(`  merged: ${mergedOutput(record.command, status.dir).output}`);
  else if (status.merge) lines.push(`  merge: ${describeJob(status.merge)}`);
  const failed = shards.filter((s) => s.phase === 'failed' || s.phase === 'unsubmitted');
  if (failed.length > 0 && settled(status))
    lines.push(`  relaunch the unfinished shards: the same leaf ${record.command} command with --resume (see ${launchLayout(status.dir).record})`);
  if (status.note) lines.push(`  note: ${status.note}`);
  return `${lines.join('\n')}\n`;
}
