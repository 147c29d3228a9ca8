import type { AttributionRow } from '../corpus/types.ts';
import type { SynthSample } from '../synth/index.ts';
import { auroc, plantedTokenLabels, precisionRecall, spanOnPlanted, spansByDelta } from './detection.ts';

export interface DetectionQuality {
  /** Analysed instruction regions of samples that carry a distractor. */
  samples: number;
  /** Pooled over their tokens: AUROC of −Δ (low Δ = confounder) for "token lies on the distractor". */
  tokenAuroc: number | null;
  /** Of the flagged tokens, the share on the distractor; of the distractor's tokens, the share flagged. */
  precision: number | null;
  recall: number | null;
  /** Samples whose most confounder-like flagged span (lowest mean Δ) lies on the distractor, of those with a span. */
  topSpanOnDistractor: number | null;
  samplesWithSpans: number;
}

/** Pairs each attribution row with its synth sample (by id) and checks the row analysed the instruction as stored. */
export function plantedPairs(rows: readonly AttributionRow[], samples: readonly SynthSample[]): { row: AttributionRow; sample: SynthSample }[] {
  const byId = new Map(samples.map((s) => [s.id, s]));
  return rows
    .filter((row) => row.region === 'instruction')
    .map((row) => {
      const sample = byId.get(row.id);
      if (!sample) throw new Error(`attribution row "${row.id}" matches no synth sample (analyse with --id-field id)`);
      if (row.text !== sample.instruction) throw new Error(`attribution row "${row.id}": its text is not the sample's instruction, so the planted spans do not apply`);
      return { row, sample };
    })
    .filter(({ sample }) => sample.distractor_spans.length > 0);
}

/** How well an analysis's Δ and flags find the planted distractors. */
export function detectionQuality(rows: readonly AttributionRow[], samples: readonly SynthSample[]): DetectionQuality {
  const pairs = plantedPairs(rows, samples);
  const scores: number[] = [];
  const labels: boolean[] = [];
  const flags: boolean[] = [];
  let withSpans = 0;
  let hits = 0;
  for (const { row, sample } of pairs) {
    const truth = plantedTokenLabels(row, sample.distractor_spans);
    row.delta.forEach((d, i) => {
      scores.push(-d);
      labels.push(truth[i]);
      flags.push(row.flagged[i]);
    });
    const top = spansByDelta(row)[0];
    if (top) {
      withSpans++;
      if (spanOnPlanted(row.text, top.span, sample.distractor_spans)) hits++;
    }
  }
  const { precision, recall } = precisionRecall(flags, labels);
  return {
    samples: pairs.length,
    tokenAuroc: auroc(scores, labels),
    precision,
    recall,
    topSpanOnDistractor: withSpans ? hits / withSpans : null,
    samplesWithSpans: withSpans,
  };
}
