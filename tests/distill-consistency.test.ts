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

  it('is KL(p_S without the flagged spans ‖ p_S on the original), added with its weight', () => {
    const { vocab, rows } = encode([row([{ start: 3, end: 8 }]), row([])], true);
    const settings = { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0 };
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
    const settings = { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0, consistencyWeight: 1 };
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
});
