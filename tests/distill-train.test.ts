import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../lib/runtime/index.ts';
import { createRandomModel, loadModel } from '../lib/models/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../lib/text/index.ts';
import { distill, readMetrics, saveStudent, weightedRows, type TrainMetrics, type TrainingRow } from '../lib/distill/index.ts';
import type { PrunedRow } from '../lib/corpus/types.ts';
import { randomRows, STUDENT_SHAPE, TEACHER_SHAPE, writeJsonl, writeTinyModel, writeTinyPair, type CorpusRow } from './distill-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-distill-'));
let pair: { teacher: string; student: string };
let trainFile: string;
let heldOutFile: string;
const heldOut = randomRows(8, 2, 'v');

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  pair = writeTinyPair(root);
  trainFile = writeJsonl(join(root, 'train.jsonl'), randomRows(32, 1));
  heldOutFile = writeJsonl(join(root, 'heldout.jsonl'), heldOut);
});

/**
 * Mean over samples of the mean over supervised tokens of KL(p_T ‖ p_S), written from the
 * definition on full-sequence logits (logit i−1 predicts token i), independently of lib/distill.
 */
async function heldOutKl(teacherDir: string, studentDir: string, rows: CorpusRow[]): Promise<number> {
  const tokenizer = await loadTokenizer(studentDir);
  const [teacher, student] = [await loadModel(teacherDir), await loadModel(studentDir)];
  let sum = 0;
  for (const row of rows) {
    const chat = tokenizeChat(tokenizer, renderChat(tokenizer, row.instruction, row.output));
    const ids = tf.tensor2d([chat.encoding.ids], undefined, 'int32');
    const [t, s] = [teacher, student].map((m) => {
      const { logits } = m.forward(ids);
      const data = logits.arraySync()[0];
      logits.dispose();
      return data;
    });
    ids.dispose();
    const targets = [...chat.responseTokens, ...chat.responseEndTokens];
    let kl = 0;
    for (const i of targets) {
      const logSoftmax = (z: number[]) => {
        const m = Math.max(...z);
        const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
        return z.map((v) => v - lse);
      };
      const lp = logSoftmax(t[i - 1]);
      const lq = logSoftmax(s[i - 1]);
      kl += lp.reduce((a, v, j) => a + Math.exp(v) * (v - lq[j]), 0);
    }
    sum += kl / targets.length;
  }
  teacher.dispose();
  student.dispose();
  return sum / rows.length;
}

