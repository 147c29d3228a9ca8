import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyzeDefaults, analyzeOptionSpecs, mergeAnalyzeShards, runAnalyze, type AnalyzeOptions } from '../lib/analyze/index.ts';
import { resolveShard } from '../lib/corpus/index.ts';
import { formatStatus, launch, launchLayout, launchStatus, mergeLaunch, type LaunchRequest } from '../lib/launch/index.ts';
import { addOptions, argvFromOptions } from '../lib/util/options.ts';
import { evalCommand } from '../bin/commands/eval.ts';
import { pruneCommand } from '../bin/commands/prune.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-launch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(root, `${name}-${counter++}`);

describe('--shard auto', () => {
  it('takes index and count from a Slurm array task', () => {
    expect(resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 2, count: 4 });
  });
  it('lets --shards override the array task count (a relaunch queues only some indices)', () => {
    expect(resolveShard('auto', 8, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '1' })).toEqual({ index: 5, count: 8 });
  });
  it('takes the index from a Kubernetes Indexed Job and the count from --shards', () => {
    expect(resolveShard('auto', 3, { JOB_COMPLETION_INDEX: '1' })).toEqual({ index: 1, count: 3 });
    expect(() => resolveShard('auto', undefined, { JOB_COMPLETION_INDEX: '1' })).toThrow(/JOB_COMPLETION_INDEX is set\) needs the shard count: add --shards N/);
  });
  it('says clearly when no scheduler set the variables, or they do not fit', () => {
    expect(() => resolveShard('auto', 4, {})).toThrow(/neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX .* is set/);
    expect(() => resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/index 4 .* is not below the shard count 4/);
    expect(() => resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/must be non-negative integers/);
    expect(() => resolveShard('1/4', 3, {})).toThrow(/names 4 shards but --shards is 3/);
    expect(resolveShard('1/4', undefined, {})).toEqual({ index: 1, count: 4 });
  });
});

const OPTIONS: AnalyzeOptions = {
  ...analyzeDefaults,
  teacher: 'data/models/teacher',
  student: 'data/models/student',
  data: 'data/synth/train-distill.jsonl',
  out: 'unused',
  limit: 8,
  batchSize: 1,
  mergeGap: 2,
  renormalize: true,
  progress: false,
};

function request(out: string, over: Partial<LaunchRequest> = {}, flags: Partial<LaunchRequest['flags']> = {}): LaunchRequest {
  const argv = argvFromOptions(analyzeOptionSpecs, { ...OPTIONS, out: undefined });
  return { command: 'analyze', out, shards: 4, resume: false, argv, arrowFormat: 'stream', flags: { executor: 'slurm', dryRun: false, cpusPerTask: 1, ...flags }, ...over };
}

