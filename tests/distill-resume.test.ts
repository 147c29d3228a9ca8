import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { distill, readMetrics, type TrainMetrics, type ValidationMetrics } from '../lib/distill/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { randomRows, writeJsonl, writeTinyPair } from './distill-fixtures.ts';

const leaf = fileURLToPath(new URL('../bin/leaf.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'leaf-distill-resume-'));
let args: (out: string) => string[];
let options: (out: string) => Parameters<typeof distill>[0];

function run(extra: string[]): { child: ChildProcess; done: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [leaf, 'distill', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, stderr: () => stderr };
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  const pair = writeTinyPair(root);
  const data = writeJsonl(join(root, 'train.jsonl'), randomRows(32, 1));
  const valData = writeJsonl(join(root, 'val.jsonl'), randomRows(6, 2, 'v'));
  args = (out) => [
    '--teacher', pair.teacher, '--student', pair.student, '--data', data, '--val-data', valData, '--out', out,
    '--lr', '3e-3', '--warmup-steps', '3', '--batch-size', '2', '--effective-batch', '4', '--max-steps', '16',
    '--save-every', '3', '--eval-every', '5', '--backend', 'cpu', '--no-progress',
  ];
  // The same run in this process (same backend, so the same arithmetic as the CLI's).
  options = (out) => ({
    ...pair, data, valData, out, lr: 3e-3, warmupSteps: 3, batchSize: 2, effectiveBatch: 4, maxSteps: 16, saveEvery: 3, evalEvery: 5, backend: 'cpu', progress: false,
  });
});

describe('resume after kill -9', () => {
  it('continues exactly: same loss curve and final weights as an uninterrupted run', async () => {
    await distill(options(join(root, 'reference')));

    const out = join(root, 'killed');
    const victim = run(args(out));
    const checkpoint = join(out, 'checkpoints', 'step-000006', 'trainer-state.json');
    let exited = false;
    void victim.done.then(() => (exited = true));
    while (!existsSync(checkpoint) && !exited) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(exited, `the run ended before it could be killed: ${victim.stderr()}`).toBe(false);
    victim.child.kill('SIGKILL');
    expect(await victim.done).toBe(null);
    const partial = readMetrics(join(out, 'metrics.jsonl')).filter((line) => line.kind === 'train');
    expect(partial.length).toBeLessThan(16);

    const resumed = run([...args(out), '--resume']);
    expect(await resumed.done, resumed.stderr()).toBe(0);
    expect(resumed.stderr()).toMatch(/resuming from .*step-0000\d\d \(step \d+ of 16\)/);

    const expected = readMetrics(join(root, 'reference', 'metrics.jsonl'));
    const got = readMetrics(join(out, 'metrics.jsonl'));
    const train = (lines: typeof got) => lines.filter((line): line is TrainMetrics => line.kind === 'train');
    const validation = (lines: typeof got) => lines.filter((line): line is ValidationMetrics => line.kind === 'validation');
    expect(train(got).map((line) => line.step)).toEqual(train(expected).map((line) => line.step));
    train(got).forEach((line, i) => {
      const ref = train(expected)[i];
      expect(Math.abs(line.loss - ref.loss)).toBeLessThanOrEqual(1e-5);
      expect(line.lr).toBe(ref.lr);
      expect(Math.abs(line.grad_norm - ref.grad_norm)).toBeLessThanOrEqual(1e-5);
    });
    expect(validation(got).map((line) => [line.step, line.val_loss])).toEqual(validation(expected).map((line) => [line.step, line.val_loss]));
    expect(readFileSync(join(out, 'final', 'model.safetensors')).equals(readFileSync(join(root, 'reference', 'final', 'model.safetensors')))).toBe(true);
  });

  it('refuses to resume with settings that change the trajectory', async () => {
    await expect(distill({ ...options(join(root, 'reference')), resume: true, lr: 1e-3 })).rejects.toThrow(/cannot resume from .*lr was 0.003, now 0.001/);
  });

  it('records the consistency pull only with the consistency term on, so runs without it resume whatever the pull', async () => {
    const small = (out: string) => ({ ...options(join(root, out)), maxSteps: 2, saveEvery: 1, evalEvery: 0 });
    await distill(small('no-consistency'));
    await expect(distill({ ...small('no-consistency'), resume: true, consistencyPull: 'counterfactual' })).resolves.toBeDefined();
    await distill({ ...small('consistency'), consistencyLoss: 1 });
    await expect(distill({ ...small('consistency'), consistencyLoss: 1, resume: true, consistencyPull: 'counterfactual' })).rejects.toThrow(/consistencyPull was "mutual", now "counterfactual"/);
  });
});
