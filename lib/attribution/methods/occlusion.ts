import { losses } from '../loss.ts';
import { registerAttributionMethod } from '../registry.ts';
import type { LossInput } from '../types.ts';

/**
 * The causal quantity the gradient approximates: |ℓ(sample without word w) − ℓ(sample)|, where a
 * word is a whitespace-delimited unit of an analysed region and the shortened sample is re-rendered
 * and re-tokenised. Every token overlapping the word gets the word's score (the largest, when a
 * token overlaps several); tokens overlapping no word (whitespace) get 0.
 */
registerAttributionMethod({
  name: 'occlusion',
  description: 'absolute change of the mean response NLL when one word of the region is removed',
  occlusionUnits: ['word'],
  score(model, inputs, { padId, batchSize }) {
    const units = inputs.map((input, b) => {
      if (!input.occlusionUnits) throw new Error(`occlusion: batch item ${b} was prepared without occlusion units`);
      return input.occlusionUnits;
    });
    const all: LossInput[] = [...inputs, ...units.flat().map((u) => u.variant)];
    const values = losses(model, all, padId, batchSize);
    let next = inputs.length;
    return inputs.map((input, b) => {
      const base = values[b];
      const scores = new Float32Array(input.ids.length);
      for (const unit of units[b]) {
        const score = Math.abs(values[next++] - base);
        for (const t of unit.tokens) scores[t] = Math.max(scores[t], score);
      }
      return { scores, loss: base };
    });
  },
});
