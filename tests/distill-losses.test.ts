import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../lib/runtime/index.ts';
import { getLoss, listLosses, MASKED_LOGIT, type LossInputs } from '../lib/distill/losses/index.ts';
import { distillationObjective, tokenCoefficients } from '../lib/distill/objective.ts';
import { selectRows } from '../lib/distill/select.ts';
import { predictingPositions } from '../lib/distill/data/positions.ts';

// Hand references in float64, written out from the definitions (no tfjs involved).
const softmax = (z: number[], t = 1) => {
  const s = z.map((v) => v / t);
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};
const kl = (p: number[], q: number[]) => p.reduce((acc, pi, i) => acc + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);

const values = (t: tf.Tensor) => Array.from(t.dataSync());

function perToken(name: string, inputs: Partial<LossInputs> & { studentLogits: tf.Tensor2D }): number[] {
  return tf.tidy(() => values(getLoss(name).perToken({ temperature: 1, beta: 0.5, ...inputs })));
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

describe('distillation losses', () => {
  const student = [
    [0, 0, 0],
    [1, -1, 0.5],
  ];
  const teacher = [
    [0, Math.log(3), -50],
    [2, 0, -1],
  ];
  const s = () => tf.tensor2d(student);
  const t = () => ({ kind: 'full' as const, logits: tf.tensor2d(teacher) });

  it('registers one loss per file', () => {
    expect(listLosses().sort()).toEqual(['cross-entropy', 'focus-attention', 'forward-kl', 'jsd', 'reverse-kl', 'topk-kl']);
  });

  it('forward KL matches a hand computation', () => {
    // Row 0 by hand: p ≈ [1/4, 3/4, 0], q = [1/3, 1/3, 1/3] → KL = 1/4·ln(3/4) + 3/4·ln(9/4).
    const byHand = 0.25 * Math.log(0.75) + 0.75 * Math.log(9 / 4);
    const got = perToken('forward-kl', { studentLogits: s(), teacher: t() });
    expect(got[0]).toBeCloseTo(byHand, 5);
    expect(got[1]).toBeCloseTo(kl(softmax(teacher[1]), softmax(student[1])), 5);
  });

  it('forward KL\'s fused gradient equals the gradient of the loss composed from tfjs ops', async () => {
    const { klRows, logProbsAt } = await import('../lib/distill/losses/log-probs.ts');
    const temperature = 1.7;
    const teacherLogits = tf.tensor2d([[0.3, -1, 2, 0.5], [1, 1, -2, 0]]);
    const bias = tf.tensor1d([0, 0, MASKED_LOGIT, 0]);
    const upstream = tf.tensor1d([0.7, -0.2]);
    const loss = (fused: boolean) => (s: tf.Tensor) => {
      const perRow = fused
        ? getLoss('forward-kl').perToken({ studentLogits: s as tf.Tensor2D, teacher: { kind: 'full', logits: teacherLogits }, vocabBias: bias, temperature, beta: 0.5 })
        : tf.mul(klRows(logProbsAt(teacherLogits, temperature, bias), logProbsAt(s as tf.Tensor2D, temperature, bias)), temperature ** 2);
      return tf.sum(tf.mul(perRow, upstream));
    };
    const s = tf.tensor2d([[1, 0, 0.5, -0.5], [0.2, -0.3, 0.1, 2]]);
    const fused = values(tf.grad(loss(true))(s));
    const composed = values(tf.grad(loss(false))(s));
    fused.forEach((g, i) => expect(g).toBeCloseTo(composed[i], 5));
    expect(values(loss(true)(s))[0]).toBeCloseTo(values(loss(false)(s))[0], 5);
  });

  it('reverse KL swaps the arguments', () => {
    const got = perToken('reverse-kl', { studentLogits: s(), teacher: t() });
    for (let i = 0; i < 2; i++) expect(got[i]).toBeCloseTo(kl(softmax(student[i]), softmax(teacher[i])), 4);
  });

  it('temperature divides logits and multiplies the loss by T²', () => {
    const temperature = 2.5;
    const fwd = perToken('forward-kl', { studentLogits: s(), teacher: t(), temperature });
    const rev = perToken('reverse-kl', { studentLogits: s(), teacher: t(), temperature });
    for (let i = 0; i < 2; i++) {
      const p = softmax(teacher[i], temperature);
      const q = softmax(student[i], temperature);
      expect(fwd[i]).toBeCloseTo(temperature ** 2 * kl(p, q), 4);
      expect(rev[i]).toBeCloseTo(temperature ** 2 * kl(q, p), 4);
    }
  });

  it('generalised JSD with mixture m = β·p_T + (1−β)·p_S', () => {
    for (const beta of [0.5, 0.1, 0.9]) {
      const got = perToken('jsd', { studentLogits: s(), teacher: t(), beta, temperature: 2 });
      for (let i = 0; i < 2; i++) {
        const p = softmax(teacher[i], 2);
        const q = softmax(student[i], 2);
        const m = p.map((pi, j) => beta * pi + (1 - beta) * q[j]);
        expect(got[i]).toBeCloseTo(4 * (beta * kl(p, m) + (1 - beta) * kl(q, m)), 4);
      }
    }
    expect(() => perToken('jsd', { studentLogits: s(), teacher: t(), beta: 0 })).toThrow(/beta/);
  });

  it('cross-entropy is the NLL of the target token', () => {
    const got = perToken('cross-entropy', { studentLogits: s(), targets: tf.tensor1d([1, 0], 'int32') });
    expect(got[0]).toBeCloseTo(Math.log(3), 5);
    expect(got[1]).toBeCloseTo(-Math.log(softmax(student[1])[0]), 5);
  });

  it('top-k KL equals forward KL when K covers the vocabulary, and uses a tail bucket otherwise', () => {
    const temperature = 1.5;
    const topk = (k: number) => {
      const rows = teacher.map((z) => {
        const p = softmax(z, temperature);
        const order = p.map((_, j) => j).sort((a, b) => p[b] - p[a]).slice(0, k);
        const tail = 1 - order.reduce((acc, j) => acc + p[j], 0);
        return { order, logp: order.map((j) => Math.log(p[j])), tail: Math.log(Math.max(tail, 1e-300)) };
      });
      return {
        kind: 'topk' as const,
        ids: tf.tensor2d(rows.map((r) => r.order), undefined, 'int32'),
        logProbs: tf.tensor2d(rows.map((r) => r.logp)),
        tailLogMass: tf.tensor1d(rows.map((r) => Math.max(r.tail, MASKED_LOGIT))),
      };
    };
    const full = perToken('forward-kl', { studentLogits: s(), teacher: t(), temperature });
    const all = perToken('topk-kl', { studentLogits: s(), teacher: topk(3), temperature });
    for (let i = 0; i < 2; i++) expect(all[i]).toBeCloseTo(full[i], 4);
    const one = perToken('topk-kl', { studentLogits: s(), teacher: topk(1), temperature });
    for (let i = 0; i < 2; i++) {
      const p = softmax(teacher[i], temperature);
      const q = softmax(student[i], temperature);
      const top = p.indexOf(Math.max(...p));
      const byHand = kl([p[top], 1 - p[top]], [q[top], 1 - q[top]]);
      expect(one[i]).toBeCloseTo(temperature ** 2 * byHand, 4);
    }
  });

  it('a vocabulary bias renormalises both distributions over the shared columns', () => {
    const bias = tf.tensor1d([0, MASKED_LOGIT, 0]);
    const got = perToken('forward-kl', { studentLogits: s(), teacher: t(), vocabBias: bias });
    for (let i = 0; i < 2; i++) {
      const p = softmax([teacher[i][0], teacher[i][2]]);
      const q = softmax([student[i][0], student[i][2]]);
      expect(got[i]).toBeCloseTo(kl(p, q), 5);
    }
  });

  it('full-distribution losses refuse a top-k cache', () => {
    const cache = { kind: 'topk' as const, ids: tf.tensor2d([[0]], undefined, 'int32'), logProbs: tf.tensor2d([[0]]), tailLogMass: tf.tensor1d([MASKED_LOGIT]) };
    expect(() => perToken('reverse-kl', { studentLogits: tf.tensor2d([[0, 1]]), teacher: cache })).toThrow(/topk-kl/);
  });
});

describe('objective', () => {
  it('averages per sample, then weights rows and averages over the step (λ weighting)', () => {
    // Two rows: an original (λ = 0.7) with 2 supervised tokens, a counterfactual (1 − λ) with 1.
    const perTokenLoss = [0.2, 0.4, 1.0];
    const coefficients = tokenCoefficients([{ weight: 0.7, tokens: 2 }, { weight: 0.3, tokens: 1 }], 2);
    const byHand = (0.7 * ((0.2 + 0.4) / 2) + 0.3 * 1.0) / 2;
    const stub = { name: 'stub', description: '', teacher: 'none' as const, perToken: () => tf.tensor1d(perTokenLoss) };
    const got = tf.tidy(() => distillationObjective({ studentLogits: tf.zeros([3, 2]) as tf.Tensor2D, temperature: 1, beta: 0.5 }, tf.tensor1d(coefficients), { loss: stub, ceWeight: 0 }).total.dataSync()[0]);
    expect(got).toBeCloseTo(byHand, 6);
  });

  it('mixes CE convexly with --ce-weight', () => {
    const studentLogits = () => tf.tensor2d([[0, 0, 0]]);
    const teacher = { kind: 'full' as const, logits: tf.tensor2d([[0, Math.log(3), -50]]) };
    const targets = tf.tensor1d([1], 'int32');
    const result = tf.tidy(() => {
      const { total, terms } = distillationObjective({ studentLogits: studentLogits(), teacher, targets, temperature: 1, beta: 0.5 }, tf.tensor1d([1]), { loss: getLoss('forward-kl'), ceWeight: 0.25 });
      return [total.dataSync()[0], terms.kd.dataSync()[0], terms.ce.dataSync()[0]];
    });
    const kdByHand = 0.25 * Math.log(0.75) + 0.75 * Math.log(9 / 4);
    expect(result[1]).toBeCloseTo(kdByHand, 5);
    expect(result[2]).toBeCloseTo(Math.log(3), 5);
    expect(result[0]).toBeCloseTo(0.75 * kdByHand + 0.25 * Math.log(3), 5);
  });
});

describe('shifted mask', () => {
  it('scores token i at the logit of position i − 1', () => {
    expect(predictingPositions([3, 4, 5], 'row')).toEqual([2, 3, 4]);
    expect(() => predictingPositions([0, 1], 'row 7')).toThrow(/row 7/);
  });

  it('selects the predicting rows with a scatter gradient equal to gather\'s', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const idx = tf.tensor1d([2, 0], 'int32');
    const weights = tf.tensor2d([[1, -1], [0.5, 2]]);
    const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(selectRows(v as tf.Tensor2D, idx), weights)))(x);
    const stock = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, idx), weights)))(x);
    expect(values(selectRows(x, idx))).toEqual([5, 6, 1, 2]);
    expect(values(ours)).toEqual(values(stock));
  });
});