describe('distillation of a tiny student', () => {
  const out = () => join(root, 'run');
  const steps: TrainMetrics[] = [];
  const tensorsAfterStep: number[] = [];

  beforeAll(async () => {
    await distill(
      { ...pair, data: trainFile, valData: heldOutFile, out: out(), lr: 3e-3, schedule: 'constant', warmupSteps: 0, batchSize: 4, epochs: 5, saveEvery: 20, progress: false, backend: 'cpu' },
      { onStep: (line) => (steps.push(line), tensorsAfterStep.push(tf.memory().numTensors)) },
    );
  });

  it('lowers the KL to the teacher on held-out data', async () => {
    const before = await heldOutKl(pair.teacher, pair.student, heldOut);
    const after = await heldOutKl(pair.teacher, join(out(), 'final'), heldOut);
    // A 1-layer student cannot match a 2-layer random teacher on unseen text; a clear drop is the claim.
    expect(after).toBeLessThan(0.85 * before);
    // The validation loss of the run is the same quantity (forward KL, T = 1, uniform weights).
    const validation = readMetrics(join(out(), 'metrics.jsonl')).filter((line) => line.kind === 'validation');
    const last = validation[validation.length - 1];
    expect(last.kind === 'validation' && last.val_loss).toBeCloseTo(after, 3);
  });

  it('keeps tf.memory().numTensors flat across steps', () => {
    expect(steps).toHaveLength(40);
    expect(new Set(tensorsAfterStep).size).toBe(1);
  });

  it('writes metrics.jsonl lines with the documented fields', () => {
    const lines = readMetrics(join(out(), 'metrics.jsonl'));
    const train = lines.filter((line) => line.kind === 'train');
    expect(train.map((line) => line.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const line of train) {
      expect(Object.keys(line).sort()).toEqual(['elapsed_s', 'epoch', 'grad_norm', 'kind', 'loss', 'loss_terms', 'lr', 'step', 'tokens_per_s'].sort());
      expect(line.loss_terms.kd).toBeCloseTo(line.loss, 6);
    }
    // One validation per epoch (8 steps each), the best flagged.
    expect(lines.filter((line) => line.kind === 'validation').map((line) => line.step)).toEqual([8, 16, 24, 32, 40]);
  });

  it('saves checkpoints in HF layout with tokenizer files and resume state', () => {
    for (const dir of ['final', 'best', 'checkpoints/step-000040', 'checkpoints/step-000020']) {
      for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(out(), dir, file))).toBe(true);
    }
    expect(existsSync(join(out(), 'checkpoints/step-000040/optimizer.safetensors'))).toBe(true);
    const state = JSON.parse(readFileSync(join(out(), 'checkpoints/step-000040/trainer-state.json'), 'utf8'));
    expect(state.step).toBe(40);
    const config = JSON.parse(readFileSync(join(out(), 'final/config.json'), 'utf8'));
    expect(config.model_type).toBe('llama');
    expect(config.num_hidden_layers).toBe(STUDENT_SHAPE.layers);
  });
});

describe('options that add terms or metrics', () => {
  it('--attention-loss adds the attention term and --checker reports validation accuracy', async () => {
    const out = join(root, 'attention');
    const lines: TrainMetrics[] = [];
    await distill(
      { ...pair, data: trainFile, valData: heldOutFile, out, batchSize: 4, maxSteps: 2, attentionLoss: 0.5, attentionLayers: 1, checker: 'exact', maxNewTokens: 3, progress: false, backend: 'cpu' },
      { onStep: (line) => lines.push(line) },
    );
    for (const line of lines) expect(line.loss).toBeCloseTo(line.loss_terms.kd + 0.5 * line.loss_terms.attention, 5);
    expect(lines[0].loss_terms.attention).toBeGreaterThan(0);
    const validation = readMetrics(join(out, 'metrics.jsonl')).filter((line) => line.kind === 'validation');
    expect(validation).toHaveLength(1);
    expect(validation[0].kind === 'validation' && validation[0].val_accuracy).toBeGreaterThanOrEqual(0);
  });

  it('the memory estimate counts the parameters a model really has', async () => {
    const { parameterCount } = await import('../lib/runtime/memory.ts');
    const model = await loadModel(pair.teacher);
    const actual = [...model.weights.values()].reduce((sum, w) => sum + w.size, 0);
    expect(parameterCount(model.config)).toBe(actual);
    model.dispose();
  });
});

