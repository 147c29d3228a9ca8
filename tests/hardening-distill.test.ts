import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { distill, readMetrics, type TrainMetrics } from '../lib/distill/index.ts';
import { readSafetensors, writeSafetensors } from '../lib/models/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { randomRows, writeJsonl, writeTinyPair } from './distill-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-distill-hardening-'));
let pair: { teacher: string; student: string };
let data: string;
const base = () => ({ ...pair, data, lr: 1e-3, batchSize: 4, maxSteps: 6, saveEvery: 1, keepCheckpoints: 1, backend: 'cpu' as const, progress: false });

/** A copy of `from` whose tensor `name` is changed by `edit`. */
function corruptCopy(from: string, to: string, name: string, edit: (data: Float32Array) => void): string {
  cpSync(from, to, { recursive: true });
  const path = join(to, 'model.safetensors');
  const tensors = [...readSafetensors(path).values()];
  edit(tensors.find((t) => t.name === name)!.data);
  writeSafetensors(path, tensors);
  return to;
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  pair = writeTinyPair(root);
  data = writeJsonl(join(root, 'train.jsonl'), randomRows(16, 1));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('distill hardening', () => {
  it('elapsed_s counts each second once, across checkpoints', async () => {
    const started = performance.now();
    await distill({ ...base(), out: join(root, 'timed') });
    const wall = (performance.now() - started) / 1000;
    const train = readMetrics(join(root, 'timed', 'metrics.jsonl')).filter((l): l is TrainMetrics => l.kind === 'train');
    expect(train).toHaveLength(6);
    expect(train.at(-1)!.elapsed_s).toBeLessThanOrEqual(wall);
    for (let i = 1; i < train.length; i++) expect(train[i].elapsed_s).toBeGreaterThanOrEqual(train[i - 1].elapsed_s);
  });

  it('--resume on a finished run says it is complete and changes nothing', async () => {
    const out = join(root, 'timed');
    const finalMtime = statSync(join(out, 'final', 'model.safetensors')).mtimeMs;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const result = await distill({ ...base(), out, resume: true });
      expect(result.steps).toBe(6);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/is complete \(step 6 of 6\): nothing to do/);
    } finally {
      stderr.mockRestore();
    }
    expect(statSync(join(out, 'final', 'model.safetensors')).mtimeMs).toBe(finalMtime);
  });

  it('trains from a corpus whose columns are named by the mapping flags', async () => {
    const renamed = writeJsonl(join(root, 'renamed.jsonl'), randomRows(16, 1).map(({ instruction, output, ...rest }) => ({ ...rest, prompt: instruction, completion: output })));
    const out = join(root, 'renamed');
    await expect(distill({ ...base(), data: renamed, out, maxSteps: 1 })).rejects.toThrow(/no record has the field "instruction" \(--instruction-field\)/);
    const result = await distill({ ...base(), data: renamed, out, maxSteps: 1, instructionField: 'prompt', responseField: 'completion' });
    expect(result.steps).toBe(1);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).settings.fieldMapping).toEqual({ instructionField: 'prompt', responseField: 'completion' });
  });

  it('names the weight tensor holding NaN', async () => {
    const student = corruptCopy(pair.student, join(root, 'nan-student'), 'model.layers.0.mlp.up_proj.weight', (d) => (d[5] = NaN));
    await expect(distill({ ...base(), student, out: join(root, 'nan') })).rejects.toThrow(
      /nan-student: weight "model\.layers\.0\.mlp\.up_proj\.weight" holds 1 NaN of \d+ values/,
    );
  });

  it('says which model\'s first logits overflow when the weights are finite', async () => {
    const student = corruptCopy(pair.student, join(root, 'huge-student'), 'lm_head.weight', (d) => d.fill(3e38));
    await expect(distill({ ...base(), student, out: join(root, 'huge') })).rejects.toThrow(/at step 1: the student's logits hold .* although its weights are finite/);
  });

  it('a failed run leaves no empty --out folder or metrics.jsonl behind', async () => {
    const out = join(root, 'failed');
    await expect(distill({ ...base(), out, maxLength: 2 })).rejects.toThrow(/no row left to train on/);
    expect(existsSync(out)).toBe(false);
    const student = corruptCopy(pair.student, join(root, 'huge-student-2'), 'lm_head.weight', (d) => d.fill(3e38));
    await expect(distill({ ...base(), student, out })).rejects.toThrow(/at step 1/);
    expect(existsSync(out)).toBe(false);
  });
});
