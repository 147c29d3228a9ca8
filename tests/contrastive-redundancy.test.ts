import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getAttributionMethod, type PairInput, type ScoringInput } from '../lib/attribution/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { withReplayCache } from './helpers/replay-cache.ts';

/** Every shortened text the detector computes, and the models run forward alone on the unmodified texts (the loss functions pass through). */
const computed = vi.hoisted(() => ({ variants: new Map<unknown, string[]>(), unmodified: [] as unknown[] }));
vi.mock('../lib/attribution/loss.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../lib/attribution/loss.ts')>();
  const variantLosses: typeof original.variantLosses = (model, cache, sources, variants, padId, batchSize) => {
    computed.variants.set(model, [...(computed.variants.get(model) ?? []), ...variants.map((v) => v.input.ids.join(' '))]);
    return original.variantLosses(model, cache, sources, variants, padId, batchSize);
  };
  const cachedLosses: typeof original.cachedLosses = (model, inputs, padId) => {
    computed.unmodified.push(model);
    return original.cachedLosses(model, inputs, padId);
  };
  return { ...original, variantLosses, cachedLosses };
});

/**
 * Hand-built two-feature LMs (only what the loss path calls: embed, forwardHidden, createCache, headLogits, headRows).
 * Token 2 is the distractor, token 3 the text the teacher reads, token 1 the answer. Hidden state at
 * each position = a saturating count of one token over the prefix, so the student answers from ANY
 * copy of the distractor (removing one copy changes nothing) and the teacher only from token 3. With
 * copiesNeeded = 2 the student reads the distractor only where it sees two copies.
 * (The count runs over the last axis: tfjs's cumsum gradient is wrong on the others.)
 */
function toyModel(feature: 'distractor' | 'evidence', copiesNeeded = 1): CausalLM {
  const VOCAB = 8;
  const table = Array.from({ length: VOCAB }, (_, id) => [id === 2 ? 1 : 0, id === 3 ? 1 : 0]);
  const head = Array.from({ length: VOCAB }, (_, id) => (id === 1 ? (feature === 'distractor' ? [3, 0] : [0, 3]) : [0, 0]));
  const lmHeadWeight = tf.variable(tf.tensor2d(head));
  return {
    config: { vocabSize: VOCAB },
    embed: (ids: tf.Tensor2D) => tf.gather<tf.Tensor>(tf.tensor2d(table), ids) as tf.Tensor3D,
    ...withReplayCache((embeds) => ({ hidden: tf.minimum(tf.relu(tf.sub(tf.transpose(tf.cumsum(tf.transpose(embeds, [0, 2, 1]), 2), [0, 2, 1]), copiesNeeded - 1)), 1) as tf.Tensor3D })),
    lmHeadWeight,
    headLogits: (hidden: tf.Tensor2D) => tf.matMul(hidden, lmHeadWeight, false, true),
    headRows: (ids: tf.Tensor1D) => tf.gather(lmHeadWeight, ids),
  } as unknown as CausalLM;
}

type Unit = { kind: 'phrase' | 'word'; text?: string; tokens: number[] };

/** One sample whose last token is the answer, with every unit's occluded variant, the same for both models. */
function sampleWithUnits(ids: number[], units: Unit[], scored: number[]): ScoringInput {
  const without = (removed: number[]) => {
    const gone = new Set(removed.flatMap((u) => units[u].tokens));
    return { ids: ids.filter((_, i) => !gone.has(i)), targets: [ids.length - 1 - gone.size] };
  };
  return { ids, targets: [ids.length - 1], scored, occlusionUnits: units.map((u, k) => ({ ...u, variant: without([k]) })), without };
}

