import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { plantedTokenLabels, reflag, scoreAsDelta, SHIPPED, tokenAttention } from '../lib/demo/index.ts';
import { regionAttentionMass } from '../lib/eval/index.ts';
import { loadModel } from '../lib/models/index.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import type { SynthSample } from '../lib/synth/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import type { TextTokenizer } from '../lib/text/types.ts';

/** A row over the whitespace words of `text` (the student's word-level tokens on synth text). */
function row(sample: SynthSample, delta?: number[]): AttributionRow {
  const words = [...sample.instruction.matchAll(/\S+/g)];
  const zeros = words.map(() => 0);
  return {
    id: sample.id, region: 'instruction', text: sample.instruction, tokens: words.map((m) => m[0]),
    char_start: words.map((m) => m.index!), char_end: words.map((m) => m.index! + m[0].length),
    teacher_score: zeros, student_score: zeros, teacher_norm: zeros, student_norm: zeros, delta: delta ?? zeros,
    flagged: words.map(() => false), spans: [], teacher_loss: 0, student_loss: 0, threshold: 0,
  };
}

const samples = readFileSync(join(SHIPPED.corpus, 'test.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 5).map((l) => JSON.parse(l) as SynthSample);
let model: CausalLM;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  model = await loadModel(SHIPPED.student);
  tokenizer = await loadTokenizer(SHIPPED.student);
});

describe('tokenAttention (attention-weight baseline)', () => {
  it('sums to lib/eval\'s region and flagged attention masses', () => {
    for (const sample of samples) {
      const scores = tokenAttention(model, tokenizer, row(sample), sample.output);
      const planted = plantedTokenLabels(row(sample), sample.distractor_spans);
      const mass = regionAttentionMass(model, tokenizer, { id: sample.id, instruction: sample.instruction, input: '', output: sample.output }, { ...row(sample), spans: sample.distractor_spans });
      expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(mass.regionMass, 5);
      expect(scores.reduce((a, b, i) => a + (planted[i] ? b : 0), 0)).toBeCloseTo(mass.flaggedMass, 5);
    }
  });
});

describe('reflag', () => {
  it('flags the p-quantile of Δ and merges adjacent flags into spans', () => {
    const sample = samples[0];
    const n = row(sample).tokens.length;
    // Δ rises with the token index: with p = 0 only the first token is at or below τ.
    const flagged = reflag(row(sample, Array.from({ length: n }, (_, i) => i / n)), 'percentile:p=0,cap=0.5');
    expect(flagged.flagged).toEqual([true, ...new Array(n - 1).fill(false)]);
    expect(flagged.spans).toEqual([{ start: 0, end: row(sample).char_end[0] }]);
    // τ = the (n−1)·p-th order statistic with linear interpolation: p = 2/(n−1) → τ = Δ[2] → three tokens, one span.
    const three = reflag(row(sample, Array.from({ length: n }, (_, i) => i / n)), `percentile:p=${2 / (n - 1)},cap=0.5`);
    expect(three.flagged.filter(Boolean)).toHaveLength(3);
    expect(three.spans).toEqual([{ start: 0, end: row(sample).char_end[2] }]);
  });

  it('turns a baseline score into a Δ where high score = low Δ', () => {
    expect(Array.from(scoreAsDelta([2, 4, 3]))).toEqual([1, 0, 0.5]);
  });
});