describe('attention alignment term', () => {
  it('is KL between the region-renormalised teacher and student attention, columns paired token by token', async () => {
    const { attentionAlignmentPerToken } = await import('../lib/distill/attention/loss.ts');
    const side = (ids: number[], instructionTokens: number[], targets: number[]) => ({ ids, instructionTokens, targets });
    const rows = [{
      index: 0,
      row: { id: 'a', sourceId: 'a', kind: 'original' as const, instruction: '', input: '', output: '', answer: '', weight: 1, origin: 'a' },
      // Student region at columns 1, 2; the teacher's template adds a token, so its region is at 2, 3.
      student: side([5, 6, 7, 8], [1, 2], [3]),
      teacher: side([9, 5, 6, 7, 8], [2, 3], [4]),
    }];
    const got = tf.tidy(() => values(attentionAlignmentPerToken(tf.tensor2d([[0.1, 0.2, 0.3, 0.4]]), tf.tensor2d([[0.2, 0.2, 0.3, 0.1, 0.2]]), rows)));
    const p = [0.75, 0.25];
    const q = [0.4, 0.6];
    expect(got[0]).toBeCloseTo(kl(p, q), 5);
  });
});

describe('focus term', () => {
  const side = (ids: number[], instructionTokens: number[], targets: number[], focusTokens: number[]) => ({ ids, instructionTokens, targets, focusTokens });
  const row = (focus: boolean) => ({
    index: 0,
    row: { id: 'a', sourceId: 'a', kind: 'original' as const, instruction: '', input: '', output: '', answer: '', weight: 1, origin: 'a' },
    // The tokenizers differ: the teacher splits the flagged word in two (columns 2, 3), the student does not (column 2).
    student: side([5, 6, 7, 8], [1, 2], [3], focus ? [2] : []),
    teacher: side([9, 5, 6, 7, 8, 4], [1, 2, 3], [5], focus ? [2, 3] : []),
  });
  const bernoulliKl = (p: number, q: number) => p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));

  it('is the Bernoulli KL between the teacher\'s and the student\'s instruction-attention share on the flagged tokens', async () => {
    const { focusInputs } = await import('../lib/distill/attention/focus.ts');
    const teacherAttention = tf.tensor2d([[0.1, 0.1, 0.2, 0.1, 0.3, 0.2]]);
    const got = tf.tidy(() => {
      const focus = focusInputs(tf.tensor2d([[0.1, 0.2, 0.6, 0.1]]), teacherAttention, [row(true)]);
      return values(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus }));
    });
    // Teacher: (0.2 + 0.1) / (0.1 + 0.2 + 0.1) = 0.75 on its two tokens; student: 0.6 / 0.8 = 0.75 → 0.
    expect(got[0]).toBeCloseTo(0, 5);
    const moved = tf.tidy(() => values(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus: focusInputs(tf.tensor2d([[0.1, 0.6, 0.2, 0.1]]), teacherAttention, [row(true)]) })));
    expect(moved[0]).toBeCloseTo(bernoulliKl(0.75, 0.25), 4);
    const none = tf.tidy(() => values(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus: focusInputs(tf.tensor2d([[0.1, 0.6, 0.2, 0.1]]), teacherAttention, [row(false)]) })));
    expect(none[0]).toBe(0);
    teacherAttention.dispose();
  });

  it('its gradient moves the student\'s share toward the teacher\'s', async () => {
    const { focusInputs } = await import('../lib/distill/attention/focus.ts');
    const teacherAttention = tf.tensor2d([[0.1, 0.1, 0.2, 0.1, 0.3, 0.2]]);
    const logits = tf.tensor2d([[0, 2, 0, 0]]);
    const grad = tf.tidy(() =>
      tf.grad((l: tf.Tensor) => tf.sum(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus: focusInputs(tf.softmax(l) as tf.Tensor2D, teacherAttention, [row(true)]) })))(logits),
    );
    const g = values(grad);
    // Share on column 2 is below the teacher's 0.75: descending the gradient raises column 2 and lowers column 1.
    expect(g[2]).toBeLessThan(0);
    expect(g[1]).toBeGreaterThan(0);
    tf.dispose([grad, logits, teacherAttention]);
  });

  it('with target zero, pulls the student\'s share on the flagged tokens down whatever the teacher\'s share', async () => {
    const { focusInputs } = await import('../lib/distill/attention/focus.ts');
    const teacherAttention = tf.tensor2d([[0.1, 0.1, 0.2, 0.1, 0.3, 0.2]]);
    const got = tf.tidy(() => values(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus: focusInputs(tf.tensor2d([[0.1, 0.2, 0.6, 0.1]]), teacherAttention, [row(true)], 'zero') })));
    // Student share 0.75 (the teacher's too): against a target of 0 (clipped to 1e-6) the KL is −log(1 − 0.75), not 0.
    expect(got[0]).toBeCloseTo(-Math.log(0.25), 3);
    const logits = tf.tensor2d([[0, 0, 2, 0]]);
    const grad = tf.tidy(() =>
      tf.grad((l: tf.Tensor) => tf.sum(getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5, focus: focusInputs(tf.softmax(l) as tf.Tensor2D, teacherAttention, [row(true)], 'zero') })))(logits),
    );
    expect(values(grad)[2]).toBeGreaterThan(0);
    tf.dispose([grad, logits, teacherAttention]);
  });

  it('cannot be the distillation loss itself', () => {
    expect(() => getLoss('focus-attention').perToken({ studentLogits: tf.zeros([1, 3]), temperature: 1, beta: 0.5 })).toThrow(/auxiliary/);
  });
});