/** Contrastive scores of one sample; delta(t) = s_T − s_S (low = the student depends on t and the teacher does not). */
function contrastive(teacher: CausalLM, student: CausalLM, input: ScoringInput) {
  const pair: PairInput = { teacher: input, student: input };
  const result = getAttributionMethod('contrastive').scorePair!(teacher, student, [pair], { teacherPadId: 0, studentPadId: 0, batchSize: 4, igSteps: 1, igAggregate: 'l2' });
  return { student: result.student[0].scores, delta: (t: number) => result.teacher[0].scores[t] - result.student[0].scores[t] };
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

describe('contrastive detector with redundant copies of a distractor', () => {
  // bos, distractor, sep, evidence, sep, distractor, sep, filler, end | answer. The copies are the
  // two phrases, the evidence a word: every unit is a round-1 candidate.
  const ids = [5, 2, 4, 3, 4, 2, 4, 6, 7, 1];
  const units: Unit[] = [
    { kind: 'phrase', tokens: [1] },
    { kind: 'word', text: 'E', tokens: [3] },
    { kind: 'phrase', tokens: [5] },
  ];
  const input = sampleWithUnits(ids, units, [1, 2, 3, 4, 5, 6, 7, 8]);

  it('finds copies that each look harmless alone, and ranks tokens no unit covers below measured ones', () => {
    const { student, delta } = contrastive(toyModel('evidence'), toyModel('distractor'), input);
    const distractor = [1, 5];
    const uncovered = [2, 4, 6, 7, 8];
    for (const t of distractor) expect(student[t]).toBeGreaterThan(0.5);
    for (const t of distractor) for (const other of [3, ...uncovered]) expect(delta(t)).toBeLessThan(delta(other));
    for (const t of uncovered) expect(delta(t)).toBeGreaterThanOrEqual(delta(3));
  });

  it('computes each shortened text once per model, though the redundancy pair\'s put-backs repeat the single removals', () => {
    computed.variants.clear();
    const teacher = toyModel('evidence');
    const student = toyModel('distractor');
    contrastive(teacher, student, input);
    const texts = computed.variants.get(student)!;
    // Round 1 removes each unit alone; round 2 removes the two copies together and puts each back,
    // which is removing the other alone again: one new text.
    expect(texts).toHaveLength(4);
    expect(new Set(texts).size).toBe(texts.length);
    for (const model of [teacher, student]) expect(new Set(computed.variants.get(model) ?? []).size).toBe((computed.variants.get(model) ?? []).length);
  });

  it('takes the student\'s unmodified forward from its gradient pass, unless its layers are recomputed (same scores)', () => {
    const teacher = toyModel('evidence');
    const student = toyModel('distractor');
    computed.unmodified.length = 0;
    const fused = contrastive(teacher, student, input);
    expect(computed.unmodified).toEqual([teacher]);
    computed.unmodified.length = 0;
    student.recomputeLayers = true;
    const apart = contrastive(teacher, student, input);
    expect(computed.unmodified).toEqual([teacher, student]);
    expect([...apart.student]).toEqual([...fused.student]);
    for (let t = 0; t < ids.length; t++) expect(apart.delta(t)).toBe(fused.delta(t));
  });
});

describe('contrastive detector with a student that reads pairs of copies', () => {
  // bos, four filler phrases, three copies of the distractor, the evidence, end | answer. Each phrase
  // is one token (its only word); the fillers come first, so with the student's gradient flat (its
  // count is saturated) they are the candidates, and only the repeated word's copies reach the
  // distractor: any two of the three copies are enough for the student.
  const ids = [5, 6, 6, 6, 6, 2, 2, 3, 2, 7, 1];
  const phraseAt = [1, 2, 3, 4, 5, 6, 7, 8];
  const text = (t: number) => (ids[t] === 2 ? 'D' : ids[t] === 3 ? 'E' : `filler${t}`);
  const units = [
    ...phraseAt.map((t) => ({ kind: 'phrase' as const, text: `${text(t)} .`, tokens: [t] })),
    ...phraseAt.map((t) => ({ kind: 'word' as const, text: text(t), tokens: [t] })),
  ];
  const input = sampleWithUnits(ids, units, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('removes the copies all but one and credits every copy, though each alone and the redundancy round miss them', () => {
    const { student, delta } = contrastive(toyModel('evidence'), toyModel('distractor', 2), input);
    const copies = [5, 6, 8];
    for (const t of copies) expect(student[t]).toBeGreaterThan(0.5);
    for (const t of copies) for (const other of [1, 2, 3, 4, 7, 9]) expect(delta(t)).toBeLessThan(delta(other));
  });
});
