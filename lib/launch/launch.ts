import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseNumber, type OptionSpecs } from '../util/options.ts';
import { describeExecutors, executorNames, getExecutor } from './executors/index.ts';
import { launchLayout, mergedOutput } from './layout.ts';
import { completedShards, readLaunchRecord, writeLaunchRecord } from './record.ts';
import { isActive, isQueued } from './status.ts';
import { arraySpec } from './shell.ts';
import type { JobFiles, LaunchPlan, LaunchRecord, LaunchSettings } from './types.ts';

/** The launcher's flags, added to every command that can be launched on a cluster. */
export type LaunchFlags = Omit<LaunchSettings, 'executor' | 'shards'> & { executor?: string };

export const launchDefaults = { dryRun: false, cpusPerTask: 1 } as const satisfies Partial<LaunchFlags>;

export const launchOptionSpecs: OptionSpecs<LaunchFlags> = {
  executor: { flags: '--executor <name>', description: `run the shards as cluster jobs instead of in this process (with --shards N): ${describeExecutors()}`, choices: executorNames() },
  dryRun: { flags: '--dry-run', description: 'with --executor: print the job files and submit commands, write and submit nothing', default: launchDefaults.dryRun },
  partition: { flags: '--partition <name>', description: 'with --executor slurm: partition of every job' },
  time: { flags: '--time <limit>', description: 'with --executor slurm: time limit per job (sbatch --time)' },
  cpusPerTask: { flags: '--cpus-per-task <n>', description: 'with --executor: CPUs per shard (also its BLAS threads)', default: launchDefaults.cpusPerTask, parse: parseNumber('--cpus-per-task', { integer: true, min: 1 }) },
  mem: { flags: '--mem <size>', description: 'with --executor: memory per shard (e.g. 16G)' },
  image: { flags: '--image <ref>', description: 'with --executor k8s: container image with leaf on PATH' },
  volumeClaim: { flags: '--volume-claim <name>', description: 'with --executor k8s: PersistentVolumeClaim holding the data and --out, mounted at the working directory' },
};

/** Launcher flags given without --executor would silently do nothing: an error instead. */
export function checkNoLaunchFlags(flags: LaunchFlags): void {
  for (const [key, spec] of Object.entries(launchOptionSpecs) as [keyof LaunchFlags, { flags: string; default?: unknown }][])
    if (key !== 'executor' && flags[key] !== undefined && flags[key] !== spec.default) throw new Error(`${spec.flags.split(' ')[0]} only applies with --executor`);
}

export interface LaunchRequest {
  command: LaunchPlan['command'];
  /** The command's --out: the launch directory. */
  out: string;
  shards?: number;
  /** Relaunch: submit the shards of the launch in --out that have no completion marker. */
  resume: boolean;
  /** The command's own options as arguments, without --out, --shard, --shards and --resume. */
  argv: string[];
  arrowFormat: LaunchPlan['arrowFormat'];
  flags: LaunchFlags;
}

function sameLaunch(record: LaunchRecord, plan: LaunchPlan): void {
  const differ = (what: string, was: unknown, now: unknown) =>
    new Error(`cannot relaunch ${plan.dir}: it was launched with ${what} ${JSON.stringify(was)}, now ${JSON.stringify(now)}; use the same command and options, or another --out`);
  if (record.command !== plan.command) throw differ('command', record.command, plan.command);
  if (record.shards !== plan.shards) throw differ('--shards', record.shards, plan.shards);
  if (record.cwd !== plan.cwd) throw differ('working directory', record.cwd, plan.cwd);
  if (JSON.stringify(record.argv) !== JSON.stringify(plan.argv)) throw differ('options', record.argv.join(' '), plan.argv.join(' '));
  if (record.arrowFormat !== plan.arrowFormat) throw differ('--arrow-format', record.arrowFormat, plan.arrowFormat);
}

/**
 * Launch a sharded command on a cluster: write the job files under OUT/launch, queue one task per
 * shard and a merge job after them, and record the submission. With `resume`, only shards without
 * a completion marker are queued again (after checking none of them is still queued or running,
 * and cancelling the earlier merge job that waits on tasks that failed). Returns what to print.
 */
