import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeLmExamples, trainLanguageModel } from '../lib/demo/index.ts';
import { createRandomModel, responseNll } from '../lib/models/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { buildWordLevelTokenizer, renderChat, tokenizerFromJson, tokenizeChat } from '../lib/text/index.ts';

const DIGITS = '0123456789'.split('');
const tokenizer = (() => {
  const files = buildWordLevelTokenizer(['first', 'of', ...DIGITS]);
  return tokenizerFromJson(files.tokenizerJson, files.tokenizerConfig);
})();

/** "first of 3 7 1" → "3": learnable by one attention step. Lengths vary so batches need padding. */
function samples(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const items = Array.from({ length: 2 + (i % 3) }, (_, k) => DIGITS[(i * 7 + k * 3) % 10]);
    return { instruction: `first of ${items.join(' ')}`, output: items[0] };
  });
}

const model = () =>
  createRandomModel({ modelType: 'llama', vocabSize: tokenizer.vocabSize, hiddenSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 64, eosTokenIds: tokenizer.eosTokenIds }, 5, { trainable: true });

const options = { batchSize: 8, lr: 1e-2, warmupSteps: 0, schedule: 'constant', weightDecay: 0, maxGradNorm: 1, seed: 3 };

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

describe('encodeLmExamples', () => {
  it('supervises the response and the closing tokens of the turn', () => {
    const [example] = encodeLmExamples(tokenizer, [{ instruction: 'first of 4 2', output: '4' }]);
    const chat = tokenizeChat(tokenizer, renderChat(tokenizer, 'first of 4 2', '4'));
    expect(example.ids).toEqual(chat.encoding.ids);
    expect(example.targets.map((t) => tokenizer.idToToken(example.ids[t]))).toEqual(['4', '<eos>']);
  });
});

describe('trainLanguageModel', () => {
  it('first step loss is the mean response NLL of the padded batch at the initial weights', () => {
    const examples = encodeLmExamples(tokenizer, samples(6));
    const m = model();
    // Independent reference: lib/models' responseNll, one unpadded sample at a time.
    const reference = examples.map((e) => responseNll(m, [e.ids], [e.ids.map((_, i) => (e.targets.includes(i) ? 1 : 0))])[0]);
    const [first] = trainLanguageModel(m, examples, tokenizer.padTokenId ?? 0, { ...options, batchSize: examples.length, steps: 1 });
    expect(first.loss).toBeCloseTo(reference.reduce((a, b) => a + b, 0) / reference.length, 5);
    m.dispose();
  });

  it('learns the task, deterministically, without leaking tensors', () => {
    const examples = encodeLmExamples(tokenizer, samples(64));
    const run = () => {
      const m = model();
      const counts: number[] = [];
      const history = trainLanguageModel(m, examples, tokenizer.padTokenId ?? 0, { ...options, steps: 80 }, () => counts.push(tf.memory().numTensors));
      m.dispose();
      return { history, counts };
    };
    const { history, counts } = run();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(history.slice(-10).map((h) => h.loss))).toBeLessThan(0.3 * mean(history.slice(0, 5).map((h) => h.loss)));
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(run().history.map((h) => h.loss)).toEqual(history.map((h) => h.loss));
  });

  it('refuses fewer examples than one batch', () => {
    const m = model();
    expect(() => trainLanguageModel(m, encodeLmExamples(tokenizer, samples(3)), 0, { ...options, steps: 1 })).toThrow(/fewer than one batch/);
    m.dispose();
  });
});
