import { launchLayout } from '../layout.ts';
import { findOnPath, runTool, runToolOrFail } from '../commands.ts';
import { arraySpec, localLeaf, mergeLine, shardTaskLines, shellQuote } from '../shell.ts';
import type { Executor, JobFiles, JobState, LaunchPlan, LaunchRecord, QueueView, Submission } from '../types.ts';
import { registerExecutor } from './registry.ts';

function directives(plan: LaunchPlan, name: string): string[] {
  const { partition, time, mem, cpusPerTask } = plan.settings;
  return [
    `#SBATCH --job-name=${name}`,
    `#SBATCH --cpus-per-task=${cpusPerTask}`,
    ...(partition ? [`#SBATCH --partition=${partition}`] : []),
    ...(time ? [`#SBATCH --time=${time}`] : []),
    ...(mem ? [`#SBATCH --mem=${mem}`] : []),
  ];
}

// Output, working directory, array and dependency go on sbatch's command line: paths there need
// no quoting rules of #SBATCH lines, and a relaunch changes only --array.
function shardArgs(plan: LaunchPlan, files: JobFiles, shards: number[]): string[] {
  const layout = launchLayout(plan.dir);
  return ['--parsable', `--array=${arraySpec(shards)}`, `--output=${layout.logs}/shard-%a.log`, '--open-mode=append', `--chdir=${plan.cwd}`, files.shards];
}

function mergeArgs(plan: LaunchPlan, files: JobFiles, after: string): string[] {
  return ['--parsable', `--dependency=afterok:${after}`, `--output=${launchLayout(plan.dir).mergeLog}`, '--open-mode=append', `--chdir=${plan.cwd}`, files.merge!];
}

const jobId = (parsable: string) => parsable.trim().split(';')[0];

/** Terminal states sacct/squeue report with a suffix ("CANCELLED by 0"). */
const stateWord = (state: string) => state.trim().split(/\s+/)[0];

function squeueView(record: LaunchRecord): QueueView {
  const arrays = new Map(record.submissions.map((s, order) => [s.job, order]));
  const merges = new Set(record.submissions.map((s) => s.merge));
  const view: QueueView = { shards: new Map(), merges: new Map() };
  const order = new Map<number, number>();
  const out = runToolOrFail('squeue', ['-h', '-r', '--states=all', '-o', '%i|%F|%K|%T|%r'], 'showing the launch\'s jobs');
  for (const line of out.split('\n').filter(Boolean)) {
    const [id, arrayJob, task, state, reason] = line.split('|');
    const job: JobState = { id, state: stateWord(state), ...(reason && reason !== 'None' ? { reason } : {}) };
    const submission = arrays.get(arrayJob);
    if (submission !== undefined && /^\d+$/.test(task)) {
      const shard = Number(task);
      // The newest submission of a shard is the one that counts.
      if ((order.get(shard) ?? -1) <= submission) {
        order.set(shard, submission);
        view.shards.set(shard, job);
      }
    } else if (merges.has(id)) view.merges.set(id, job);
  }
  return view;
}

/** Jobs squeue has forgotten: sacct knows them when the cluster keeps accounting. */
function addSacct(record: LaunchRecord, view: QueueView): void {
  const newest = new Map<number, string>();
  for (const s of record.submissions) for (const shard of s.shards) newest.set(shard, s.job);
  const missing = [...newest].filter(([shard]) => !view.shards.has(shard));
  const lastMerge = record.submissions.at(-1)?.merge;
  if (missing.length === 0 && (!lastMerge || view.merges.has(lastMerge))) return;
  const ids = [...new Set([...missing.map(([, job]) => job), ...(lastMerge ? [lastMerge] : [])])];
  const result = runTool('sacct', ['-n', '-P', '-X', '-j', ids.join(','), '-o', 'JobID,State'], 'showing finished jobs');
  if (result.status !== 0) {
    view.note = `sacct: ${(result.stderr || result.stdout).trim()} (finished jobs are judged by their completion markers)`;
    return;
  }
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [id, state] = line.split('|');
    const match = /^(\d+)_(\d+)$/.exec(id);
    if (match && newest.get(Number(match[2])) === match[1] && !view.shards.has(Number(match[2]))) view.shards.set(Number(match[2]), { id, state: stateWord(state) });
    else if (id === lastMerge && !view.merges.has(id)) view.merges.set(id, { id, state: stateWord(state) });
  }
}

const slurm: Executor = {
  name: 'slurm',
  description: 'a Slurm job array (one task per shard) and a merge job after it (afterok), submitted with sbatch',
  render(plan) {
    const leaf = localLeaf();
    const threads = 'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}" OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"';
    const shardsScript = [
      '#!/bin/bash',
      ...directives(plan, `leaf-${plan.command}`),
      `# Written by leaf ${plan.command} --executor slurm: one array task per shard of ${plan.shards}; the launcher submits it with`,
      '# sbatch --array=<shards without a completion marker> --output=<DIR>/logs/shard-%a.log --chdir=<cwd>.',
      threads,
      `echo "leaf: shard $SLURM_ARRAY_TASK_ID/${plan.shards}, job \${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID} on $(hostname), $(date -u +%FT%TZ)"`,
      ...shardTaskLines(plan, leaf, '"$SLURM_ARRAY_TASK_ID"', '${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} $(date -u +%FT%TZ)'),
      '',
    ].join('\n');
    const mergeScript = [
      '#!/bin/bash',
      ...directives(plan, `leaf-${plan.command}-merge`),
      '# Runs once every shard task succeeded (sbatch --dependency=afterok:<array job>).',
      threads,
      'set -euo pipefail',
      mergeLine(plan, leaf),
      '',
    ].join('\n');
    return { files: { [`${plan.command}.sbatch`]: shardsScript, 'merge.sbatch': mergeScript }, roles: { shards: `${plan.command}.sbatch`, merge: 'merge.sbatch' } };
  },
  dryRun(plan, files, shards) {
    const rendered = this.render(plan).files;
    return [
      ...Object.entries(rendered).flatMap(([name, text]) => [`==> ${name}`, text]),
      '==> submitted with',
      ['sbatch', ...shardArgs(plan, files, shards)].map(shellQuote).join(' '),
      ['sbatch', ...mergeArgs(plan, files, '<array job id>')].map(shellQuote).join(' '),
      '',
    ].join('\n');
  },
  checkSubmit() {
    if (!findOnPath('sbatch'))
      throw new Error(`sbatch is not on PATH (${process.env.PATH ?? ''}): --executor slurm submits with sbatch; run on a Slurm login node, or add --dry-run to print the job scripts`);
  },
  submit(plan, files, shards): Submission {
    const job = jobId(runToolOrFail('sbatch', shardArgs(plan, files, shards), `submitting the ${plan.command} shards`));
    let merge: string;
    try {
      merge = jobId(runToolOrFail('sbatch', mergeArgs(plan, files, job), 'submitting the merge job'));
    } catch (error) {
      throw new Error(`${(error as Error).message}; the shards are queued as job ${job}: when they are done, run leaf merge --launch ${plan.dir}`);
    }
    return { at: new Date().toISOString(), shards, job, merge };
  },
  query(record) {
    const view = squeueView(record);
    addSacct(record, view);
    return view;
  },
  cancel(jobs) {
    if (jobs.length > 0) runToolOrFail('scancel', jobs, 'cancelling a merge job that can no longer run');
  },
};

registerExecutor(slurm);