describe('pruned datasets', () => {
  it('reads `leaf prune` output with its weights; --kd-only keeps the originals', async () => {
    const { writeRows } = await import('../lib/corpus/rows.ts');
    const rows: PrunedRow[] = randomRows(6, 4).flatMap((sample) => {
      const original: PrunedRow = {
        id: sample.id, source_id: sample.id, kind: 'original', instruction: sample.instruction, input: '', output: sample.output, answer: sample.answer,
        removed_spans: [], removed_chars: 0, mode: 'span', level: 'instruction', rule: 'absolute(0.1)', threshold: 0.1, verified: null, weight: 0.5,
      };
      const cut = sample.instruction.indexOf(' ');
      const counterfactual: PrunedRow = {
        ...original, id: `${sample.id}-cf0`, kind: 'counterfactual', instruction: sample.instruction.slice(cut + 1),
        removed_spans: [{ start: 0, end: cut + 1, text: sample.instruction.slice(0, cut + 1) }], removed_chars: cut + 1,
      };
      return [original, counterfactual];
    });
    const file = join(root, 'pruned.arrow');
    await writeRows(file, rows, 'pruned');
    const common = { ...pair, data: file, batchSize: 4, epochs: 1, progress: false, backend: 'cpu' as const };
    await distill({ ...common, out: join(root, 'leaf') });
    await distill({ ...common, out: join(root, 'kd'), kdOnly: true });
    const counts = (dir: string) => JSON.parse(readFileSync(join(root, dir, 'run.json'), 'utf8')).rows;
    expect(counts('leaf')).toMatchObject({ train: 12, originals: 6, counterfactuals: 6 });
    expect(counts('kd')).toMatchObject({ train: 6, originals: 6, counterfactuals: 0 });
    // What each model was held in, and why (the cpu backend multiplies float32 only).
    expect(JSON.parse(readFileSync(join(root, 'leaf', 'run.json'), 'utf8'))).toMatchObject({
      held_dtype: { teacher: 'F32', student: 'F32' },
      hold: { teacher: 'this backend multiplies float32 weights only', student: 'trained: float32 for AdamW' },
    });
  });
});

describe('checkpoint round trip', () => {
  it('reloads with identical logits and HF tensor names', async () => {
    const model = createRandomModel({ modelType: 'llama', vocabSize: 57, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48 }, 5, { initStd: 0.2 });
    const dir = join(root, 'roundtrip');
    saveStudent(model, pair.student, dir);
    const again = await loadModel(dir);
    const ids = tf.tensor2d([[2, 9, 14, 20, 33, 41]], undefined, 'int32');
    const [a, b] = [model, again].map((m: CausalLM) => m.forward(ids).logits);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    const names = [...again.weights.keys()].sort();
    const expected = ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight'];
    for (let l = 0; l < 2; l++) {
      for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) expected.push(`model.layers.${l}.self_attn.${p}.weight`);
      for (const p of ['gate_proj', 'up_proj', 'down_proj']) expected.push(`model.layers.${l}.mlp.${p}.weight`);
      expected.push(`model.layers.${l}.input_layernorm.weight`, `model.layers.${l}.post_attention_layernorm.weight`);
    }
    expect(names).toEqual(expected.sort());
    // HF orientation: nn.Linear weights are [out, in].
    expect(again.weights.get('model.layers.0.mlp.up_proj.weight')!.shape).toEqual([48, 32]);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(true);
    tf.dispose([ids, a, b]);
    model.dispose();
    again.dispose();
  });
});

describe('teacher cache', () => {
  it('top-k KL from a cache with K = vocabulary equals the live forward KL', async () => {
    const common = { ...pair, data: trainFile, lr: 3e-3, schedule: 'constant', warmupSteps: 0, batchSize: 4, maxSteps: 4, progress: false, backend: 'cpu' as const, temperature: 2 };
    await distill({ ...common, out: join(root, 'live') });
    await distill({ ...common, out: join(root, 'cached'), cacheTeacher: 57 });
    const live = readMetrics(join(root, 'live/metrics.jsonl'));
    const cached = readMetrics(join(root, 'cached/metrics.jsonl'));
    expect(existsSync(join(root, 'cached/teacher-cache/header.json'))).toBe(true);
    live.forEach((line, i) => expect((cached[i] as TrainMetrics).loss).toBeCloseTo((line as TrainMetrics).loss, 4));
  });

  it('a smaller K still trains and refuses full-distribution losses', async () => {
    const common = { ...pair, data: trainFile, batchSize: 4, maxSteps: 2, progress: false, backend: 'cpu' as const };
    const result = await distill({ ...common, out: join(root, 'cached8'), cacheTeacher: 8 });
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    await expect(distill({ ...common, out: join(root, 'cached-rkl'), cacheTeacher: 8, loss: 'reverse-kl' })).rejects.toThrow(/needs the full teacher distribution/);
  });
});

