import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRows } from '../lib/distill/data/encode.ts';
import type { TrainingRow } from '../lib/distill/data/rows.ts';
import { accumulateMicroBatch, type StepContext } from '../lib/distill/step.ts';
import { LiveTeacher } from '../lib/distill/teacher/live.ts';
import { buildVocabMap } from '../lib/distill/vocab.ts';
import { getLoss, MASKED_LOGIT } from '../lib/distill/losses/index.ts';
import { loadModel } from '../lib/models/index.ts';
import { estimateTrainingMemory } from '../lib/runtime/memory.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../lib/text/index.ts';
import type { TextTokenizer } from '../lib/text/types.ts';
import { writeTinyPair } from './distill-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-consistency-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let teacher: CausalLM;
let student: CausalLM;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  const pair = writeTinyPair(root);
  [teacher, student] = [await loadModel(pair.teacher), await loadModel(pair.student, { trainable: true })];
  tokenizer = await loadTokenizer(pair.student);
});

// "ba ce di fo" with "ce di" flagged (user-message characters 3–8).
const row = (focus: { start: number; end: number }[]): TrainingRow => ({ id: 'r', sourceId: 'r', kind: 'original', instruction: 'ba ce di fo', input: '', output: 'ga he', answer: '', weight: 1, origin: 'test row 0', focus });

function encode(rows: TrainingRow[], withoutFocus: boolean) {
  const vocab = buildVocabMap({ label: 's', config: student.config, tokenizer }, { label: 't', config: teacher.config, tokenizer }, 'strict');
  return { vocab, rows: encodeRows(rows, { student: tokenizer, teacher: tokenizer }, vocab, 512, withoutFocus).rows };
}

/** The student's log-probabilities at the positions predicting the response tokens of `instruction` + "ga he". */
function responseLogProbs(instruction: string): number[][] {
  const chat = tokenizeChat(tokenizer, renderChat(tokenizer, instruction, 'ga he'));
  return tf.tidy(() => {
    const { logits } = student.forward(tf.tensor2d([chat.encoding.ids], undefined, 'int32'));
    const all = tf.logSoftmax(tf.squeeze(logits, [0]) as tf.Tensor2D).arraySync() as number[][];
    return [...chat.responseTokens, ...chat.responseEndTokens].map((i) => all[i - 1]);
  });
}