describe('the job files', () => {
  it('forwards exactly the options given: commander parses the arguments back to the same options', () => {
    const argv = argvFromOptions(analyzeOptionSpecs, OPTIONS);
    expect(argv).toEqual(expect.arrayContaining(['--merge-gap', '2', '--renormalize', '--no-progress', '--batch-size', '1']));
    const parsed = addOptions(new Command('analyze'), analyzeOptionSpecs).exitOverride().parse(argv, { from: 'user' }).opts();
    expect(parsed).toEqual(OPTIONS);
  });

  it('slurm --dry-run prints the array script and the sbatch lines, and writes nothing', () => {
    const out = fresh('dry');
    const text = launch(request(out, {}, { dryRun: true, partition: 'gpu', time: '2:00:00' }));
    expect(text).toContain('#SBATCH --partition=gpu');
    expect(text).toContain('#SBATCH --time=2:00:00');
    expect(text).toMatch(/bin\/leaf\.js analyze --teacher data\/models\/teacher .* --shard auto --shards 4 --resume --out \S+\/shards\/"\$i"\n/);
    expect(text).toContain(`sbatch --parsable --array=0-3 --output=${out}/logs/shard-%a.log`);
    expect(text).toContain("'--dependency=afterok:<array job id>'");
    expect(text).toContain(`merge --launch ${out}`);
    expect(existsSync(out)).toBe(false);
  });

  it('k8s --dry-run prints an Indexed Job manifest, and k8s does not submit', () => {
    const out = fresh('k8s');
    const text = launch(request(out, {}, { executor: 'k8s', dryRun: true, image: 'registry/leaf:1', volumeClaim: 'corpus' }));
    const job = JSON.parse(text.split('==> job.json\n')[1].split('==> merge-job.json')[0]);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toBe('registry/leaf:1');
    expect(container.command[2]).toMatch(/i="\$JOB_COMPLETION_INDEX"\nleaf analyze .* --shard auto --shards 4 --resume --out /);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('corpus');
    expect(() => launch(request(out, {}, { executor: 'k8s' }))).toThrow(/--executor k8s does not submit: add --dry-run/);
    expect(existsSync(out)).toBe(false);
  });

  it('needs --shards, at least 2', () => {
    expect(() => launch(request(fresh('x'), { shards: undefined }))).toThrow(/needs the number of shards: --shards N/);
    expect(() => launch(request(fresh('x'), { shards: 1 }))).toThrow(/--shards 1: launch at least 2 shards/);
  });
});

