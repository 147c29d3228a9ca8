import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getAttributionMethod, type ScoringInput } from '../lib/attribution/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { withReplayCache } from './helpers/replay-cache.ts';

/**
 * Hand-built LM (only what the loss path calls, the cache replaying embeddings): hidden feature k at each position = whether token
 * `reads[k]` occurred in the prefix; the answer's logit is Σ weight_k · feature_k.
 */
function toyModel(reads: number[], weights: number[]): CausalLM {
  const VOCAB = 8;
  const table = Array.from({ length: VOCAB }, (_, id) => reads.map((r) => (id === r ? 1 : 0)));
  const lmHeadWeight = tf.variable(tf.tensor2d(Array.from({ length: VOCAB }, (_, id) => (id === 1 ? weights : weights.map(() => 0)))));
  return {
    config: { vocabSize: VOCAB },
    embed: (ids: tf.Tensor2D) => tf.gather<tf.Tensor>(tf.tensor2d(table), ids) as tf.Tensor3D,
    // The count runs over the last axis: tfjs's cumsum gradient is wrong on the others.
    ...withReplayCache((embeds) => ({ hidden: tf.minimum(tf.transpose(tf.cumsum(tf.transpose(embeds, [0, 2, 1]), 2), [0, 2, 1]), 1) as tf.Tensor3D })),
    lmHeadWeight,
    headLogits: (hidden: tf.Tensor2D) => tf.matMul(hidden, lmHeadWeight, false, true),
    headRows: (ids: tf.Tensor1D) => tf.gather(lmHeadWeight, ids),
  } as unknown as CausalLM;
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

describe('contrastive detector with a value inside a clause the teacher needs', () => {
  // bos, [value, evidence] (one phrase, two words), sep, [distractor] (a phrase and its word), sep, end | answer.
  // The teacher answers from the evidence; the student mostly from the value, a little from the distractor.
  const VALUE = 6;
  const EVIDENCE = 3;
  const DISTRACTOR = 2;
  const ids = [5, VALUE, EVIDENCE, 4, DISTRACTOR, 4, 7, 1];
  const units = [
    { kind: 'phrase' as const, text: 'V E', tokens: [1, 2] },
    { kind: 'phrase' as const, text: 'D', tokens: [4] },
    { kind: 'word' as const, text: 'V', tokens: [1] },
    { kind: 'word' as const, text: 'E', tokens: [2] },
    { kind: 'word' as const, text: 'D', tokens: [4] },
  ];
  const without = (removed: number[]) => {
    const gone = new Set(removed.flatMap((u) => units[u].tokens));
    return { ids: ids.filter((_, i) => !gone.has(i)), targets: [ids.length - 1 - gone.size] };
  };
  const input: ScoringInput = { ids, targets: [ids.length - 1], scored: [1, 2, 3, 4, 5, 6], occlusionUnits: units.map((u, k) => ({ ...u, variant: without([k]) })), without };

  it('does not rank the value above the distractor: the teacher needs the clause the value is read with', () => {
    const teacher = toyModel([EVIDENCE], [3]);
    const student = toyModel([DISTRACTOR, VALUE], [2, 4]);
    const result = getAttributionMethod('contrastive').scorePair!(teacher, student, [{ teacher: input, student: input }], { teacherPadId: 0, studentPadId: 0, batchSize: 4, igSteps: 1, igAggregate: 'l2' });
    const delta = (t: number) => result.teacher[0].scores[t] - result.student[0].scores[t];
    // The student does depend on the value more than on the distractor.
    expect(result.student[0].scores[1]).toBeGreaterThan(0);
    for (const other of [1, 2, 3, 5, 6]) expect(delta(4)).toBeLessThan(delta(other));
  });
});