describe('counterfactual-consistency term', () => {
  it('encodes an original without its focus spans only when asked, with the same supervised tokens', () => {
    const [asked] = encode([row([{ start: 3, end: 8 }])], true).rows;
    const expected = tokenizeChat(tokenizer, renderChat(tokenizer, 'ba fo', 'ga he')).encoding.ids;
    expect(asked.withoutFocus!.ids).toEqual(expected);
    expect(asked.withoutFocus!.targets.map((t) => asked.withoutFocus!.ids[t])).toEqual(asked.student.targets.map((t) => asked.student.ids[t]));
    expect(encode([row([{ start: 3, end: 8 }])], false).rows[0].withoutFocus).toBeUndefined();
    expect(encode([row([])], true).rows[0].withoutFocus).toBeUndefined();
  });

  it('pulling toward the counterfactual, is KL(p_S without the flagged spans ‖ p_S on the original), added with its weight', () => {
    const { vocab, rows } = encode([row([{ start: 3, end: 8 }]), row([])], true);
    const settings = { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0, consistencyPull: 'counterfactual' as const };
    const ctx = (consistencyWeight: number): StepContext => ({ student, teacher: new LiveTeacher(teacher, vocab), settings: { ...settings, consistencyWeight } });
    const run = (weight: number) => {
      const accumulated = new Map<string, tf.Tensor>();
      const result = accumulateMicroBatch(ctx(weight), rows, 2, student.weights, accumulated);
      tf.dispose([...accumulated.values()]);
      return result;
    };
    const before = tf.memory().numTensors;
    const on = run(3);
    expect(tf.memory().numTensors).toBe(before);
    const off = run(0);
    const original = responseLogProbs('ba ce di fo');
    const shortened = responseLogProbs('ba fo');
    // Row 0's tokens share its 1/(tokens · rows in step); row 1 has no focus spans and adds nothing.
    const kl = shortened.reduce((sum, q, j) => sum + q.reduce((a, lq, v) => a + Math.exp(lq) * (lq - original[j][v]), 0), 0) / (shortened.length * 2);
    expect(on.terms.consistency).toBeCloseTo(kl, 5);
    expect(on.total).toBeCloseTo(off.total + 3 * kl, 5);
    expect(off.terms.consistency).toBeUndefined();
  });

  it('compares the two outputs over the vocabulary the KD term uses, so it moves no mass onto tokens outside it', () => {
    const { vocab, rows } = encode([row([{ start: 3, end: 8 }])], true);
    const shortened = responseLogProbs('ba fo');
    const original = responseLogProbs('ba ce di fo');
    // Mask every token below the median of the shortened output at the first position, keeping the supervised ones.
    const supervised = new Set(rows[0].student.targets.map((t) => rows[0].student.ids[t]));
    const median = [...shortened[0]].sort((a, b) => a - b)[shortened[0].length >> 1];
    const kept = shortened[0].map((lq, v) => supervised.has(v) || lq >= median);
    expect(kept.filter((k) => !k).length).toBeGreaterThan(0);
    const bias = tf.tensor1d(kept.map((k) => (k ? 0 : MASKED_LOGIT)));
    const settings = { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0, consistencyWeight: 1, consistencyPull: 'counterfactual' as const };
    const accumulated = new Map<string, tf.Tensor>();
    const result = accumulateMicroBatch({ student, teacher: new LiveTeacher(teacher, vocab), vocabBias: bias, settings }, rows, 1, student.weights, accumulated);
    tf.dispose([...accumulated.values(), bias]);
    const restricted = (lp: number[]) => {
      const norm = Math.log(lp.reduce((sum, l, v) => sum + (kept[v] ? Math.exp(l) : 0), 0));
      return lp.map((l, v) => (kept[v] ? l - norm : -Infinity));
    };
    const kl = shortened.reduce((sum, lp, j) => {
      const [q, p] = [restricted(lp), restricted(original[j])];
      return sum + q.reduce((a, lq, v) => (kept[v] ? a + Math.exp(lq) * (lq - p[v]) : a), 0);
    }, 0) / shortened.length;
    // Relative: the random tiny model's KL is small (~1e-4); over the whole vocabulary it is ~20 % off.
    expect(Math.abs(result.terms.consistency / kl - 1)).toBeLessThan(1e-3);
  });

  it('mutual: adds KL(p_S on the original ‖ p_S without the spans), whose gradient reaches the student through the shortened text', () => {
    const { vocab, rows } = encode([row([{ start: 3, end: 8 }]), row([])], true);
    const settings = { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0, consistencyWeight: 1 };
    const run = (consistencyPull: 'mutual' | 'counterfactual') => {
      const accumulated = new Map<string, tf.Tensor>();
      const result = accumulateMicroBatch({ student, teacher: new LiveTeacher(teacher, vocab), settings: { ...settings, consistencyPull } }, rows, 2, student.weights, accumulated);
      return { result, accumulated };
    };
    const before = tf.memory().numTensors;
    tf.dispose([...run('mutual').accumulated.values()]);
    expect(tf.memory().numTensors).toBe(before);
    const mutual = run('mutual');
    const toCounterfactual = run('counterfactual');
    const original = responseLogProbs('ba ce di fo');
    const shortened = responseLogProbs('ba fo');
    const kl = (p: number[][], q: number[][]) => p.reduce((sum, lp, j) => sum + lp.reduce((a, l, v) => a + Math.exp(l) * (l - q[j][v]), 0), 0) / (p.length * 2);
    expect(mutual.result.terms.consistency).toBeCloseTo(kl(shortened, original) + kl(original, shortened), 5);
    expect(toCounterfactual.result.terms.consistency).toBeCloseTo(kl(shortened, original), 5);
    // The gradients differ by that of the added KL alone, taken here through composed ops with the original's output a constant.
    const chat = tokenizeChat(tokenizer, renderChat(tokenizer, 'ba fo', 'ga he'));
    const positions = [...chat.responseTokens, ...chat.responseEndTokens].map((i) => i - 1);
    const target = tf.tensor2d(original);
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = student.forward(tf.tensor2d([chat.encoding.ids], undefined, 'int32'));
      const logQ = tf.gather(tf.logSoftmax(tf.squeeze(logits, [0]) as tf.Tensor2D), positions);
      return tf.div(tf.sum(tf.mul(tf.exp(target), tf.sub(target, logQ))), positions.length * 2) as tf.Scalar;
    }, [...student.weights.values()]);
    const names = new Map([...student.weights].map(([name, variable]) => [variable.name, name]));
    let largest = 0;
    for (const [variableName, expected] of Object.entries(grads)) {
      const name = names.get(variableName)!;
      largest = Math.max(largest, tf.tidy(() => {
        const difference = tf.sub(mutual.accumulated.get(name)!, toCounterfactual.accumulated.get(name)!);
        return tf.max(tf.abs(tf.sub(difference, expected))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(expected)).dataSync()[0]);
      }));
    }
    expect(Object.keys(grads).length).toBe(student.weights.size);
    expect(largest).toBeLessThan(1e-3);
    tf.dispose([value, target, ...Object.values(grads), ...mutual.accumulated.values(), ...toCounterfactual.accumulated.values()]);
  });

  it('is counted by the memory pre-flight: the shortened copies\' activations when they are trained, their logits when only forwarded', () => {
    const shape = { student: student.config, batchSize: 4, maxLength: 64 };
    const none = estimateTrainingMemory(shape);
    const trained = estimateTrainingMemory({ ...shape, shortenedCopies: 'trained' });
    const forwarded = estimateTrainingMemory({ ...shape, shortenedCopies: 'forwarded' });
    expect(trained.parts['activations of the shortened copies']).toBe(none.parts['student activations']);
    expect(forwarded.parts['logits of the shortened copies']).toBeGreaterThan(0);
    expect(forwarded.parts['logits of the shortened copies']).toBeLessThan(none.parts['student activations']);
    expect(none.total).toBeLessThan(forwarded.total);
    expect(forwarded.total).toBeLessThan(trained.total);
  });
});

