import type { AttributionRow, Sample } from '../corpus/types.ts';
import { removeFromField, type PrunedFields } from './fields.ts';
import type { CandidateSpec, EligibleRegion, PruningMode } from './modes.ts';
import { placeRegions, type PlacedRegion, type RegionLayout } from './regions.ts';
import type { RemovedSpan } from './removal.ts';

export interface PlanSettings {
  mode: PruningMode;
  /** Spans with fewer non-whitespace characters (code points) are never removed. */
  minSpanChars: number;
  /** At most this many counterfactuals per sample: those whose removed spans have the lowest mean Δ. */
  maxPerSample?: number;
}

export interface BuiltCounterfactual {
  /** 1-based position among the sample's candidates before --max-per-sample; names the row, so it is stable. */
  key: number;
  spec: CandidateSpec;
  fields: PrunedFields;
  /** In the pruned field's coordinates (see fields.ts). */
  removed: RemovedSpan[];
  /** Σ (end − start) over `removed`, in UTF-16 code units like the offsets. */
  removedChars: number;
}

/** What pruning makes of one sample, before any verification. */
export interface SamplePlan {
  sample: Sample;
  /** Its attribution rows placed in its fields; empty when the sample was not analysed. */
  regions: PlacedRegion[];
  /** Flagged spans in its rows. */
  spans: number;
  /** Of those, shorter than --min-span-chars. */
  shortSpans: number;
  /** Candidates left out by --max-per-sample. */
  capped: number;
  /** Candidates left out because they would leave the instruction (or response) without text. */
  emptied: number;
  counterfactuals: BuiltCounterfactual[];
}

const nonSpaceChars = (text: string) => [...text].filter((char) => !/\s/.test(char)).length;

function eligibleRegions(regions: PlacedRegion[], minSpanChars: number): EligibleRegion[] {
  return regions.map((region) => ({
    region,
    spans: region.row.spans
      .map((span, i) => ({ ...region.spans[i], strength: region.strengths[i], chars: nonSpaceChars(region.row.text.slice(span.start, span.end)) }))
      .filter((span) => span.chars >= minSpanChars)
      .map(({ start, end, strength }) => ({ start, end, strength })),
  }));
}

function capped<T extends { key: number; spec: CandidateSpec }>(candidates: T[], maxPerSample: number | undefined): T[] {
  if (maxPerSample === undefined || candidates.length <= maxPerSample) return candidates;
  return [...candidates]
    .sort((a, b) => a.spec.strength - b.spec.strength || a.key - b.key)
    .slice(0, maxPerSample)
    .sort((a, b) => a.key - b.key);
}

/**
 * The counterfactuals of one sample: its attribution rows checked against the data and placed,
 * spans filtered, the mode's candidates capped, and each candidate's text rebuilt from the
 * original field by character spans.
 */
export function planSample(sample: Sample, rows: readonly AttributionRow[], layout: RegionLayout, settings: PlanSettings, source: string): SamplePlan {
  const regions = placeRegions(sample, rows, layout, source);
  const eligible = eligibleRegions(regions, settings.minSpanChars);
  const spans = regions.reduce((sum, region) => sum + region.spans.length, 0);
  const candidates = settings.mode.candidates(eligible).map((spec, i) => ({ key: i + 1, spec }));
  const kept = capped(candidates, settings.maxPerSample);
  const plan: SamplePlan = {
    sample,
    regions,
    spans,
    shortSpans: spans - eligible.reduce((sum, region) => sum + region.spans.length, 0),
    capped: candidates.length - kept.length,
    emptied: 0,
    counterfactuals: [],
  };
  for (const { key, spec } of kept) {
    const { fields, removed } = removeFromField(sample, spec.region.field, spec.spans);
    if (fields.instruction.trim() === '' || fields.output.trim() === '') {
      plan.emptied++;
      continue;
    }
    plan.counterfactuals.push({ key, spec, fields, removed, removedChars: removed.reduce((sum, span) => sum + span.end - span.start, 0) });
  }
  return plan;
}
