/** What one launch of a sharded command on a cluster is, and what its executor must provide. */

/** Scheduler settings from the command line (`--executor`, `--shards`, `--partition`, ...). */
export interface LaunchSettings {
  executor: string;
  shards: number;
  dryRun: boolean;
  partition?: string;
  time?: string;
  cpusPerTask: number;
  mem?: string;
  image?: string;
  volumeClaim?: string;
}

/** The commands that run sharded on a cluster. */
export type LaunchCommand = 'analyze' | 'prune' | 'eval';

/** Everything needed to write a launch's job files: where, what every shard runs, and how. */
export interface LaunchPlan {
  /** The sharded command. */
  command: LaunchCommand;
  /** The launch directory (absolute): merged output, shards/, logs/, launch/. */
  dir: string;
  /** Working directory of every job: relative paths in `argv` resolve against it. */
  cwd: string;
  shards: number;
  /** The command's options, without --out, --shard, --shards and --resume (the launcher adds those). */
  argv: string[];
  /** Encoding of the merged Arrow file. */
  arrowFormat: 'stream' | 'file';
  settings: LaunchSettings;
}

/** One submission: the shards it ran and the scheduler's job ids. */
export interface Submission {
  at: string;
  shards: number[];
  /** Array job (Slurm) holding one task per shard. */
  job: string;
  /** The merge job, queued to run once every task succeeded. */
  merge: string;
}

/** DIR/launch/launch.json: the plan plus every submission, newest last. */
export interface LaunchRecord {
  format: 'leaf-launch/1';
  command: LaunchPlan['command'];
  executor: string;
  shards: number;
  cwd: string;
  argv: string[];
  arrowFormat: 'stream' | 'file';
  settings: LaunchSettings;
  submissions: Submission[];
}

/** A job as the scheduler reports it. */
export interface JobState {
  /** Scheduler's id of the job or task, e.g. 12_3. */
  id: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... */
  state: string;
  /** Why it is pending (e.g. Dependency, DependencyNeverSatisfied), when the scheduler says. */
  reason?: string;
}

/** The scheduler's view of a launch: shard tasks by shard index, and merge jobs by id. */
export interface QueueView {
  shards: Map<number, JobState>;
  merges: Map<string, JobState>;
  /** Set when part of the view could not be had (e.g. "sacct: accounting storage is disabled"). */
  note?: string;
}

/** Paths of the job files an executor rendered, by role. */
export interface JobFiles {
  /** The script or manifest that runs one shard. */
  shards: string;
  /** The script that merges the shards (absent where the executor only prints a manifest). */
  merge?: string;
}

/** One scheduler leaf can launch on. Adding one = a file in lib/launch/executors/ plus its import line. */
export interface Executor {
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Job files by file name (written under DIR/launch/), for the shards and the merge. */
  render(plan: LaunchPlan): { files: Record<string, string>; roles: { shards: string; merge?: string } };
  /** What --dry-run prints: the job files and the commands that would submit them. */
  dryRun(plan: LaunchPlan, files: JobFiles, shards: number[]): string;
  /** Throws, before anything is written, when this machine cannot submit (e.g. no sbatch on PATH). */
  checkSubmit(): void;
  /** Queue `shards` and a merge job after them; throws when the scheduler cannot be reached. */
  submit(plan: LaunchPlan, files: JobFiles, shards: number[]): Submission;
  /** The scheduler's view of this launch's jobs (those it still knows). */
  query(record: LaunchRecord): QueueView;
  /** Cancel jobs of this launch (a merge job left waiting on tasks that failed). */
  cancel(jobs: string[]): void;
}
