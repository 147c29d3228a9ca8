import { describe, expect, it } from 'vitest';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { auroc, detectionQuality, plantedTokenLabels, precisionRecall, spanOnPlanted, spansByDelta } from '../lib/demo/index.ts';
import type { SynthSample } from '../lib/synth/index.ts';

/** An attribution row over whitespace tokens of `text`, with the given Δ per token and flags Δ <= threshold. */
function row(id: string, text: string, delta: number[], threshold: number): AttributionRow {
  const words = [...text.matchAll(/\S+/g)];
  const flagged = delta.map((d) => d <= threshold);
  const spans: { start: number; end: number }[] = [];
  words.forEach((m, i) => {
    if (!flagged[i]) return;
    const end = m.index! + m[0].length;
    if (i > 0 && flagged[i - 1]) spans[spans.length - 1].end = end;
    else spans.push({ start: m.index!, end });
  });
  const zeros = words.map(() => 0);
  return {
    id, region: 'instruction', text, tokens: words.map((m) => m[0]), char_start: words.map((m) => m.index!), char_end: words.map((m) => m.index! + m[0].length),
    teacher_score: zeros, student_score: zeros, teacher_norm: zeros, student_norm: zeros, delta, flagged, spans, teacher_loss: 1, student_loss: 1, threshold,
  };
}

function sample(id: string, instruction: string, distractor: string): SynthSample {
  const start = instruction.indexOf(distractor);
  return {
    id, instruction, output: '5', answer: '5', distractor_spans: start < 0 ? [] : [{ start, end: start + distractor.length }],
    distractor_text: start < 0 ? '' : distractor, distractor_value: start < 0 ? '' : '5', split: 'test', template: 'kv-lookup', distractor_kind: start < 0 ? 'none' : 'hint',
  };
}

describe('auroc', () => {
  it('is 1 for perfect ranking, 0 for reversed, 0.5 for all ties', () => {
    expect(auroc([0.9, 0.8, 0.1, 0.2], [true, true, false, false])).toBe(1);
    expect(auroc([0.1, 0.2, 0.9, 0.8], [true, true, false, false])).toBe(0);
    expect(auroc([1, 1, 1, 1], [true, false, true, false])).toBe(0.5);
  });

  it('matches the pair count by hand', () => {
    // positives 0.6, 0.3; negatives 0.5, 0.3, 0.1: pairs won 0.6>0.5, 0.6>0.3, 0.6>0.1, 0.3=0.3 (half), 0.3>0.1 → 4.5 of 6.
    expect(auroc([0.6, 0.5, 0.3, 0.3, 0.1], [true, false, true, false, false])).toBeCloseTo(4.5 / 6, 12);
  });

  it('is null when a class is empty', () => {
    expect(auroc([0.1, 0.2], [true, true])).toBeNull();
  });
});

describe('precisionRecall', () => {
  it('counts flagged positives', () => {
    expect(precisionRecall([true, true, false, false], [true, false, true, false])).toEqual({ precision: 0.5, recall: 0.5, flagged: 2, positives: 2 });
    expect(precisionRecall([false, false], [true, false]).precision).toBeNull();
  });
});

describe('planted spans', () => {
  const text = 'a is 3 , b is 5 . hint : 5 . then b is ?';
  const s = sample('x', text, 'hint : 5 .');

  it('labels the tokens that overlap the distractor', () => {
    // tokens: a is 3 , b is 5 . | hint : 5 . | then b is ?
    const r = row('x', text, new Array(16).fill(0.5), 0);
    expect(plantedTokenLabels(r, s.distractor_spans)).toEqual([...new Array(8).fill(false), true, true, true, true, false, false, false, false]);
  });

  it('a span lies on the distractor when most of its characters do', () => {
    const start = text.indexOf('hint');
    expect(spanOnPlanted(text, { start, end: start + 6 }, s.distractor_spans)).toBe(true);
    // ". hint" : "." (1 char) outside, "hint" (4) inside → on it.
    expect(spanOnPlanted(text, { start: start - 2, end: start + 4 }, s.distractor_spans)).toBe(true);
    // "b is 5 . hint": 6 of 9 non-space characters outside.
    const b = text.indexOf('b is 5');
    expect(spanOnPlanted(text, { start: b, end: start + 4 }, s.distractor_spans)).toBe(false);
  });

  it('orders spans by mean delta and scores detection', () => {
    // 16 tokens; "hint : 5 ." are 8..11.
    const delta = [0.9, 0.9, 0.05, 0.9, 0.9, 0.9, 0.9, 0.9, 0.02, 0.03, 0.01, 0.9, 0.9, 0.9, 0.9, 0.9];
    const r = row('x', text, delta, 0.05);
    const spans = spansByDelta(r);
    expect(spans.map((x) => text.slice(x.span.start, x.span.end))).toEqual(['hint : 5', '3']);
    const clean = sample('y', 'a is 1 . then a is ?', 'absent');
    const quality = detectionQuality([r, row('y', clean.instruction, [0, 0, 0, 0, 0, 0, 0, 0], 0)], [s, clean]);
    // Only the sample with a distractor counts. Flagged: "3" (wrong), "hint" ":" "5" (right); distractor tokens: hint : 5 .
    expect(quality.samples).toBe(1);
    expect(quality.precision).toBeCloseTo(3 / 4, 12);
    expect(quality.recall).toBeCloseTo(3 / 4, 12);
    expect(quality.topSpanOnDistractor).toBe(1);
    // By hand, with −Δ: "hint" ":" "5" beat all 12 other tokens (36 pairs); "." (Δ 0.9) ties with the 11 other 0.9s
    // (5.5) and loses to "3" (Δ 0.05). (36 + 5.5) / (4 · 12).
    expect(quality.tokenAuroc).toBeCloseTo(41.5 / 48, 12);
  });

  it('refuses rows whose text is not the sample instruction', () => {
    expect(() => detectionQuality([row('x', 'other text', [0, 0], 0)], [s])).toThrow(/not the sample's instruction/);
  });
});