describe('input checks', () => {
  const base = () => ({ data: trainFile, batchSize: 4, maxSteps: 1, progress: false, backend: 'cpu' as const });

  it('refuses a vocabulary mismatch unless --vocab-map intersect', async () => {
    const wide = writeTinyModel(join(root, 'wide-teacher'), { ...TEACHER_SHAPE, vocab: 64 }, 3, 0.5);
    await expect(distill({ ...base(), teacher: wide, student: pair.student, out: join(root, 'mismatch') })).rejects.toThrow(/vocabulary mismatch.*--vocab-map intersect/);
    const result = await distill({ ...base(), teacher: wide, student: pair.student, out: join(root, 'intersect'), vocabMap: 'intersect' });
    expect(Number.isFinite(result.lastLoss)).toBe(true);
  });

  it('names the sample whose response the two tokenizers split differently', async () => {
    // A teacher whose vocabulary lacks one word: the student's word is one token, the teacher's <unk>.
    const rows = randomRows(4, 9);
    const missing = rows[2].output.split(' ')[0];
    expect(rows.slice(0, 2).some((r) => `${r.instruction} ${r.output}`.split(' ').includes(missing))).toBe(false);
    const other = writeTinyModel(join(root, 'other-teacher'), TEACHER_SHAPE, 4, 0.5, [...new Set(randomRows(64, 1).flatMap((r) => `${r.instruction} ${r.output}`.split(' ')))].filter((w) => w !== missing).concat(['zz']));
    const data = writeJsonl(join(root, 'four.jsonl'), rows);
    await expect(distill({ ...base(), data, teacher: other, student: pair.student, out: join(root, 'tokdiff'), vocabMap: 'intersect' })).rejects.toThrow(/four.jsonl row 2 \(id 2\): teacher and student tokenise the response differently .*first difference at response token 0/);
  });

  it('refuses a run that would not fit in memory, before loading models', async () => {
    await expect(distill({ ...base(), ...pair, out: join(root, 'oom'), memoryLimitGb: 1e-4 })).rejects.toThrow(/not enough memory: training needs about .* Lower --batch-size/);
  });

  it('refuses to overwrite a finished run without --resume', async () => {
    await expect(distill({ ...base(), ...pair, out: join(root, 'run') })).rejects.toThrow(/already holds a distillation run; pass --resume/);
  });
});

describe('row weights', () => {
  const row = (id: string, sourceId: string, kind: TrainingRow['kind'], weight: number): TrainingRow =>
    ({ id, sourceId, kind, weight, instruction: 'x', input: '', output: 'y', answer: '', origin: id });
  const rows = [row('a', 'a', 'original', 0.5), row('a1', 'a', 'counterfactual', 0.25), row('a2', 'a', 'counterfactual', 0.25), row('b', 'b', 'original', 0.5)];

  it('keeps the data weights, scaled to mean 1', () => {
    expect(weightedRows(rows, {}).map((r) => r.weight)).toEqual([0.5 / 0.375, 0.25 / 0.375, 0.25 / 0.375, 0.5 / 0.375]);
  });

  it('--lambda gives originals λ and shares 1 − λ over each sample\'s counterfactuals', () => {
    const weights = weightedRows(rows, { lambda: 0.8 }).map((r) => r.weight);
    const raw = [0.8, 0.1, 0.1, 0.8];
    const mean = raw.reduce((a, b) => a + b) / raw.length;
    weights.forEach((w, i) => expect(w).toBeCloseTo(raw[i] / mean, 12));
  });

  it('--kd-only keeps originals with weight 1', () => {
    expect(weightedRows(rows, { kdOnly: true }).map((r) => [r.id, r.weight])).toEqual([['a', 1], ['b', 1]]);
  });
});
