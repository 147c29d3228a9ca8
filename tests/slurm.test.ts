import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgress } from '../lib/corpus/index.ts';
import { launchLayout } from '../lib/launch/index.ts';
import { startSlurmCluster, type SlurmCluster } from './helpers/slurm-cluster.ts';

// A 4-shard analyze of the shipped data as a Slurm job array on a real single-node cluster: one
// shard is cancelled, the merge refuses, a relaunch queues only that shard, and the merged
// attributions equal a one-process run's byte for byte. Missing Slurm fails here; it never skips.
const LEAF = resolve('bin/leaf.js');
const SAMPLES = 16;
const ANALYZE = [
  'analyze',
  '--teacher', 'data/models/teacher',
  '--student', 'data/models/student',
  '--data', 'data/synth/train-distill.jsonl',
  '--limit', String(SAMPLES),
  // One sample per batch: shards go round robin (4 samples each); with larger batches a shard takes
  // whole windows of batch × 16 samples, which 16 samples would not fill.
  '--batch-size', '1',
  '--no-progress',
];

let cluster: SlurmCluster | undefined;
let work: string;

function leaf(args: string[]) {
  const result = spawnSync(process.execPath, [LEAF, ...args], { env: cluster!.env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

function squeue(): string {
  return spawnSync('squeue', ['-h', '-r', '--states=all', '-o', '%i %T %r'], { env: cluster!.env, encoding: 'utf8' }).stdout;
}

// The daemons stop and the temp dirs go whatever happens in the test.
afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('leaf analyze --executor slurm on a real cluster', () => {
  it('runs 4 shards as a job array, relaunches a cancelled shard and merges to the one-process bytes', async () => {
    // Started in the test, not in a hook: without Slurm (or root) this test fails, it is never skipped.
    work = mkdtempSync(join(tmpdir(), 'leaf-slurm-run-'));
    cluster = await startSlurmCluster();
    const one = join(work, 'one');
    const reference = leaf([...ANALYZE, '--out', one]);
    expect(reference.status, reference.output).toBe(0);

    const dir = join(work, 'cluster');
    const launched = leaf([...ANALYZE, '--out', dir, '--executor', 'slurm', '--shards', '4']);
    expect(launched.status, launched.output).toBe(0);
    const [, job, merge] = /shards 0-3 of 4 as job (\d+) .*merge job (\d+)/.exec(launched.stdout) ?? [];
    expect(job, launched.stdout).toBeDefined();
    // Cancelled once running (a pending array task that is cancelled leaves no trace in squeue), and
    // only once its leaf process has opened the shard's run: a cancel that reaches a task whose batch
    // script is still starting can be lost, and the shard then finishes. Suspended first, so that
    // its 4 samples cannot all be done before the cancel lands.
    const started = Date.now();
    while (!(new RegExp(`^${job}_2 RUNNING`, 'm').test(squeue()) && runProgress(launchLayout(dir).shard(2)))) {
      expect(Date.now() - started, squeue()).toBeLessThan(120_000);
      spawnSync('sleep', ['0.1']);
    }
    const suspended = spawnSync('scontrol', ['suspend', `${job}_2`], { env: cluster.env, encoding: 'utf8' });
    expect(suspended.status, suspended.stderr).toBe(0);
    const cancelled = spawnSync('scancel', [`${job}_2`], { env: cluster.env, encoding: 'utf8' });
    expect(cancelled.status, cancelled.stderr).toBe(0);

    const first = leaf(['status', dir, '--wait', '--interval', '0.5']);
    expect(first.status, first.output).toBe(1);
    expect(first.stdout).toMatch(/3 done, 0 queued or running, 1 ended without finishing/);
    expect(first.stdout).toMatch(new RegExp(`shard 2/4 .*FAILED.*CANCELLED.*job ${job}_2`));
    expect(first.stdout).toMatch(/merge: PENDING \(DependencyNeverSatisfied\)/);
    const layout = launchLayout(dir);
    expect([0, 1, 2, 3].map((i) => existsSync(layout.marker(i)))).toEqual([true, true, false, true]);

    const refused = leaf(['merge', '--launch', dir]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`shard 2/4 did not complete (no marker ${layout.marker(2)}; log ${layout.log(2)})`);
    expect(existsSync(join(dir, 'attributions.arrow'))).toBe(false);

    const again = leaf([...ANALYZE, '--out', dir, '--executor', 'slurm', '--shards', '4']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/holds a launch of 4 shards: add --resume/);

    const relaunched = leaf([...ANALYZE, '--out', dir, '--executor', 'slurm', '--shards', '4', '--resume']);
    expect(relaunched.status, relaunched.output).toBe(0);
    const [, job2, merge2] = /submitted shard 2 of 4 as job (\d+) .*merge job (\d+)/.exec(relaunched.stdout) ?? [];
    expect(job2, relaunched.stdout).toBeDefined();
    const queue = squeue();
    // The first merge job could never run: the relaunch cancelled it. Only shard 2 was queued again.
    expect(queue).toMatch(new RegExp(`^${merge} CANCELLED`, 'm'));
    expect(queue.split('\n').filter((line) => line.startsWith(`${job2}_`)).map((line) => line.split(' ')[0])).toEqual([`${job2}_2`]);

    const second = leaf(['status', dir, '--wait', '--interval', '0.5']);
    expect(second.status, `${second.output}\n${readFileSync(layout.mergeLog, 'utf8')}`).toBe(0);
    expect(second.stdout).toMatch(/4 done, 0 queued or running, 0 ended without finishing/);
    expect(second.stdout).toContain(`merged: ${join(dir, 'attributions.arrow')}`);
    expect(squeue()).toMatch(new RegExp(`^${merge2} COMPLETED`, 'm'));

    expect(readFileSync(join(dir, 'attributions.arrow')).equals(readFileSync(join(one, 'attributions.arrow')))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.counts).toMatchObject({ done: SAMPLES, samples: SAMPLES, rows: SAMPLES });
    // The cancelled attempt and the relaunch append to one log per shard.
    expect(readFileSync(layout.log(2), 'utf8')).toMatch(/leaf: shard 2\/4/);
  }, 600_000);
});