export function launch(request: LaunchRequest): string {
  const { flags } = request;
  if (!flags.executor) throw new Error('no --executor given');
  if (request.shards === undefined) throw new Error(`--executor ${flags.executor} needs the number of shards: --shards N`);
  if (request.shards < 2) throw new Error(`--executor ${flags.executor} --shards ${request.shards}: launch at least 2 shards (one shard is one plain job: sbatch --wrap 'npx leaf ${request.command} ...')`);
  const executor = getExecutor(flags.executor);
  const dir = resolve(request.out);
  const plan: LaunchPlan = {
    command: request.command,
    dir,
    cwd: process.cwd(),
    shards: request.shards,
    argv: request.argv,
    arrowFormat: request.arrowFormat,
    settings: { ...launchDefaults, ...flags, executor: executor.name, shards: request.shards },
  };
  const layout = launchLayout(dir);
  const rendered = executor.render(plan);
  const files: JobFiles = { shards: join(layout.files, rendered.roles.shards), ...(rendered.roles.merge ? { merge: join(layout.files, rendered.roles.merge) } : {}) };
  // A record without submissions is a launch whose submission failed: starting again needs no --resume.
  const existing = readLaunchRecord(dir);
  const launched = existing !== undefined && existing.submissions.length > 0;
  if (existing) sameLaunch(existing, plan);
  const done = existing ? completedShards(dir, plan.shards) : new Set<number>();
  const todo = Array.from({ length: plan.shards }, (_, i) => i).filter((i) => !done.has(i));
  const allMarked = `${dir}: every shard has its completion marker; merge them with: leaf merge --launch ${dir}\n`;
  if (flags.dryRun) return todo.length > 0 ? executor.dryRun(plan, files, todo) : allMarked;

  executor.checkSubmit();
  if (launched && !request.resume) throw new Error(`${dir} holds a launch of ${plan.shards} shards: add --resume to relaunch the shards that did not finish, or choose another --out`);
  const merged = mergedOutput(plan.command, dir);
  if (!existing && (existsSync(join(dir, 'run.json')) || existsSync(merged.marker)))
    throw new Error(`${dir} holds the output of a run that was not launched with --executor; choose another --out`);
  if (existsSync(merged.marker)) return `${dir}: every shard is done and merged (${merged.output}); nothing to relaunch\n`;
  if (launched && todo.length === 0) {
    const merge = existing.submissions.at(-1)!.merge;
    const job = executor.query(existing).merges.get(merge);
    return isActive(job) ? `${dir}: every shard is done; merge job ${merge} is ${job!.state}: nothing to relaunch\n` : allMarked;
  }

  const record: LaunchRecord = existing
    ? { ...existing, settings: plan.settings }
    : { format: 'leaf-launch/1', command: plan.command, executor: executor.name, shards: plan.shards, cwd: plan.cwd, argv: plan.argv, arrowFormat: plan.arrowFormat, settings: plan.settings, submissions: [] };
  if (launched) {
    const view = executor.query(existing);
    const busy = todo.filter((shard) => isActive(view.shards.get(shard)));
    if (busy.length > 0)
      throw new Error(
        `cannot relaunch ${dir}: ${busy.map((s) => `shard ${s}/${plan.shards} is still ${view.shards.get(s)!.state} (job ${view.shards.get(s)!.id})`).join(', ')}; wait for it or cancel it first`,
      );
    // An earlier merge job waits on tasks that failed: it can never run, and the new one replaces it.
    executor.cancel([...view.merges.values()].filter(isQueued).map((job) => job.id));
  }
  for (const [name, text] of Object.entries(rendered.files)) writeFileAtomic(join(layout.files, name), text);
  mkdirSync(layout.logs, { recursive: true });
  writeLaunchRecord(dir, record);
  const submission = executor.submit(plan, files, todo);
  record.submissions.push(submission);
  writeLaunchRecord(dir, record);
  return (
    `submitted shard${todo.length > 1 ? 's' : ''} ${arraySpec(todo)} of ${plan.shards} as job ${submission.job} (logs ${layout.logs}/shard-<i>.log), ` +
    `merge job ${submission.merge} after them into ${dir}\nfollow it with: leaf status ${dir}\n`
  );
}