describe('submitting (fake Slurm clients on PATH)', () => {
  let bin: string;
  let savedPath: string | undefined;
  const calls = () => (existsSync(join(bin, 'calls')) ? readFileSync(join(bin, 'calls'), 'utf8').trim().split('\n') : []);
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${join(bin, 'calls')}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const queue = (lines: string[]) => writeFileSync(join(bin, 'queue'), lines.join('\n') + '\n');

  beforeEach(() => {
    bin = fresh('bin');
    mkdirSync(bin);
    // sbatch hands out ids 11, 12, 13, ...
    tool('sbatch', `n=$(( $(cat ${bin}/next 2>/dev/null || echo 10) + 1 )); echo $n > ${bin}/next; echo "$n;cluster"`);
    tool('squeue', `cat ${bin}/queue 2>/dev/null || true`);
    tool('sacct', 'echo "Slurm accounting storage is disabled" >&2; exit 1');
    tool('scancel', 'true');
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('refuses without sbatch on PATH, before writing anything', () => {
    process.env.PATH = join(root, 'nothing-here');
    const out = fresh('nosbatch');
    expect(() => launch(request(out))).toThrow(/sbatch is not on PATH \(.*nothing-here\): --executor slurm submits with sbatch/);
    expect(existsSync(out)).toBe(false);
  });

  it('queues the array and an afterok merge; a relaunch queues only shards without a marker', () => {
    const out = fresh('launch');
    expect(launch(request(out))).toMatch(/submitted shards 0-3 of 4 as job 11 .*merge job 12/);
    expect(calls()[0]).toMatch(/^sbatch --parsable --array=0-3 .*analyze\.sbatch$/);
    expect(calls()[1]).toMatch(/^sbatch --parsable --dependency=afterok:11 .*merge\.sbatch$/);
    expect(readFileSync(join(out, 'launch', 'analyze.sbatch'), 'utf8')).toContain('--shard auto --shards 4 --resume');
    expect(() => launch(request(out))).toThrow(/holds a launch of 4 shards: add --resume/);

    const layout = launchLayout(out);
    mkdirSync(layout.markers, { recursive: true });
    for (const shard of [0, 3]) writeFileSync(layout.marker(shard), 'done\n');
    // Shard 1 still runs: a relaunch now would run it twice.
    queue(['11_1|11|1|RUNNING|None', '11_2|11|2|CANCELLED|None', '12|12|N/A|PENDING|DependencyNeverSatisfied']);
    expect(() => launch(request(out, { resume: true }))).toThrow(/shard 1\/4 is still RUNNING \(job 11_1\); wait for it or cancel it first/);

    let status = launchStatus(out);
    expect(status.shards.map((s) => s.phase)).toEqual(['done', 'active', 'failed', 'done']);
    expect(formatStatus(status)).toMatch(/shard 2\/4 .*FAILED: ended without a completion marker \(CANCELLED, job 11_2\), log .*shard-2\.log/);

    // Shard 1 failed and left squeue; sacct has no accounting storage: markers decide.
    queue(['12|12|N/A|PENDING|DependencyNeverSatisfied']);
    status = launchStatus(out);
    expect(status.shards.map((s) => s.phase)).toEqual(['done', 'failed', 'failed', 'done']);
    expect(status.note).toMatch(/sacct: Slurm accounting storage is disabled \(finished jobs are judged by their completion markers\)/);
    expect(formatStatus(status)).toMatch(/merge: PENDING \(DependencyNeverSatisfied\), job 12/);

    expect(() => launch(request(out, { resume: true, argv: [...request(out).argv, '--merge-gap', '3'] }))).toThrow(/cannot relaunch .* launched with options/);
    expect(launch(request(out, { resume: true }))).toMatch(/submitted shards 1-2 of 4 as job 13 .*merge job 14/);
    expect(calls()).toEqual(expect.arrayContaining(['scancel 12']));
    expect(calls().filter((c) => c.startsWith('sbatch')).at(-2)).toMatch(/--array=1-2 /);
    // Every shard done and the merge queued: nothing to relaunch (and no second merge).
    for (const shard of [1, 2]) writeFileSync(layout.marker(shard), 'done\n');
    queue(['14|14|N/A|PENDING|None']);
    expect(launch(request(out, { resume: true }))).toMatch(/every shard is done; merge job 14 is PENDING: nothing to relaunch/);
    expect(JSON.parse(readFileSync(layout.record, 'utf8')).submissions.map((s: { job: string; shards: number[] }) => [s.job, s.shards])).toEqual([
      ['11', [0, 1, 2, 3]],
      ['13', [1, 2]],
    ]);
  });

  it('merge --launch refuses while a shard has no completion marker, naming it and its log', async () => {
    const out = fresh('merge');
    launch(request(out));
    const layout = launchLayout(out);
    mkdirSync(layout.markers, { recursive: true });
    for (const shard of [0, 1, 3]) writeFileSync(layout.marker(shard), 'done\n');
    await expect(mergeLaunch(out)).rejects.toThrow(`cannot merge ${out}: shard 2/4 did not complete (no marker ${layout.marker(2)}; log ${layout.log(2)})`);
  });
});

describe('merging shards', () => {
  it('shards of a length-bucketed run (batch 2) merge to the bytes of one process', async () => {
    // Round robin put other neighbours in a batch than one process does, and scores moved by ~1e-7.
    const options = { ...OPTIONS, batchSize: 2, limit: 40, mergeGap: 0, renormalize: false };
    const whole = await runAnalyze({ ...options, out: fresh('whole') });
    const dirs = [fresh('shard'), fresh('shard')];
    for (const [i, out] of dirs.entries()) {
      const shard = await runAnalyze({ ...options, out, shard: `${i}/2` });
      expect(shard.manifest.shard).toEqual({ index: i, count: 2, block: 32 });
      expect(shard.manifest.counts.done).toBe([32, 8][i]);
    }
    const merged = await mergeAnalyzeShards(dirs, { out: fresh('merged'), arrowFormat: 'stream' });
    expect(readFileSync(merged.attributions!).equals(readFileSync(whole.attributions!))).toBe(true);
  }, 180_000);

  it('refuses shards analysed with different options', async () => {
    const dirs = [fresh('shard'), fresh('shard')];
    await runAnalyze({ ...OPTIONS, limit: 4, out: dirs[0], shard: '0/2' });
    await runAnalyze({ ...OPTIONS, limit: 4, out: dirs[1], shard: '1/2', mergeGap: 0 });
    await expect(mergeAnalyzeShards(dirs, { out: fresh('merged'), arrowFormat: 'stream' })).rejects.toThrow(/come from different runs \(configuration fingerprint/);
  }, 120_000);
});

describe('prune --verify and eval on a cluster', () => {
  const run = (command: Command, args: string[]) => command.exitOverride().parseAsync(args, { from: 'user' });
  const printed = async (command: Command, args: string[]) => {
    const write = process.stdout.write;
    let text = '';
    process.stdout.write = ((chunk: string) => ((text += chunk), true)) as typeof process.stdout.write;
    try {
      await run(command, args);
    } finally {
      process.stdout.write = write;
    }
    return text;
  };
  // The commands refuse input paths that do not exist (before any launch).
  const inputs = fresh('inputs');
  const [a, b, d, m, t, st] = ['a', 'b', 'd', 'm', 't', 's'].map((name) => join(inputs, name));
  mkdirSync(inputs, { recursive: true });
  for (const file of [a, b, d, m, t, st]) writeFileSync(file, '');
  const quoted = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  it('--dry-run writes the shard lines of prune --verify and eval', async () => {
    const prune = await printed(pruneCommand, ['--attributions', a, '--data', b, '--out', fresh('prune'), '--verify', '--teacher', t, '--student', st, '--executor', 'slurm', '--shards', '3', '--dry-run']);
    expect(prune).toMatch(
      new RegExp(`bin/leaf\\.js prune --attributions ${quoted(a)} --data ${quoted(b)} --verify --teacher ${quoted(t)} --student ${quoted(st)} --shard auto --shards 3 --resume --out \\S+/shards/"\\$i"\n`),
    );
    const evalOut = fresh('eval');
    const evaluation = await printed(evalCommand, ['--model', m, '--data', d, '--checker', 'exact', '--out', evalOut, '--executor', 'slurm', '--shards', '2', '--dry-run']);
    expect(evaluation).toMatch(new RegExp(`bin/leaf\\.js eval --model ${quoted(m)} --data ${quoted(d)} --checker exact --shard auto --shards 2 --resume --out \\S+/shards/"\\$i"\n`));
    expect(evaluation).toContain(`merge --launch ${evalOut}`);
    expect(existsSync(evalOut)).toBe(false);
  });

  it('refuses what a launch of them cannot do', async () => {
    await expect(run(pruneCommand, ['--attributions', a, '--data', b, '--out', 'c', '--executor', 'slurm', '--shards', '2', '--dry-run'])).rejects.toThrow(/--executor applies with --verify: without it prune takes seconds/);
    await expect(run(evalCommand, ['--model', m, '--data', d, '--checker', 'exact', '--out', 'o', '--details', 'x', '--executor', 'slurm', '--shards', '2', '--dry-run'])).rejects.toThrow(/--details with --executor: the merge writes the details to DIR\/details\.jsonl/);
    await expect(run(evalCommand, ['--model', m, '--data', d, '--checker', 'exact', '--executor', 'slurm', '--shards', '2', '--dry-run'])).rejects.toThrow(/--executor needs --out DIR/);
    await expect(run(evalCommand, ['--model', m, '--data', d, '--checker', 'exact', '--shard', '0/2'])).rejects.toThrow(/--shard needs --out DIR/);
    await expect(run(evalCommand, ['--model', m, '--data', d, '--checker', 'exact', '--shards', '2'])).rejects.toThrow(/--shards applies with --shard auto or --executor/);
    // Neither a checker nor attributions: refused before a launch, and by a shard before any work.
    const nothing = /nothing to measure: give --checker NAME/;
    await expect(run(evalCommand, ['--model', m, '--data', d, '--out', fresh('eval'), '--executor', 'slurm', '--shards', '2', '--dry-run'])).rejects.toThrow(nothing);
    await expect(run(evalCommand, ['--model', m, '--data', d, '--shard', '0/2', '--out', fresh('eval')])).rejects.toThrow(nothing);
  });
});
